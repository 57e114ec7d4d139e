"""Fragment or page: the one decision every htmx-aware view makes the same way."""

from typing import Any

from flask import Response, make_response, render_template, request


def is_fragment_request() -> bool:
    """True for an htmx request that swaps part of a page (a history restore wants the page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """Render `fragment` for htmx and `page` otherwise, saying so to caches."""
    template = fragment if is_fragment_request() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response

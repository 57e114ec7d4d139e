"""What a request body may hold before any view reads it: JSON only where JSON is expected,
within a size and a nesting depth, an object at the top, text that every database can store;
and form or query text without NUL or other control characters.

Checked once, before the view, so that no view meets a RecursionError, an array where it wants
an object, a lone surrogate it cannot encode, or a NUL byte PostgreSQL refuses.
"""

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

#: A JSON body larger than this is refused before parsing (passkey answers are a few KiB).
JSON_MAX_BYTES = 64 * 1024
#: Deeper than this is no body the app sends; RecursionError starts near 1,000.
JSON_MAX_DEPTH = 20
#: A batch of the outbox's items (each one still within JSON_MAX_BYTES): the phone splits a
#: longer queue into several batches.
BATCH_MAX_BYTES = 1024 * 1024
#: What a batch adds around an item's body: {"items": [{"body": ...}]}.
BATCH_DEPTH = 3

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Control characters other than tab, line feed and carriage return: no one types them, and
# PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")

F = TypeVar("F", bound=Callable[..., Any])


def takes_json(view: F) -> F:
    """Marks a view that reads a JSON body; every other write refuses one (415)."""
    view.takes_json = True  # type: ignore[attr-defined]
    return view


def takes_json_batch(view: F) -> F:
    """A view that reads a batch of JSON bodies (POST /api/batch): the whole within
    BATCH_MAX_BYTES and its nesting, and each item's body then checked by the view itself with
    `check_json`, as if it had come alone, so that one unstorable note refuses only its item."""
    view.takes_json = True  # type: ignore[attr-defined]
    view.json_max_bytes = BATCH_MAX_BYTES  # type: ignore[attr-defined]
    view.json_max_depth = JSON_MAX_DEPTH + BATCH_DEPTH  # type: ignore[attr-defined]
    view.json_items = True  # type: ignore[attr-defined]
    return view


def takes_ceremony_json(view: F) -> F:
    """A passkey ceremony step: a body it refuses is a 400 with only an "error", the answer
    its page script reads for every malformed request."""
    view.takes_json = True  # type: ignore[attr-defined]
    view.json_refusal_status = 400  # type: ignore[attr-defined]
    return view


class BodyRefused(Exception):
    def __init__(self, status: int, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.field = field


def without_controls(text: str) -> str:
    """The text without control characters (tab and line breaks stay)."""
    return _CONTROL.sub("", text)


def storable(text: str) -> bool:
    """True when every backend can store the text: no control characters (tab and line breaks
    apart) and no lone surrogate, which has no UTF-8 form."""
    if _CONTROL.search(text):
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json(
    raw: bytes,
    *,
    max_bytes: int = JSON_MAX_BYTES,
    max_depth: int = JSON_MAX_DEPTH,
    strings: bool = True,
) -> object:
    """The parsed body, or BodyRefused: too large, too deep, not JSON, not an object, or (when
    `strings`) text that cannot be stored."""
    if len(raw) > max_bytes:
        raise BodyRefused(413, _l("That was too much to send at once. Shorten the text."))
    if _depth(raw) > max_depth:
        raise BodyRefused(422, _l("Send the entry as a flat JSON object."))
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BodyRefused(422, _l("The request was not readable JSON.")) from None
    if not isinstance(data, dict):
        raise BodyRefused(422, _l("Send the entry as a JSON object."))
    if not strings:
        return data
    for key, value in data.items():
        if not _all_storable(key) or not _all_storable(value):
            field = key if storable(key) else "?"
            message = _l("%(field)s holds a character that cannot be stored.", field=field)
            raise BodyRefused(422, message, field=field)
    return data


def _depth(raw: bytes) -> int:
    # Brackets inside strings do not nest: drop the strings, then count (no recursion).
    deepest = depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _all_storable(value: object) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not storable(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _is_json(content_type: str) -> bool:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or mimetype.endswith("+json")


def _cleaned(values: MultiDict[str, str]) -> ImmutableMultiDict[str, str] | None:
    """`values` without control characters, or None when there were none (the common case)."""
    if not any(_CONTROL.search(key) or _CONTROL.search(v) for key, v in values.items(multi=True)):
        return None
    return ImmutableMultiDict(
        [(without_controls(key), without_controls(v)) for key, v in values.items(multi=True)]
    )


def guard_body() -> Response | tuple[Response, int] | None:
    """Before every view: refuse what no view should have to handle, clean what it can."""
    cleaned_args = _cleaned(request.args)
    if cleaned_args is not None:
        request.args = cleaned_args  # type: ignore[misc]
    if request.method in SAFE_METHODS or request.routing_exception is not None:
        return None  # an unknown path or method answers its 404 or 405 whatever it carried
    view = current_app.view_functions.get(request.endpoint or "")
    wants_json = bool(getattr(view, "takes_json", False))
    try:
        if wants_json:
            max_bytes = getattr(view, "json_max_bytes", JSON_MAX_BYTES)
            if max_bytes > JSON_MAX_BYTES:
                request.max_content_length = max_bytes
            raw = request.get_data(cache=True)
            if raw.strip():
                check_json(
                    raw,
                    max_bytes=max_bytes,
                    max_depth=getattr(view, "json_max_depth", JSON_MAX_DEPTH),
                    strings=not getattr(view, "json_items", False),
                )
        elif _is_json(request.content_type or ""):
            raise BodyRefused(415, _l("This form takes form fields, not JSON."))
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            cleaned = _cleaned(request.form)
            if cleaned is not None:
                request.form = cleaned  # type: ignore[misc]
    except BodyRefused as refused:
        status = getattr(view, "json_refusal_status", None)
        if status is not None:
            return jsonify(error=str(refused.message)), status
        body = {"error": str(refused.message), "code": "body"}
        if refused.field:
            body["field"] = refused.field
        return jsonify(body), refused.status
    return None


def register(app: Flask) -> None:
    app.before_request(guard_body)

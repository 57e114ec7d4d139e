"""Access-table rows of the operations routes: the readiness probe answers everyone."""

from flask import url_for

from tests.access import Route, everyone

ROUTES: dict[str, Route] = {
    "core.readyz": Route("GET", lambda ids: url_for("core.readyz"), everyone(200)),
}

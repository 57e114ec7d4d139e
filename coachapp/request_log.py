"""One log line per request, for operators: what was asked, of which route, how it went, how fast.

Only the method, the route's rule (`/api/sessions/<int:session_id>/end`, never the URL with its
ids, tokens or query string), the status, the duration and the signed-in user's id. Never
observation text, names or tokens. Logger `coachapp.requests`; COACHAPP_LOG_FORMAT picks `json`
(the default under gunicorn), `text`, or `off` (the default elsewhere, e.g. `flask run`, tests).
"""

import json
import logging
import sys
import time

from flask import Flask, g, request
from werkzeug.wrappers import Response

LOGGER_NAME = "coachapp.requests"
FORMATS = ("json", "text", "off")
log = logging.getLogger(LOGGER_NAME)


def default_format() -> str:
    """JSON lines under gunicorn, where logs go to a collector; nothing in a developer's shell."""
    return "json" if "gunicorn.arbiter" in sys.modules else "off"


class _LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes the message alone: each line is already the whole record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(logging.Formatter("%(message)s"))


def register(app: Flask) -> None:
    chosen = (app.config.get("LOG_FORMAT") or default_format()).lower()
    if chosen not in FORMATS:
        raise ValueError(f"COACHAPP_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {chosen}")
    if chosen == "off":
        return
    if not any(isinstance(h, _LineHandler) for h in log.handlers):
        log.addHandler(_LineHandler())
    log.setLevel(logging.INFO)
    log.propagate = False

    @app.before_request
    def _start_clock() -> None:
        g._request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        log.info(_line(chosen, response))
        return response


def record(response: Response) -> dict[str, object]:
    started = g.get("_request_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    # Flask-Login keeps the user it loaded in g; asking current_user here would load one just
    # to log it (a query on every anonymous request that carries a cookie).
    user = g.get("_login_user")
    # known_id: the commit has expired the user by now, and logging must not load it again.
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    user_id = user.known_id if authenticated else None
    return {
        "method": request.method,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round(duration, 1) if duration is not None else None,
        "user_id": user_id,
    }


def _line(chosen: str, response: Response) -> str:
    entry = record(response)
    if chosen == "json":
        return json.dumps(entry, separators=(",", ":"))
    return (
        f"{entry['method']} {entry['route'] or '-'} {entry['status']} "
        f"{entry['duration_ms']}ms user={entry['user_id'] or '-'}"
    )

"""Refused requests, so that probing shows: each 404 (the scope rule answers it too), 403 and
refused CSRF token goes to the app's log, and many from one person or address in a short time
leave a "requests.refused" event in the audit log.

Cheap by design: nothing runs for an answered request, a refusal costs one counter increment in
the rate-limit storage (memory or Redis), and only the refusal that crosses the threshold writes
to the database, on a connection of its own (the request's own unit of work stays untouched).
"""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request, session
from limits.storage import MemoryStorage, Storage, storage_from_string

from coachapp.clients import client_address, client_agent
from coachapp.extensions import db
from coachapp.models import AuditEvent
from coachapp.parsing import parse_id

log = logging.getLogger("coachapp.refused")

#: This many refusals from one person (or, signed out, one address) within the window ...
THRESHOLD = 20
WINDOW_SECONDS = 10 * 60
REFUSED = frozenset({403, 404})
EXTENSION = "coachapp.refusals"


class Counter:
    """Refusals per person or address in the current window, in the rate limits' storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def hit(self, key: str) -> int:
        return int(self.storage.incr(f"refused/{key}", WINDOW_SECONDS))

    def forget(self) -> None:
        """Start again from zero (tests); only for a storage of this process's own."""
        if isinstance(self.storage, MemoryStorage):
            self.storage.reset()


def note_reason(reason: str) -> None:
    """Say why the coming refusal happens ("csrf", "origin"); the default is its status."""
    g.refusal_reason = reason


def _reason(status: int) -> str | None:
    reason = g.get("refusal_reason")
    if reason:
        return str(reason)
    if status == 404:
        return "not found" if request.url_rule is not None else "no route"
    return "forbidden" if status in REFUSED else None


def after_request(response: Response) -> Response:
    if response.status_code not in REFUSED and not g.get("refusal_reason"):
        return response
    reason = _reason(response.status_code)
    if reason is None:
        return response
    # Whom Flask-Login already loaded, or whom the cookie names: never a query of its own.
    user = g.get("_login_user")
    user_id = getattr(user, "known_id", None) or session.get("_user_id")
    address = client_address()
    rule = request.url_rule.rule if request.url_rule is not None else "-"
    # The rule, not the path: a path can hold a token. Never the body.
    log.info(
        "refused %s %s status=%s reason=%s user=%s address=%s",
        request.method,
        rule,
        response.status_code,
        reason,
        user_id or "-",
        address or "-",
    )
    key = f"user/{user_id}" if user_id else f"address/{address}"
    try:
        seen = current_app.extensions[EXTENSION].hit(key)
    except Exception:  # a counter that does not answer must not turn a 404 into a 500
        log.warning("refusal counter unavailable")
        return response
    if seen == THRESHOLD:
        _record(user_id, address, seen)
    return response


def _record(user_id: object, address: str, seen: int) -> None:
    values = {
        "at": datetime.now(UTC),
        "action": "requests.refused",
        "actor_id": parse_id(user_id),
        "details": f"{seen} in {WINDOW_SECONDS // 60} min",
        "address": address,
        "user_agent": client_agent(),
    }
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.insert(AuditEvent).values(**values))
    except sa.exc.SQLAlchemyError:
        log.exception("could not record repeated refusals")


def register(app: Flask) -> None:
    uri = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    storage = MemoryStorage() if uri.startswith("memory://") else storage_from_string(uri)
    app.extensions[EXTENSION] = Counter(storage)
    app.after_request(after_request)

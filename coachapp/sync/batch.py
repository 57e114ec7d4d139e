"""POST /api/batch: the outbox's waiting items in one round trip, each applied as if sent alone.

A batch is many requests in one, not one write: each item is its own unit of work and commits on
its own (the view it names is the same view, with the same `@commits`), so one refused item
leaves the others stored, and a replayed batch stores nothing twice (each item is idempotent on
its own UUID). The signed-in person and the CSRF token are checked once, for the batch, by the
blueprint; the body limits are those of a single write, per item (coachapp.bodies).

Items apply in order. An item that names a session or an entry an earlier item of the batch
failed to store is not tried: it answers 424 and names that item. A session the server already
had open with that agent (a start answers another UUID) is used by the later items, as the
outbox itself would rewrite them. A 5xx stops the batch: the items after it are not tried and
have no answer, so the phone sends them again, in order.
"""

import json
import uuid
from typing import Any

from flask import Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from coachapp.bodies import BodyRefused, check_json, takes_json_batch
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.sync import views
from coachapp.sync.openapi import MAX_ITEMS
from coachapp.sync.service import Invalid

#: The writes a batch may carry: every write of this API, none of its reads.
WRITES = frozenset(
    {
        "sync.start_session",
        "sync.add_observation",
        "sync.change_observation",
        "sync.remove_observation",
        "sync.record_outcome",
        "sync.end_session",
    }
)
#: The `g` name of the number of units of work a request committed by design (one per item).
UNITS = "units_of_work"


@views.bp.post("/batch")
@takes_json_batch
def batch() -> Response:
    """Apply the outbox's items in order, each in its own transaction; answer each one's own
    status and body, as if it had been sent alone."""
    items = _items(request.get_json(silent=True))
    session = db.session()
    expire_on_commit = session.expire_on_commit
    # Each item commits; what one item loaded is expired below, except the signed-in person,
    # who stays loaded for the whole batch (loaded once, not once per item).
    session.expire_on_commit = False
    results: list[bytes] = []
    failed: dict[uuid.UUID, int] = {}
    aliases: dict[uuid.UUID, uuid.UUID] = {}
    try:
        for index, item in enumerate(items):
            status, body = _apply(index, item, failed, aliases)
            results.append(b'{"status":%d,"body":%s}' % (status, body.strip()))
            setattr(g, UNITS, g.get(UNITS, 0) + 1)
            if status >= 500:
                break
            _forget_all_but(current_user._get_current_object())
    finally:
        session.expire_on_commit = expire_on_commit
    return Response(b'{"results":[' + b",".join(results) + b"]}", 200, mimetype="application/json")


def _items(payload: object) -> list[dict[str, Any]]:
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise Invalid(_l("Send the waiting items as a list."), field="items")
    if len(items) > MAX_ITEMS:
        raise Invalid(_l("Send at most %(count)d items at once.", count=MAX_ITEMS), field="items")
    return items


def _apply(
    index: int,
    item: object,
    failed: dict[uuid.UUID, int],
    aliases: dict[uuid.UUID, uuid.UUID],
) -> tuple[int, bytes]:
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        return _problem(422, _l("Each item needs a method, a url and a body."), "items")
    method = str(item.get("method", "")).upper()
    try:
        endpoint, args = _route(item["url"], method)
    except (NotFound, MethodNotAllowed):
        return _answer(views.http_error(NotFound()))
    body = item.get("body")
    named = [value for value in args.values() if isinstance(value, uuid.UUID)]
    own = _own_uuid(body)
    for name, value in list(args.items()):
        if isinstance(value, uuid.UUID) and value in aliases:
            args[name] = aliases[value]
    blocking = next((failed[u] for u in named if u in failed), None)
    if blocking is not None:
        if own is not None:
            failed[own] = index
        return _dependency(blocking)
    status, answer = _dispatch(endpoint, args, body)
    if (
        status >= 300
        and own is not None
        and endpoint
        in {
            "sync.start_session",
            "sync.add_observation",
        }
    ):
        failed[own] = index
    if endpoint == "sync.start_session" and status < 300 and own is not None:
        given = json.loads(answer)["session"]["client_uuid"]
        if given != str(own):
            aliases[own] = uuid.UUID(given)
    return status, answer


def _route(url: str, method: str) -> tuple[str, dict[str, Any]]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    endpoint, args = adapter.match(url.split("?", 1)[0], method=method)
    if endpoint not in WRITES:
        raise NotFound()
    return endpoint, dict(args)


def _own_uuid(body: object) -> uuid.UUID | None:
    raw = body.get("client_uuid") if isinstance(body, dict) else None
    try:
        return uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _dispatch(endpoint: str, args: dict[str, Any], body: object) -> tuple[int, bytes]:
    """Run the item through the same view, checks and refusals as the single write."""
    if body is not None:
        try:
            body = check_json(json.dumps(body).encode())
        except BodyRefused as refused:
            return _problem(refused.status, refused.message, refused.field, code="body")
    setattr(g, views.BATCH_ITEM, (body,))
    try:
        return _answer(current_app.view_functions[endpoint](**args))
    except DomainError as error:
        return _answer(views.refused(error))
    except HTTPException as error:
        return _answer(views.http_error(error))
    except Exception as error:  # noqa: BLE001 - answered as the single write answers it
        return _answer(views.unexpected(error))
    finally:
        setattr(g, views.BATCH_ITEM, None)


def _answer(answer: tuple[Response, int]) -> tuple[int, bytes]:
    response, status = answer
    return status, response.get_data()


def _problem(
    status: int, message: Any, field: str | None, *, code: str | None = None
) -> tuple[int, bytes]:
    return _answer(views.problem(status, message, code=code, field=field))


def _dependency(index: int) -> tuple[int, bytes]:
    response, status = views.problem(
        424,
        _l("Not sent: it belongs to an item above that was not saved. Fix that one first."),
        code="dependency",
    )
    body = json.loads(response.get_data())
    body["depends_on"] = index
    return 424, json.dumps(body, separators=(",", ":")).encode()


def _forget_all_but(user: object) -> None:
    """The next item reads afresh what this one loaded (another request may change it), while
    the signed-in person stays loaded."""
    for instance in list(db.session.identity_map.values()):
        if instance is not user:
            db.session.expire(instance)

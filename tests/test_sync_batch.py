"""POST /api/batch: the outbox's waiting items in one request, each answered exactly as if it had
been sent alone, each in its own transaction, in order; a refusal stops only what depends on it."""

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import FocusItem, Observation, ShadowSession, User
from tests.conftest import Auth, FrozenClock, World, make_session
from tests.test_sync_api import call, count, entry
from tests.test_sync_statements import statements


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World, frozen_clock: FrozenClock) -> User:
    """Maria signed in on her phone, the clock frozen at Monday 2 March 2026, 10:00 UTC."""
    auth.login(world.manager_maria)
    return world.manager_maria


def item(method: str, url: str, body: Any = None) -> dict[str, Any]:
    return {"method": method, "url": url, "body": body}


def a_shift(world: World, session: str | None = None) -> list[dict[str, Any]]:
    """What a phone in a basement queues: a start, three entries, a change, a removal, an end."""
    session = session or str(uuid.uuid4())
    entries = [
        entry(behaviour_id=world.behaviours[0].id),
        entry(kind="correction", behaviour_id=world.behaviours[1].id, note=""),
        entry(kind="obstacle", note="The CRM froze."),
    ]
    return [
        item("POST", "/api/sessions", {"client_uuid": session, "agent_id": world.agent_alex.id}),
        *[item("POST", f"/api/sessions/{session}/observations", e) for e in entries],
        item(
            "PUT",
            f"/api/observations/{entries[0]['client_uuid']}",
            {"kind": "strength", "note": "Warm."},
        ),
        item("DELETE", f"/api/observations/{entries[2]['client_uuid']}"),
        item("POST", f"/api/sessions/{session}/end", {"summary_note": "Good shift."}),
    ]


def batch(client: FlaskClient, items: list[dict[str, Any]], **kwargs: Any) -> Any:
    return call(client, "POST", "/api/batch", {"items": items}, **kwargs)


def one_by_one(client: FlaskClient, items: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    return [
        (answer.status_code, answer.json)
        for answer in (call(client, i["method"], i["url"], i["body"]) for i in items)
    ]


def results(answer: Any) -> list[tuple[int, Any]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [(r["status"], r["body"]) for r in answer.json["results"]]


def test_each_item_answers_what_it_would_answer_alone(
    app: Flask, client: FlaskClient, maria: User, world: World
):
    alone = one_by_one(client, a_shift(world))
    shift = a_shift(world)
    together = results(batch(client, shift[:4]))
    assert count(Observation) == 2 + 3 and count(FocusItem) == 1  # the second correction slips
    # The replay of each, alone, answers what the batch answered (200 for the first 201).
    replayed = one_by_one(client, shift[:4])
    assert [body for _, body in replayed] == [body for _, body in together]
    assert [status for status, _ in replayed] == [200, 200, 200, 200]
    together += results(batch(client, shift[4:]))
    assert [status for status, _ in together] == [status for status, _ in alone]
    assert [status for status, _ in together] == [201, 201, 201, 201, 200, 200, 200]
    assert count(Observation) == 4 and count(ShadowSession) == 2


def test_a_replayed_batch_stores_nothing_twice(client: FlaskClient, maria: User, world: World):
    shift = a_shift(world)[:4]
    first = results(batch(client, shift))
    again = results(batch(client, shift))
    assert [body for _, body in again] == [body for _, body in first]
    assert [status for status, _ in again] == [200, 200, 200, 200]
    assert count(ShadowSession) == 1 and count(Observation) == 3


def test_a_refusal_in_the_middle_stops_nothing_after_it(
    client: FlaskClient, maria: User, world: World
):
    session = make_session(world.manager_maria, world.agent_alex)
    url = f"/api/sessions/{session.client_uuid}/observations"
    items = [
        item("POST", url, entry(note="First.")),
        item("POST", url, entry(kind="obstacle", note="")),  # an obstacle needs words
        item("POST", url, entry(behaviour_id=world.foreign_behaviour.id)),
        item("POST", url, entry(note="Last.")),
    ]
    answered = results(batch(client, items))
    assert [status for status, _ in answered] == [201, 422, 422, 201]
    assert answered[1][1] == {"error": "Say in a few words what gets in the way.", "field": "note"}
    assert count(Observation) == 2


def test_entries_of_a_refused_start_name_it(client: FlaskClient, maria: User, world: World):
    session = str(uuid.uuid4())
    added = entry()
    items = [
        # Bo is in Mo's team: not Maria's to shadow.
        item("POST", "/api/sessions", {"client_uuid": session, "agent_id": world.agent_bo.id}),
        item("POST", f"/api/sessions/{session}/observations", added),
        item("PUT", f"/api/observations/{added['client_uuid']}", {"kind": "strength", "note": "x"}),
        item("POST", f"/api/sessions/{session}/end", {}),
        item(
            "POST",
            "/api/sessions",
            {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id},
        ),
    ]
    answered = results(batch(client, items))
    assert [status for status, _ in answered] == [404, 424, 424, 424, 201]
    assert answered[1][1]["code"] == "dependency" and answered[1][1]["depends_on"] == 0
    assert answered[2][1]["depends_on"] == 1  # the entry it changes was not stored either
    assert count(ShadowSession) == 1 and count(Observation) == 0


def test_a_start_that_meets_an_open_session_carries_the_items_after_it(
    client: FlaskClient, maria: User, world: World
):
    open_one = make_session(world.manager_maria, world.agent_alex)
    shift = a_shift(world)
    answered = results(batch(client, shift[:2]))
    assert answered[0] == (200, answered[0][1])
    assert answered[0][1]["session"]["client_uuid"] == str(open_one.client_uuid)
    assert answered[1][0] == 201 and answered[1][1]["observation"]["session_uuid"] == str(
        open_one.client_uuid
    )


def test_items_that_are_not_writes_of_this_api_are_404(
    client: FlaskClient, maria: User, world: World
):
    items = [
        item("GET", "/api/session"),
        item("POST", "/api/batch", {"items": []}),
        item("POST", "/today"),
        item("PATCH", "/api/sessions"),
        {"method": "POST"},
    ]
    answered = results(batch(client, items))
    assert [status for status, _ in answered] == [404, 404, 404, 404, 422]


def test_an_items_body_meets_the_limits_of_its_own_write(
    client: FlaskClient, maria: User, world: World
):
    session = make_session(world.manager_maria, world.agent_alex)
    url = f"/api/sessions/{session.client_uuid}/observations"
    items = [
        item("POST", url, entry(note="NUL \x00 inside")),
        item("POST", url, entry(note="x" * 70_000)),
        item("POST", url, [1, 2]),
        item("POST", url),  # no body: what the same write alone without one answers
        item("POST", url, entry(note="Fine.")),
    ]
    answered = results(batch(client, items))
    assert [status for status, _ in answered] == [422, 413, 422, 422, 201]
    assert answered[0][1]["code"] == "body" and answered[0][1]["field"] == "note"


def test_a_batch_holds_at_most_a_hundred_items(client: FlaskClient, maria: User, world: World):
    session = make_session(world.manager_maria, world.agent_alex)
    url = f"/api/sessions/{session.client_uuid}/observations"
    answer = batch(client, [item("POST", url, entry()) for _ in range(101)])
    assert answer.status_code == 422 and answer.json["field"] == "items"
    assert batch(client, []).status_code == 422
    assert count(Observation) == 0


def test_a_server_error_stops_the_batch_where_it_happened(
    app: Flask, client: FlaskClient, maria: User, world: World, monkeypatch: pytest.MonkeyPatch
):
    from coachapp.shadowing import service

    session = make_session(world.manager_maria, world.agent_alex)
    url = f"/api/sessions/{session.client_uuid}/observations"
    real = service.record_in_open_session
    calls = {"n": 0}

    def failing_second(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the disk is full")
        return real(**kwargs)

    monkeypatch.setattr(service, "record_in_open_session", failing_second)
    answered = results(batch(client, [item("POST", url, entry()) for _ in range(4)]))
    assert [status for status, _ in answered] == [201, 500]
    assert count(Observation) == 1


def test_the_signed_out_and_the_tokenless_keep_their_queue(
    app: Flask, client: FlaskClient, world: World, auth: Auth, monkeypatch: pytest.MonkeyPatch
):
    items = [item("POST", "/api/sessions", {"client_uuid": str(uuid.uuid4()), "agent_id": 1})] * 2
    answer = batch(client, items)
    assert answer.status_code == 401 and answer.json["code"] == "signin"
    auth.login(world.manager_maria)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    answer = batch(client, items)
    assert answer.status_code == 403 and answer.json["code"] == "csrf"
    token = client.get("/api/session").json["csrf_token"]
    items[0]["body"]["agent_id"] = world.agent_alex.id
    assert batch(client, items, headers={"X-CSRFToken": token}).status_code == 200
    assert count(ShadowSession) == 1


def test_a_batch_loads_the_person_once_and_costs_the_same_per_item(
    client: FlaskClient, maria: User, world: World
):
    """The sign-in once; then each entry its insert (which checks the session and its scope)
    and its own commit."""
    session = make_session(world.manager_maria, world.agent_alex)
    url = f"/api/sessions/{session.client_uuid}/observations"

    def statements_for(size: int) -> list[str]:
        db.session.expire_all()
        with statements() as seen:
            answered = results(batch(client, [item("POST", url, entry()) for _ in range(size)]))
        assert {status for status, _ in answered} == {201}
        return seen

    ten = statements_for(10)
    assert len(ten) == 1 + 2 * 10, ten
    assert sum(1 for s in ten if s == "COMMIT") == 10
    assert len(statements_for(40)) == 1 + 2 * 40
    assert count(Observation) == 50
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 50

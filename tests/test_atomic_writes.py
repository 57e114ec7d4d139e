"""Nothing half-done: a write fails whole when anything on its way raises; a replay does it all.

Each write below is sent again and again with a fault injected before its first write statement,
then before its second, and so on (the observation, the ladder step, each inbox item, the audit
row...), and once more at its commit: every time the database must hold exactly what it held
before. The first attempt that reaches the end must leave the write complete with all its
consequences, and a replay of it must answer the same and store nothing more.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import (
    AuditEvent,
    Comment,
    FocusItem,
    FollowUp,
    LoginSession,
    Observation,
    ObservationKind,
    SelfCheck,
    ShadowSession,
    Suggestion,
    User,
)
from coachapp.scheduling import Outcome
from tests.conftest import Auth, FrozenClock, World, make_observation, make_session

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Fault(Exception):
    """What a killed worker, a dropped connection or a bug would do half-way through a write."""


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, read on a connection of its own: only what was committed."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
            for table in db.metadata.sorted_tables
        }


@contextmanager
def failing_before_write(number: int) -> Iterator[Callable[[], int]]:
    """Raise Fault before the `number`-th INSERT, UPDATE or DELETE; yields how many were seen."""
    seen = 0

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal seen
        if WRITE.match(statement):
            seen += 1
            if seen == number:
                raise Fault(f"before write statement {number}")

    sa.event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield lambda: seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", before)


def prove_atomic(
    monkeypatch: pytest.MonkeyPatch,
    send: Callable[[], TestResponse],
    is_complete: Callable[[TestResponse], None],
    *,
    replay_answers_the_same: bool = True,
) -> TestResponse:
    """Fail `send` at its commit and before each of its writes, then let it run and replay it."""
    before = snapshot()

    def commit_fails() -> None:
        raise Fault("at the commit")

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", commit_fails)
        answer = send()
    _assert_failed_and_unchanged(answer, before, "at the commit")

    number = 1
    while True:
        with failing_before_write(number) as seen:
            answer = send()
        if seen() < number:  # the fault never fired: this attempt ran to its end
            break
        _assert_failed_and_unchanged(answer, before, f"before write statement {number}")
        number += 1
    assert number > 1, "this request wrote nothing: nothing was proved"
    assert answer.status_code < 400, answer.get_data(as_text=True)[:300]
    db.session.expire_all()
    is_complete(answer)

    done = snapshot()
    replay = send()
    db.session.expire_all()
    if replay_answers_the_same:
        assert replay.status_code < 400
        if answer.is_json:
            assert replay.json == answer.json
        assert snapshot() == done, "the replay of a complete write changed the database"
        is_complete(answer)
    else:
        assert replay.status_code < 500
    return answer


def _assert_failed_and_unchanged(answer: TestResponse, before: object, where: str) -> None:
    assert answer.status_code == 500, f"a fault {where} was answered {answer.status_code}"
    # What the end of the request's app context does in a real worker.
    db.session.rollback()
    assert snapshot() == before, f"a fault {where} left part of the write in the database"


def count(model: type, *where: Any) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


# --- the people and records the writes start from ----------------------------------------------


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World, frozen_clock: FrozenClock) -> User:
    """Maria signed in on her phone, the clock at Monday 2 March 2026, 10:00 UTC."""
    auth.login(world.manager_maria)
    return world.manager_maria


@pytest.fixture
def shadow(maria: User, world: World) -> ShadowSession:
    """Maria's open session with Alex, started at 9:00."""
    return make_session(maria, world.agent_alex, started_at=NOW - timedelta(hours=1))


@pytest.fixture
def open_item(world: World) -> FocusItem:
    """Alex's open focus item on "Confirms next steps", opened by a correction last week."""
    earlier = make_session(
        world.manager_maria,
        world.agent_alex,
        started_at=NOW - timedelta(days=7),
        ended_at=NOW - timedelta(days=7, hours=-1),
    )
    correction = make_observation(
        earlier,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[1].id,
        occurred_at=NOW - timedelta(days=7),
    )
    item = apply_correction(correction, current_ladder())
    db.session.commit()
    assert item is not None and item.pending is not None
    return item


def correction_entry(world: World, **overrides: Any) -> dict[str, Any]:
    return {
        "client_uuid": str(uuid.uuid4()),
        "kind": "correction",
        "behaviour_id": world.behaviours[1].id,
        "note": "Forgot to confirm the next steps.",
        "coached": "Practised the recap together.",
        **overrides,
    }


def observation_by_uuid(client_uuid: str) -> Observation | None:
    return db.session.scalar(
        sa.select(Observation).where(Observation.client_uuid == uuid.UUID(client_uuid))
    )


def opened_by(observation: Observation) -> FocusItem:
    item = db.session.scalar(
        sa.select(FocusItem).where(FocusItem.opening_observation_id == observation.id)
    )
    assert item is not None, "the correction opened no focus item"
    assert item.pending is not None, "the new focus item has no check ahead"
    return item


def assert_slip_of(item: FocusItem, observation: Observation) -> None:
    slip = db.session.scalar(sa.select(FollowUp).where(FollowUp.observation_id == observation.id))
    assert slip is not None, "the correction recorded no slip on the open item"
    assert slip.focus_item_id == item.id and slip.outcome == Outcome.SLIPPED
    db.session.refresh(item)
    assert item.lapses == 1 and item.pending is not None and item.pending.sequence == 2


def obstacles_in(shadow: ShadowSession) -> list[Observation]:
    return [
        make_observation(
            shadow, kind=ObservationKind.OBSTACLE, note=note, occurred_at=NOW - timedelta(minutes=m)
        )
        for m, note in ((30, "The CRM froze twice."), (20, "The script skips the refund rule."))
    ]


def assert_in_the_inbox(obstacles: list[Observation]) -> None:
    uuids = [o.client_uuid for o in obstacles]
    inbox = db.session.scalars(sa.select(Suggestion).where(Suggestion.client_uuid.in_(uuids)))
    assert sorted(s.text for s in inbox) == sorted(o.note for o in obstacles)


# --- the JSON API the outbox replays ----------------------------------------------------------


def test_a_correction_and_the_focus_item_it_opens(monkeypatch, client, world, shadow):
    body = correction_entry(world)
    url = f"/api/sessions/{shadow.client_uuid}/observations"

    def complete(_answer: TestResponse) -> None:
        stored = observation_by_uuid(body["client_uuid"])
        assert stored is not None and stored.kind == ObservationKind.CORRECTION
        opened_by(stored)
        assert count(FocusItem) == 1 and count(Observation) == 1

    prove_atomic(monkeypatch, lambda: client.post(url, json=body), complete)


def test_a_correction_and_the_slip_it_records(monkeypatch, client, world, shadow, open_item):
    body = correction_entry(world)
    url = f"/api/sessions/{shadow.client_uuid}/observations"

    def complete(_answer: TestResponse) -> None:
        stored = observation_by_uuid(body["client_uuid"])
        assert stored is not None
        assert_slip_of(open_item, stored)
        assert count(FocusItem) == 1

    prove_atomic(monkeypatch, lambda: client.post(url, json=body), complete)


def test_an_edit_from_strength_to_correction_and_its_focus_item(monkeypatch, client, world, shadow):
    strength = make_observation(shadow, occurred_at=NOW - timedelta(minutes=5))
    body = {k: v for k, v in correction_entry(world).items() if k != "client_uuid"}
    url = f"/api/observations/{strength.client_uuid}"

    def complete(_answer: TestResponse) -> None:
        changed = db.session.get(Observation, strength.id)
        assert changed is not None and changed.kind == ObservationKind.CORRECTION
        opened_by(changed)

    prove_atomic(monkeypatch, lambda: client.put(url, json=body), complete)


def test_a_removed_correction_and_the_slip_it_takes_back(
    monkeypatch, client, world, shadow, open_item
):
    body = correction_entry(world)
    assert client.post(f"/api/sessions/{shadow.client_uuid}/observations", json=body).status_code
    assert count(FollowUp, FollowUp.outcome.is_not(None)) == 1
    url = f"/api/observations/{body['client_uuid']}"

    def complete(_answer: TestResponse) -> None:
        assert observation_by_uuid(body["client_uuid"]) is None
        db.session.refresh(open_item)
        assert open_item.lapses == 0 and [f.sequence for f in open_item.followups] == [1]
        assert open_item.pending is not None and open_item.pending.outcome is None

    # Its replay finds the entry gone: the 404 the outbox counts as done (issue 11).
    prove_atomic(monkeypatch, lambda: client.delete(url), complete, replay_answers_the_same=False)
    assert client.delete(url).status_code == 404


def test_a_session_end_and_every_obstacle_in_the_inbox(monkeypatch, client, world, shadow):
    obstacles = obstacles_in(shadow)
    url = f"/api/sessions/{shadow.client_uuid}/end"

    def complete(_answer: TestResponse) -> None:
        assert db.session.get(ShadowSession, shadow.id).ended_at is not None
        assert_in_the_inbox(obstacles)

    prove_atomic(monkeypatch, lambda: client.post(url, json={"summary_note": "Good."}), complete)


def test_an_outcome_and_the_next_check(monkeypatch, client, maria, open_item, frozen_clock):
    frozen_clock.advance(days=0)
    check = open_item.pending
    assert check is not None
    body = {"client_uuid": str(uuid.uuid4()), "outcome": "sustained"}

    def complete(_answer: TestResponse) -> None:
        recorded = db.session.get(FollowUp, check.id)
        assert recorded is not None and recorded.outcome == Outcome.SUSTAINED
        item = db.session.get(FocusItem, open_item.id)
        assert item is not None and item.pending is not None and item.pending.sequence == 2

    prove_atomic(
        monkeypatch, lambda: client.post(f"/api/followups/{check.id}/outcome", json=body), complete
    )


# --- the same writes through the pages (htmx and plain forms) ---------------------------------


def test_a_correction_saved_from_the_page(monkeypatch, client, world, shadow):
    form = {k: str(v) for k, v in correction_entry(world).items()}
    url = f"/sessions/{shadow.id}/observations"

    def complete(_answer: TestResponse) -> None:
        stored = observation_by_uuid(form["client_uuid"])
        assert stored is not None
        opened_by(stored)

    prove_atomic(monkeypatch, lambda: client.post(url, data=form, headers=HTMX), complete)


def test_an_entry_fixed_into_a_correction_on_the_page(monkeypatch, client, world, shadow):
    strength = make_observation(shadow, occurred_at=NOW - timedelta(minutes=5))
    form = {k: str(v) for k, v in correction_entry(world).items()}
    form["client_uuid"] = str(strength.client_uuid)

    def complete(_answer: TestResponse) -> None:
        changed = db.session.get(Observation, strength.id)
        assert changed is not None and changed.kind == ObservationKind.CORRECTION
        opened_by(changed)

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/observations/{strength.id}", data=form, headers=HTMX),
        complete,
    )


def test_an_undo_of_a_slip_from_the_page(monkeypatch, client, world, shadow, open_item):
    form = {k: str(v) for k, v in correction_entry(world).items()}
    client.post(f"/sessions/{shadow.id}/observations", data=form, headers=HTMX)
    saved = observation_by_uuid(form["client_uuid"])
    assert saved is not None
    saved_id = saved.id

    def complete(_answer: TestResponse) -> None:
        assert db.session.get(Observation, saved_id) is None
        db.session.refresh(open_item)
        assert open_item.lapses == 0 and [f.sequence for f in open_item.followups] == [1]

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/observations/{saved_id}/undo", headers=HTMX),
        complete,
        replay_answers_the_same=False,  # the entry is gone: a second undo finds nothing (404)
    )


def test_a_session_ended_from_the_page(monkeypatch, client, world, shadow):
    obstacles = obstacles_in(shadow)

    def complete(_answer: TestResponse) -> None:
        assert db.session.get(ShadowSession, shadow.id).ended_at is not None
        assert_in_the_inbox(obstacles)

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/sessions/{shadow.id}/end", data={"summary_note": "Good."}),
        complete,
    )


@pytest.mark.parametrize("outcome", ["sustained", "slipped"])
def test_an_outcome_recorded_from_the_page(monkeypatch, client, maria, open_item, outcome):
    check = open_item.pending
    assert check is not None
    form = {"outcome": outcome, "client_uuid": str(uuid.uuid4())}

    def complete(_answer: TestResponse) -> None:
        recorded = db.session.get(FollowUp, check.id)
        assert recorded is not None and recorded.outcome == Outcome(outcome)
        item = db.session.get(FocusItem, open_item.id)
        assert item is not None and item.pending is not None and item.pending.sequence == 2

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/followups/{check.id}", data=form, headers=HTMX),
        complete,
        replay_answers_the_same=False,  # the page says "already recorded" (the API replays)
    )


def test_a_reply_in_a_thread(monkeypatch, client, auth, world, open_item):
    auth.login(world.agent_alex)
    observation = open_item.opening_observation
    form = {"kind": "reply", "body": "I will recap every call.", "client_uuid": str(uuid.uuid4())}

    def complete(_answer: TestResponse) -> None:
        assert count(Comment, Comment.client_uuid == uuid.UUID(form["client_uuid"])) == 1

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/observations/{observation.id}/comments", data=form, headers=HTMX),
        complete,
    )


def test_a_self_check(monkeypatch, client, auth, world, open_item, frozen_clock):
    auth.login(world.agent_alex)
    form = {"rating": "partly", "note": "Some calls."}

    def complete(_answer: TestResponse) -> None:
        assert count(SelfCheck) == 1

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/focus-items/{open_item.id}/self-check", data=form, headers=HTMX),
        complete,
        replay_answers_the_same=False,  # sent again, it is a change: its time of change moves
    )


def test_a_suggestion(monkeypatch, client, auth, world):
    auth.login(world.agent_alex)
    form = {
        "kind": "suggestion",
        "text": "A recap line in the script.",
        "client_uuid": str(uuid.uuid4()),
    }

    def complete(_answer: TestResponse) -> None:
        assert count(Suggestion) == 1

    prove_atomic(monkeypatch, lambda: client.post("/suggestions", data=form), complete)


def test_a_deactivation_ends_the_sessions_with_its_audit_row(monkeypatch, client, auth, world):
    auth.login(world.agent_alex)  # a session of Alex's that must end
    auth.login(world.admin_ada)
    alex = world.agent_alex

    def complete(_answer: TestResponse) -> None:
        assert db.session.get(User, alex.id).active is False
        assert (
            count(LoginSession, LoginSession.user_id == alex.id, LoginSession.ended_at.is_(None))
            == 0
        )
        assert count(AuditEvent, AuditEvent.action == "user.deactivated") == 1

    prove_atomic(
        monkeypatch,
        lambda: client.post(f"/admin/people/{alex.id}/deactivate"),
        complete,
        replay_answers_the_same=False,  # an admin's second tap is audited as a second tap
    )


# --- the suite's own guard --------------------------------------------------------------------


def test_the_suite_fails_a_request_that_commits_twice(app):
    """What tests/conftest.py's autouse check sees: a request with two commits is named."""
    from tests import conftest

    with app.test_request_context("/sessions/1/end", method="POST"):
        conftest._request_begins(app)
        for _ in range(2):
            db.session.execute(sa.text("SELECT 1"))
            db.session.commit()
        conftest._request_ends(app)
    try:
        assert conftest._committed_twice == ["POST /sessions/<int:session_id>/end (2 commits)"]
    finally:
        conftest._committed_twice.clear()

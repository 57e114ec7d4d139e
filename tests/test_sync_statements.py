"""Exact SQL statement counts of the phone's writes, the commit included: the save a manager makes
most stays at three statements, and nothing is loaded twice or after the commit."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.followups.service import (
    OutcomeInput,
    apply_correction,
    current_ladder,
    record_outcome,
)
from coachapp.models import (
    Behaviour,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    SelfCheck,
    SelfRating,
    User,
)
from coachapp.scheduling import Outcome
from tests.conftest import Auth, FrozenClock, World, make_observation, make_session
from tests.test_sync_api import (
    NOW,
    call,
    entry,
    observations_url,
    outcome,
    start,
)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile, COMMIT and ROLLBACK included."""
    seen: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    def committed(_conn: Any) -> None:
        seen.append("COMMIT")

    def rolled_back(_conn: Any) -> None:
        seen.append("ROLLBACK")

    listeners = [
        ("before_cursor_execute", executed),
        ("commit", committed),
        ("rollback", rolled_back),
    ]
    for name, listener in listeners:
        sa.event.listen(db.engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            sa.event.remove(db.engine, name, listener)


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World, frozen_clock: FrozenClock) -> User:
    """Maria signed in on her phone, the clock frozen."""
    auth.login(world.manager_maria)
    return world.manager_maria


@pytest.fixture
def session_uuid(client: FlaskClient, maria: User, world: World) -> str:
    """A session Maria started from the phone with Alex."""
    answer = start(client, world)
    assert answer.status_code == 201
    db.session.expire_all()  # what the test loaded is no help to the next request
    return answer.json["session"]["client_uuid"]


def save(client: FlaskClient, session_uuid: str, body: dict[str, Any]) -> tuple[Any, list[str]]:
    db.session.expire_all()
    with statements() as seen:
        answer = call(client, "POST", observations_url(session_uuid), body)
    return answer, seen


def test_the_json_save_is_three_statements_with_its_commit(
    client: FlaskClient, session_uuid: str, world: World
):
    """The sign-in with its user, then one insert that takes its row from the manager's open
    session with the agent in the manager's teams, stores only an active behaviour of the
    agent's profile and cannot duplicate; the commit."""
    answer, seen = save(client, session_uuid, entry(behaviour_id=world.behaviours[0].id))
    assert answer.status_code == 201
    assert len(seen) == 3, "\n".join(s[:160] for s in seen)
    assert seen[0].startswith("SELECT") and "login_session" in seen[0]
    insert = " ".join(seen[1].upper().replace('"', "").split())
    assert insert.startswith("INSERT INTO OBSERVATION") and "ON CONFLICT" in insert
    assert "FROM USER JOIN SHADOW_SESSION" in insert and "MANAGER_TEAMS" in insert
    assert "SHADOW_SESSION.ENDED_AT IS NULL" in insert and "EXISTS" in insert
    assert seen[2] == "COMMIT"
    assert answer.json["observation"]["session_uuid"] == session_uuid
    stored = db.session.scalar(sa.select(Observation))
    assert stored is not None and stored.session.client_uuid == uuid.UUID(session_uuid)
    assert (stored.agent_id, stored.author_id) == (world.agent_alex.id, world.manager_maria.id)


def test_a_save_with_only_a_note_is_three_statements_too(client: FlaskClient, session_uuid: str):
    answer, seen = save(client, session_uuid, entry())
    assert answer.status_code == 201
    assert len(seen) == 3, seen
    assert "EXISTS" not in seen[1].upper()


@pytest.mark.parametrize("which", ["retired", "of another profile", "unknown"])
def test_a_behaviour_the_agent_cannot_be_observed_on_is_refused_by_the_insert(
    client: FlaskClient, session_uuid: str, world: World, which: str
):
    """Nothing stored, the form's own words on the behaviour field, and the replay looked for
    (none) before refusing: sign-in, the insert, session and scope, the replay, rollback."""
    behaviour = {
        "retired": world.behaviours[1].id,
        "of another profile": world.foreign_behaviour.id,
        "unknown": 999_999,
    }[which]
    if which == "retired":
        db.session.get(Behaviour, behaviour).retired_at = NOW - timedelta(days=1)
        db.session.commit()
    answer, seen = save(client, session_uuid, entry(behaviour_id=behaviour))
    assert answer.status_code == 422
    assert (answer.json["field"], answer.json["error"]) == (
        "behaviour_id",
        "Choose one of this agent's behaviours.",
    )
    assert len(seen) == 5, "\n".join(s[:120] for s in seen)
    assert seen[-1] == "ROLLBACK"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_an_agent_without_a_role_profile_has_no_behaviour_to_name(
    client: FlaskClient, session_uuid: str, world: World
):
    world.agent_alex.role_profile_id = None
    db.session.commit()
    answer, seen = save(client, session_uuid, entry(behaviour_id=world.behaviours[0].id))
    assert answer.status_code == 422 and answer.json["field"] == "behaviour_id"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_a_replayed_save_answers_the_first_answer_in_five(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(behaviour_id=world.behaviours[0].id)
    first, _ = save(client, session_uuid, body)
    again, seen = save(client, session_uuid, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    # The insert stores nothing; the session is found open and Maria's, so the entry is looked
    # for, and read for the answer: sign-in, insert, session and scope, the entry, commit.
    assert len(seen) == 5, "\n".join(s[:100] for s in seen)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 1


def test_a_correction_takes_its_ladder_step_in_the_same_transaction(
    client: FlaskClient, session_uuid: str, world: World
):
    """The sign-in (the organisation, for the ladder, came with it), the session with its scope
    (the step needs them loaded), the insert, then the open-item check, and the focus item with
    its first check inside a savepoint (so that losing a race to open it keeps the entry)."""
    body = entry(kind="correction", behaviour_id=world.behaviours[1].id, note="")
    answer, seen = save(client, session_uuid, body)
    assert answer.status_code == 201
    assert len(seen) == 9, seen
    assert [s.split()[0] for s in seen[-7:]] == [
        "INSERT",
        "SELECT",
        "SAVEPOINT",
        "INSERT",
        "INSERT",
        "RELEASE",
        "COMMIT",
    ]
    assert seen.count("COMMIT") == 1
    item = db.session.scalar(sa.select(FocusItem))
    assert item is not None and item.opening_observation_id == answer.json["observation"]["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 1


def test_a_save_outside_my_teams_is_a_404_in_three(client: FlaskClient, world: World, auth: Auth):
    auth.login(world.manager_maria)
    answer, seen = save(client, str(uuid.uuid4()), entry())
    assert answer.status_code == 404
    # sign-in, the insert that finds no session to take its row from, session and scope, rollback
    assert len(seen) == 4, "\n".join(s[:100] for s in seen)


def test_a_save_for_an_agent_moved_out_of_my_teams_stores_nothing(
    client: FlaskClient, session_uuid: str, world: World
):
    world.agent_alex.team_id = world.team_b.id
    db.session.commit()
    answer, seen = save(client, session_uuid, entry(behaviour_id=world.behaviours[0].id))
    assert answer.status_code == 404
    assert seen[-1] == "ROLLBACK"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_a_save_after_the_end_stores_nothing(client: FlaskClient, session_uuid: str):
    assert save(client, session_uuid, entry())[0].status_code == 201  # an empty session ends gone
    assert call(client, "POST", f"/api/sessions/{session_uuid}/end", {}).status_code == 200
    answer, seen = save(client, session_uuid, entry())
    assert answer.status_code == 409
    assert seen[-1] == "ROLLBACK"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 1


def test_the_signed_in_person_is_loaded_once(client: FlaskClient, session_uuid: str):
    answer, seen = save(client, session_uuid, entry())
    assert answer.status_code == 201
    loads = [s for s in seen if s.startswith("SELECT") and "user.name" in s.replace('"', "")]
    assert len(loads) == 1, seen  # the signed-in person, with the sign-in; the agent not at all


def change(client: FlaskClient, observation_uuid: str, body: dict[str, Any]) -> tuple[Any, list]:
    db.session.expire_all()
    with statements() as seen:
        answer = call(client, "PUT", f"/api/observations/{observation_uuid}", body)
    return answer, seen


def test_an_edit_of_the_words_is_four_statements(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(behaviour_id=world.behaviours[0].id)
    save(client, session_uuid, body)
    answer, seen = change(
        client,
        body["client_uuid"],
        {"kind": "strength", "behaviour_id": world.behaviours[0].id, "note": "Warmer still."},
    )
    assert answer.status_code == 200 and answer.json["observation"]["note"] == "Warmer still."
    # Sign-in, the entry with its session and scope, the update, the commit: the behaviour it
    # already names needs no lookup, and a strength leaves the ladder unread.
    assert len(seen) == 4, seen


def test_an_edit_to_another_behaviour_looks_it_up(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(behaviour_id=world.behaviours[0].id)
    save(client, session_uuid, body)
    answer, seen = change(
        client, body["client_uuid"], {"kind": "strength", "behaviour_id": world.behaviours[1].id}
    )
    assert answer.status_code == 200
    assert len(seen) == 5, "\n".join(s[:160] for s in seen)


def test_an_edit_that_turns_a_correction_into_a_strength_withdraws_its_item(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(kind="correction", behaviour_id=world.behaviours[1].id, note="")
    save(client, session_uuid, body)
    answer, seen = change(
        client, body["client_uuid"], {"kind": "strength", "behaviour_id": world.behaviours[1].id}
    )
    assert answer.status_code == 200
    # Sign-in, entry and scope, the item it opened and its checks, deleting both, the
    # dashboard's summary rows of them (two), the slip check, the update, the commit.
    assert len(seen) == 11, "\n".join(s[:90] for s in seen)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FocusItem)) == 0


def remove(client: FlaskClient, observation_uuid: str) -> tuple[Any, list[str]]:
    db.session.expire_all()
    with statements() as seen:
        answer = call(client, "DELETE", f"/api/observations/{observation_uuid}")
    return answer, seen


def test_a_removal_is_four_statements(client: FlaskClient, session_uuid: str):
    body = entry()
    save(client, session_uuid, body)
    answer, seen = remove(client, body["client_uuid"])
    assert answer.status_code == 200
    assert len(seen) == 4, seen  # sign-in, entry and scope, delete, commit


def test_a_removed_correction_takes_its_item_with_it(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(kind="correction", behaviour_id=world.behaviours[1].id, note="")
    save(client, session_uuid, body)
    answer, seen = remove(client, body["client_uuid"])
    assert answer.status_code == 200
    assert len(seen) == 11, "\n".join(s[:90] for s in seen)  # as the edit above
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FocusItem)) == 0


def end(client: FlaskClient, session_uuid: str) -> tuple[Any, list[str]]:
    db.session.expire_all()
    with statements() as seen:
        answer = call(client, "POST", f"/api/sessions/{session_uuid}/end", {"summary_note": "Ok"})
    return answer, seen


def test_the_end_of_a_session_is_six_statements(client: FlaskClient, session_uuid: str):
    save(client, session_uuid, entry())
    answer, seen = end(client, session_uuid)
    assert answer.status_code == 200 and answer.json["session"]["ended_at"]
    # Sign-in, session and scope, its last entry's time (a session without entries leaves no
    # trace, and an idle one ends at its last entry), the update, its entries (for the
    # obstacles), the commit.
    assert len(seen) == 6, "\n".join(s[:160] for s in seen)


def test_each_obstacle_at_the_end_is_one_lookup_and_one_insert(
    client: FlaskClient, session_uuid: str
):
    save(client, session_uuid, entry(kind="obstacle", note="The CRM froze."))
    save(client, session_uuid, entry(kind="obstacle", note="No headset."))
    answer, seen = end(client, session_uuid)
    assert answer.status_code == 200
    assert len(seen) == 6 + 2 * 2, seen


# --- the outcome of a check ------------------------------------------------------------------


def due_check(world: World, behaviour: int, days_ago: int) -> int:
    """The id of Alex's check opened by a correction `days_ago` (an id: the object's
    attributes would be read again after expiry, in the statements counted)."""
    shadow = make_session(
        world.manager_maria, world.agent_alex, started_at=NOW - timedelta(days=days_ago)
    )
    correction = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[behaviour].id,
        occurred_at=NOW - timedelta(days=days_ago),
    )
    item = apply_correction(correction, current_ladder())
    assert item is not None and item.pending is not None
    check = item.pending.id
    db.session.commit()
    return check


@pytest.fixture
def check_id(maria: User, world: World) -> int:
    """Alex's check on "Confirms next steps", opened by a correction four days ago."""
    return due_check(world, 1, days_ago=4)


def outcome_of(client: FlaskClient, check_id: int, body: dict[str, Any]) -> tuple[Any, list[str]]:
    db.session.expire_all()
    with statements() as seen:
        answer = call(client, "POST", f"/api/followups/{check_id}/outcome", body)
    return answer, seen


def test_an_outcome_is_twelve_statements_with_its_commit(client: FlaskClient, check_id: int):
    """Sign-in, the check with its item, agent (the scope) and self-check in one, the item's
    checks (the order rule and the next check's number), the claim, the item's new state, the
    next check, the dashboard's summary rows (5), commit."""
    answer, seen = outcome_of(client, check_id, outcome())
    assert answer.status_code == 201
    assert len(seen) == 12, "\n".join(s[:120] for s in seen)
    assert seen.count("COMMIT") == 1
    assert answer.json["followup"]["next_due_on"]


def test_the_agents_self_check_comes_with_the_check(
    client: FlaskClient, check_id: int, world: World
):
    check = db.session.get(FollowUp, check_id)
    assert check is not None
    db.session.add(
        SelfCheck(
            followup_id=check.id,
            focus_item_id=check.focus_item_id,
            agent_id=world.agent_alex.id,
            rating=SelfRating.PARTLY,
        )
    )
    db.session.commit()
    answer, seen = outcome_of(client, check_id, outcome())
    assert answer.status_code == 201
    assert len(seen) == 13, "\n".join(s[:120] for s in seen)  # the twelve and its comparison
    stored = db.session.scalar(sa.select(SelfCheck))
    assert stored is not None and stored.observed_outcome == Outcome.SUSTAINED
    assert stored.difference == -1


def test_a_replayed_outcome_answers_from_the_check_itself(client: FlaskClient, check_id: int):
    body = outcome()
    first, _ = outcome_of(client, check_id, body)
    assert first.status_code == 201
    again, seen = outcome_of(client, check_id, body)
    assert again.status_code == 200 and again.json == first.json
    # Sign-in, the check (with its tap's uuid), the item's checks for the next due date, and the
    # end of a transaction that wrote nothing.
    assert len(seen) == 4, "\n".join(s[:120] for s in seen)
    assert not [s for s in seen if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_a_tap_replayed_on_another_check_answers_the_check_it_recorded(
    client: FlaskClient, check_id: int, world: World, frozen_clock: FrozenClock
):
    body = outcome()
    first, _ = outcome_of(client, check_id, body)
    assert first.status_code == 201
    other_check = due_check(world, 0, days_ago=3)

    answer, _ = outcome_of(client, other_check, body)

    assert answer.status_code == 200 and answer.json == first.json
    db.session.expire_all()
    untouched = db.session.get(FollowUp, other_check)
    assert untouched is not None and untouched.outcome is None


def test_a_tap_sent_twice_at_once_is_answered_as_its_replay(
    client: FlaskClient, check_id: int, world: World
):
    """The second copy read the check before the first committed; its claim then finds the
    check taken, and the tap's own record answers it (not a refusal)."""
    tap = uuid.uuid4()
    stale = db.session.get(FollowUp, check_id)
    assert stale is not None and stale.outcome is None
    assert stale.focus_item.followups  # read now, as the second copy had read them
    with db.engine.begin() as elsewhere:  # the first copy, committed meanwhile
        elsewhere.execute(
            sa.update(FollowUp)
            .where(FollowUp.id == check_id)
            .values(
                outcome=Outcome.SUSTAINED,
                observed_on=NOW.date(),
                author_id=world.manager_maria.id,
                client_uuid=tap,
                recorded_at=NOW,
            )
        )

    recorded = record_outcome(
        followup=stale,
        author=world.manager_maria,
        entry=OutcomeInput(
            outcome=Outcome.SUSTAINED, observed_on=NOW.date(), note="", coached="", client_uuid=tap
        ),
        ladder=current_ladder(),
        today=NOW.date(),
        now=NOW,
    )

    assert recorded.created is False and recorded.followup.id == check_id
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 1


def test_a_correction_without_a_behaviour_keeps_what_was_coached(
    client: FlaskClient, session_uuid: str
):
    """No ladder step, so the one-statement insert stores it: with its coaching words."""
    body = entry(kind="correction", note="Rushed the close", coached="Asked twice")
    answer, seen = save(client, session_uuid, body)
    assert answer.status_code == 201 and len(seen) == 3, seen
    assert answer.json["observation"]["coached"] == "Asked twice"
    assert db.session.scalar(sa.select(Observation.coached)) == "Asked twice"

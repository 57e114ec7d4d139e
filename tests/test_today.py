"""Issue 13 for the manager on the floor: real sessions, Today's order and search, outcomes that
can be undone or changed for 10 minutes, and statement counts that do not grow with the data."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from coachapp import scheduling
from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import (
    AuditEvent,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    Role,
    ShadowSession,
    Suggestion,
    User,
)
from coachapp.scheduling import Outcome
from coachapp.shadowing import service
from tests.conftest import Auth, FrozenClock, World, make_observation, make_session

HX = {"HX-Request": "true"}
# The conftest's frozen clock: Monday 2 March 2026, 10:00 UTC.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def statements(client: FlaskClient, method: str, url: str, **kwargs: object) -> tuple[int, str]:
    """How many SQL statements one request runs, and its page."""
    counted: list[str] = []

    def note(*args: object) -> None:
        counted.append(str(args[2]))

    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        answer = client.open(url, method=method, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert answer.status_code in (200, 303), answer.get_data(as_text=True)[:300]
    return len(counted), answer.get_data(as_text=True)


def entry(world: World, **values: str) -> dict[str, str]:
    return {
        "kind": "strength",
        "behaviour_id": str(world.behaviours[0].id),
        "client_uuid": str(uuid.uuid4()),
        **values,
    }


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World, frozen_clock: FrozenClock) -> User:
    """Maria, signed in, with the clock frozen at Monday 2 March 2026, 10:00."""
    auth.login(world.manager_maria)
    return world.manager_maria


def correction_for(world: World, agent: User, on: datetime, behaviour: int = 0) -> FocusItem:
    """A correction in an ended session of Maria's with `agent`, applied to the ladder."""
    shadow = make_session(world.manager_maria, agent, started_at=on, ended_at=on)
    observation = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[behaviour].id,
        occurred_at=on,
        recorded_at=on,
    )
    item = apply_correction(observation, current_ladder())
    db.session.commit()
    assert item is not None
    return item


# --- sessions are real -------------------------------------------------------------------


def test_opening_the_screen_starts_no_session(client: FlaskClient, maria: User, world: World):
    page = client.get(f"/agents/{world.agent_alex.id}/shadow")
    assert page.status_code == 200
    assert f'action="/agents/{world.agent_alex.id}/observations"' in page.get_data(as_text=True)
    assert count(ShadowSession) == 0


def test_the_first_entry_starts_the_session(client: FlaskClient, maria: User, world: World):
    data = entry(world)
    first = client.post(f"/agents/{world.agent_alex.id}/observations", data=data)
    again = client.post(f"/agents/{world.agent_alex.id}/observations", data=data)
    shadow = db.session.scalars(sa.select(ShadowSession)).one()
    assert first.status_code == again.status_code == 303
    assert first.location == again.location == f"/sessions/{shadow.id}"
    assert (count(ShadowSession), count(Observation)) == (1, 1)
    assert shadow.started_at == T0


def test_a_first_entry_elsewhere_joins_the_open_session(
    client: FlaskClient, maria: User, world: World
):
    client.post(f"/agents/{world.agent_alex.id}/observations", data=entry(world))
    # Another screen (another phone) of the same manager with the same agent.
    answer = client.post(
        f"/agents/{world.agent_alex.id}/observations", data=entry(world), headers=HX
    )
    assert answer.status_code == 200
    assert (count(ShadowSession), count(Observation)) == (1, 2)


def test_a_bad_first_entry_keeps_the_typing_and_starts_nothing(
    client: FlaskClient, maria: User, world: World
):
    answer = client.post(
        f"/agents/{world.agent_alex.id}/observations",
        data=entry(world, kind="obstacle", behaviour_id="", note=""),
        headers=HX,
    )
    assert answer.status_code == 422
    assert count(ShadowSession) == 0


def test_a_replayed_or_concurrent_json_start_joins_the_open_one(
    client: FlaskClient, maria: User, world: World
):
    def start() -> dict[str, object]:
        body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
        return client.post("/api/sessions", json=body).get_json()["session"]

    first, second = start(), start()
    assert first["client_uuid"] == second["client_uuid"]
    assert count(ShadowSession) == 1


def test_the_database_holds_one_open_session_per_manager_and_agent(world: World):
    make_session(world.manager_maria, world.agent_alex)
    db.session.add(
        ShadowSession(
            manager_id=world.manager_maria.id,
            agent_id=world.agent_alex.id,
            client_uuid=uuid.uuid4(),
            started_at=T0,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Ended ones do not count, nor other agents or managers.
    make_session(world.manager_maria, world.agent_alex, ended_at=T0)
    make_session(world.manager_mo, world.agent_alex)
    assert count(ShadowSession) == 3


def test_a_session_idle_for_four_hours_ends_by_itself_with_its_entries(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    make_observation(shadow, occurred_at=T0 + timedelta(minutes=20))
    make_observation(
        shadow,
        kind=ObservationKind.OBSTACLE,
        note="The queue tool froze.",
        occurred_at=T0 + timedelta(minutes=30),
    )
    frozen_clock.advance(hours=4, minutes=29)
    assert "Continue with Alex Adams" in client.get("/today").get_data(as_text=True)
    frozen_clock.advance(minutes=1)

    page = client.get("/today").get_data(as_text=True)

    assert "Continue with Alex Adams" not in page
    db.session.expire_all()
    shadow = db.session.get(ShadowSession, shadow.id)
    assert shadow.ended_automatically
    assert shadow.ended_at == T0 + timedelta(minutes=30)
    assert count(Observation) == 2
    # Its obstacle reached the trainers' inbox, as at any end.
    assert count(Suggestion) == 1
    summary = client.get(f"/sessions/{shadow.id}").get_data(as_text=True)
    assert "This session ended automatically after 4 hours without an entry." in summary


def test_an_idle_session_ends_when_its_screen_loads(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    make_observation(shadow, occurred_at=T0)
    frozen_clock.advance(hours=5)
    page = client.get(f"/agents/{world.agent_alex.id}/shadow").get_data(as_text=True)
    assert 'data-session-uuid=""' in page  # a fresh screen; the old session ended
    db.session.expire_all()
    assert db.session.get(ShadowSession, shadow.id).ended_automatically


def test_an_idle_session_without_entries_leaves_no_trace(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    frozen_clock.advance(hours=4)
    answer = client.get(f"/sessions/{shadow.id}")
    assert answer.status_code == 302
    assert answer.location == f"/agents/{world.agent_alex.id}/shadow"
    assert count(ShadowSession) == 0
    assert count(AuditEvent) == 0
    assert client.get(f"/sessions/{shadow.id}").status_code == 404


def test_a_start_after_hours_idle_ends_the_old_session_and_starts_anew(
    world: World, frozen_clock: FrozenClock
):
    old = make_session(world.manager_maria, world.agent_alex, started_at=T0)
    make_observation(old, occurred_at=T0)
    new = service.start_session(
        manager=world.manager_maria,
        agent=world.agent_alex,
        client_uuid=uuid.uuid4(),
        now=T0 + timedelta(hours=6),
    )
    db.session.commit()
    assert new.id != old.id and new.is_open
    db.session.expire_all()
    assert db.session.get(ShadowSession, old.id).ended_automatically


def test_ending_a_session_without_entries_deletes_it(
    client: FlaskClient, maria: User, world: World
):
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    answer = client.post(f"/sessions/{shadow.id}/end", data={"summary_note": ""})
    assert answer.status_code == 303
    assert answer.location == "/today"
    assert "Nothing was logged, so no session was kept." in client.get("/today").get_data(
        as_text=True
    )
    assert count(ShadowSession) == 0


def test_a_json_end_without_entries_deletes_it_and_sends_the_phone_to_today(
    client: FlaskClient, maria: User, world: World
):
    body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
    started = client.post("/api/sessions", json=body).get_json()["session"]
    ended = client.post(f"/api/sessions/{started['client_uuid']}/end", json={})
    assert ended.status_code == 200
    assert ended.get_json()["session"]["url"] == "/today"
    assert count(ShadowSession) == 0


def test_the_cron_command_ends_every_idle_session(app: Flask, world: World, frozen_clock):
    mine = make_session(world.manager_maria, world.agent_alex, started_at=T0)
    make_observation(mine, occurred_at=T0)
    make_session(world.manager_mo, world.agent_bo, started_at=T0)  # empty
    busy = make_session(world.manager_mo, world.agent_alex, started_at=T0)
    make_observation(busy, occurred_at=T0 + timedelta(hours=3))
    frozen_clock.advance(hours=4)

    result = app.test_cli_runner().invoke(args=["sessions", "end-idle"])
    again = app.test_cli_runner().invoke(args=["sessions", "end-idle"])

    assert result.exit_code == 0, result.output
    assert "Idle sessions ended: 2." in result.output
    assert "Idle sessions ended: 0." in again.output
    db.session.expire_all()
    left = db.session.scalars(sa.select(ShadowSession).order_by(ShadowSession.id)).all()
    assert [(s.id, s.is_open, s.ended_automatically) for s in left] == [
        (mine.id, False, True),
        (busy.id, True, False),
    ]


# --- Today -------------------------------------------------------------------------------


def test_today_reads_in_the_order_of_the_floor(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    correction_for(world, world.agent_alex, T0 - timedelta(days=3))
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    make_observation(shadow, occurred_at=T0)
    page = client.get("/today").get_data(as_text=True)
    order = ['id="open-sessions"', 'id="start-shadowing"', 'id="due-title"']
    assert "Continue with Alex Adams" in page
    assert [page.index(text) for text in order] == sorted(page.index(text) for text in order)


def test_start_shadowing_is_a_link_described_by_its_last_visit(
    client: FlaskClient, maria: User, world: World
):
    page = client.get("/today").get_data(as_text=True)
    link = re.search(r'<a class="agent-button"[^>]*>', page)
    assert link is not None
    assert f'href="/agents/{world.agent_alex.id}/shadow"' in link.group(0)
    assert "aria-label" not in link.group(0)
    assert 'aria-describedby="start-shadowing"' in link.group(0)
    assert '<h2 id="start-shadowing">Start shadowing</h2>' in page
    assert 'method="post" action="/agents/' not in page


def test_the_agent_search_works_as_a_get_filter(client: FlaskClient, maria: User, world: World):
    db.session.add(
        User(name="Cy Cole", role=Role.AGENT, team=world.team_a, role_profile=world.profile)
    )
    db.session.commit()
    page = client.get("/today?q=cOL").get_data(as_text=True)
    assert "Cy Cole" in page and "Alex Adams" not in page
    assert 'value="cOL"' in page
    none = client.get("/today?q=%25").get_data(as_text=True)
    assert "No agent of your teams has that name." in none


def test_checks_due_are_grouped_by_agent_with_the_rest_behind_show_all(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    extra = [f"Behaviour {n}" for n in range(3)]
    competency = world.profile.competencies[0]
    for position, name in enumerate(extra, start=10):
        competency.behaviours.append(type(world.behaviours[0])(name=name, position=position))
    db.session.commit()
    world.behaviours[:] = list(competency.behaviours)
    for index in range(5):
        correction_for(world, world.agent_alex, T0 - timedelta(days=3), behaviour=index)
    page = client.get("/today").get_data(as_text=True)
    assert '<span class="count" id="due-count">5</span>' in page
    group, rest = page.split('<details class="due-more"', 1)
    group = group.split('id="due-title"')[1]
    assert group.count('class="due-row"') == 3
    assert "Show all: 2 more" in rest
    assert rest.split("</details>")[0].count('class="due-row"') == 2


def test_today_statements_do_not_grow_with_agents_and_checks(
    client: FlaskClient, maria: User, world: World, frozen_clock: FrozenClock
):
    maria_id = maria.id
    team_id, profile_id, behaviour_id = world.team_a.id, world.profile.id, world.behaviours[0].id
    ladder = current_ladder()

    def add_agents(n: int) -> None:
        """n agents, each corrected in an ended session three days ago: n checks due today.
        Built as rows in one flush (the ladder's own path is tested elsewhere): fast at 500."""
        on = T0 - timedelta(days=3)
        start = count(User)
        for i in range(n):
            agent = User(
                name=f"Agent {start + i:04d}",
                role=Role.AGENT,
                team_id=team_id,
                role_profile_id=profile_id,
            )
            shadow = ShadowSession(
                manager_id=maria_id, agent=agent, client_uuid=uuid.uuid4(), started_at=on
            )
            shadow.ended_at = on
            observation = Observation(
                session=shadow,
                author_id=maria_id,
                agent=agent,
                kind=ObservationKind.CORRECTION,
                behaviour_id=behaviour_id,
                note="Forgot the name.",
                client_uuid=uuid.uuid4(),
                occurred_at=on,
                recorded_at=on,
            )
            state = scheduling.open_item(ladder, on.date())
            item = FocusItem(
                agent=agent,
                behaviour_id=behaviour_id,
                opening_observation=observation,
                opened_by_id=maria_id,
                opened_on=on.date(),
            )
            item.state = state
            item.followups.append(
                FollowUp(sequence=1, due_on=state.due_on, gap=state.due_gap, level=0)
            )
            db.session.add(item)
        db.session.commit()

    add_agents(10)
    few, _page = statements(client, "GET", "/today")
    add_agents(490)
    many, page = statements(client, "GET", "/today")
    assert "Show all 500 follow-ups due" in page
    assert few == many == 7


# --- outcomes ------------------------------------------------------------------------------


@dataclass
class Due:
    id: int
    check: int


@pytest.fixture
def due(world: World, frozen_clock: FrozenClock) -> Due:
    """Alex's first check on "Greets by name", due today (the correction was on Thursday)."""
    item = correction_for(world, world.agent_alex, T0 - timedelta(days=4))
    return Due(item.id, item.pending.id)


def record(client: FlaskClient, followup_id: int, outcome: str) -> str:
    answer = client.post(
        f"/followups/{followup_id}",
        data={"outcome": outcome, "client_uuid": str(uuid.uuid4())},
        headers=HX,
    )
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def state_of(item_id: int) -> tuple[FocusItem, list[tuple[Outcome | None, date]]]:
    db.session.expire_all()
    item = db.session.get(FocusItem, item_id)
    return item, [(f.outcome, f.due_on) for f in item.followups]


def test_an_outcome_can_be_undone_by_its_author_for_ten_minutes(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    check = due.check
    before = state_of(due.id)[0].state
    record(client, check, "sustained")
    frozen_clock.advance(minutes=10)
    count_, page = statements(client, "POST", f"/followups/{check}/undo", headers=HX)
    item, followups = state_of(due.id)
    assert followups == [(None, date(2026, 3, 2))]
    assert item.state == before
    assert "Sustained" not in page.split("<form")[0]
    assert '<span class="count" id="due-count" hx-swap-oob="true">1</span>' in page
    # Sign-in with its organisation, the check with its item, agent (the scope) and self-check,
    # the rule's checks, three writes, the dashboard's summary rows (5), the count, and what the
    # card shows (3).
    assert count_ == 15


def test_undoing_a_third_slip_takes_back_its_lapse_and_the_escalation(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    for _ in range(3):
        item = state_of(due.id)[0]
        frozen_clock.moment = datetime.combine(item.pending.due_on, T0.timetz())
        record(client, item.pending.id, "slipped")
    item = state_of(due.id)[0]
    assert (item.lapses, item.escalated) == (3, True)
    last = item.recorded[-1]
    history = [(f.outcome, f.observed_on) for f in item.recorded[:-1]]
    client.post(f"/followups/{last.id}/undo", headers=HX)
    item, _ = state_of(due.id)
    assert (item.lapses, item.escalated) == (2, False)
    assert item.state == scheduling.replay(current_ladder(), item.opened_on, history)
    assert item.pending.id == last.id


def test_the_dashboard_summaries_equal_a_recomputation_after_an_undo_and_a_change(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    from coachapp.dashboard import summaries

    record(client, due.check, "slipped")
    client.post(f"/followups/{due.check}/change", data={"change_to": "sustained"}, headers=HX)
    db.session.expire_all()
    assert summaries.stored() == summaries.expected()
    client.post(f"/followups/{due.check}/undo", headers=HX)
    db.session.expire_all()
    assert summaries.stored() == summaries.expected()
    assert summaries.stored()["counted_check"] == set()


def test_an_outcome_can_be_changed_and_the_ladder_follows(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    check = due.check
    record(client, check, "sustained")
    frozen_clock.advance(minutes=3)
    count_, page = statements(
        client, "POST", f"/followups/{check}/change", data={"change_to": "slipped"}, headers=HX
    )
    item, followups = state_of(due.id)
    assert followups == [(Outcome.SLIPPED, date(2026, 3, 2)), (None, date(2026, 3, 4))]
    assert (item.lapses, item.level, item.resume_level) == (1, 0, 0)
    assert 'class="badge badge-outcome-slipped">Slipped<' in page
    assert "the ladder starts over" in page
    assert '<span class="count" id="due-count" hx-swap-oob="true">0</span>' in page
    assert count_ == 17  # as the undo, with the next check scheduled anew
    followup = db.session.get(FollowUp, check)
    # Changed, the check still answers its first outbox item's UUID.
    assert followup.client_uuid is not None


def test_after_ten_minutes_an_outcome_stays(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    check = due.check
    record(client, check, "partly")
    frozen_clock.advance(minutes=10, seconds=1)
    answer = client.post(f"/followups/{check}/undo", headers=HX)
    assert answer.status_code == 409
    assert "more than 10 minutes ago, so it stays as recorded" in answer.get_data(as_text=True)
    assert state_of(due.id)[0].recorded[0].outcome == Outcome.PARTLY
    assert ">Undo<" not in client.get(f"/followups/{check}").get_data(as_text=True)


def test_someone_else_cannot_undo_an_outcome(
    client: FlaskClient, auth: Auth, maria: User, world: World, due: Due
):
    check = due.check
    record(client, check, "partly")
    deputy = User(name="Dana Deputy", role=Role.MANAGER, email="dana@example.org")
    deputy.managed_teams = [world.team_a]
    db.session.add(deputy)
    db.session.commit()
    auth.login(deputy)
    assert ">Undo<" not in client.get(f"/followups/{check}").get_data(as_text=True)
    answer = client.post(f"/followups/{check}/change", data={"change_to": "sustained"})
    assert answer.status_code == 403
    assert "Only the person who recorded this outcome" in answer.get_data(as_text=True)
    assert state_of(due.id)[0].recorded[0].outcome == Outcome.PARTLY


def test_a_slip_from_a_correction_is_changed_through_its_entry_not_here(
    client: FlaskClient, maria: User, world: World, due: Due
):
    shadow = make_session(maria, world.agent_alex, started_at=T0)
    again = make_observation(
        shadow, kind=ObservationKind.CORRECTION, behaviour_id=world.behaviours[0].id
    )
    apply_correction(again, current_ladder())
    db.session.commit()
    slip = state_of(due.id)[0].recorded[0]
    answer = client.post(f"/followups/{slip.id}/undo", headers=HX)
    assert answer.status_code == 409
    assert "change that entry instead" in answer.get_data(as_text=True)


def test_each_outcome_wears_the_mark_of_what_it_means(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    page = record(client, due.check, "no_chance")
    assert 'class="badge badge-outcome-no_chance">No chance<' in page
    assert "nothing was observed, so the ladder did not move on" in page
    css = (Path(__file__).parent.parent / "static" / "css" / "app.css").read_text()
    slipped = re.search(r"\.badge-outcome-slipped \{([^}]*)\}", css)
    assert slipped is not None and "--strength" not in slipped.group(1)
    assert "--correction" in slipped.group(1)


def test_outside_its_window_says_what_it_means(
    client: FlaskClient, maria: User, due: Due, frozen_clock: FrozenClock
):
    frozen_clock.advance(days=3)  # due Monday; the window closes on Tuesday
    page = record(client, due.check, "sustained")
    assert "Done outside its on-time window (Mon 2 Mar to Tue 3 Mar)" in page
    assert "It still counts for the ladder" in page
    assert "It held: the ladder moves on to check 2 of 6." in page


# --- the pure rule -------------------------------------------------------------------------


LADDER = scheduling.Ladder()
OPENED = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("recorded", "now", "allowed"),
    [
        (T0, T0, True),
        (T0, T0 + timedelta(minutes=10), True),
        (T0, T0 + timedelta(minutes=10, microseconds=1), False),
        (T0, T0 - timedelta(seconds=1), False),
    ],
)
def test_revisable_for_ten_minutes(recorded: datetime, now: datetime, allowed: bool):
    assert scheduling.revisable(recorded, now) is allowed


@pytest.mark.parametrize(
    ("history", "outcome"),
    [
        ([(Outcome.SUSTAINED, date(2026, 3, 4))], None),
        ([(Outcome.SUSTAINED, date(2026, 3, 4))], Outcome.SLIPPED),
        (
            [
                (Outcome.SLIPPED, date(2026, 3, 4)),
                (Outcome.SLIPPED, date(2026, 3, 6)),
                (Outcome.SLIPPED, date(2026, 3, 10)),
            ],
            None,
        ),
        ([(Outcome.PARTLY, date(2026, 3, 4)), (Outcome.NO_CHANCE, date(2026, 3, 9))], None),
    ],
)
def test_revise_last_is_a_replay_of_the_corrected_history(history, outcome):
    kept = history[:-1] + ([(outcome, history[-1][1])] if outcome else [])
    expected = scheduling.replay(LADDER, OPENED, kept)
    assert scheduling.revise_last(LADDER, OPENED, history, outcome) == expected


def test_undoing_the_third_slip_is_not_escalated():
    slips = [(Outcome.SLIPPED, date(2026, 3, day)) for day in (4, 6, 10)]
    assert scheduling.replay(LADDER, OPENED, slips).escalated
    undone = scheduling.revise_last(LADDER, OPENED, slips, None)
    # Due two days after the second slip: Sunday 8 March moves to Monday 9.
    assert (undone.lapses, undone.escalated, undone.due_on) == (2, False, date(2026, 3, 9))


def test_revise_last_needs_an_outcome():
    with pytest.raises(scheduling.SchedulingError):
        scheduling.revise_last(LADDER, OPENED, [], None)

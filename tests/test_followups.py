"""Focus items and follow-ups in the app: opening, slips, Today, recording outcomes, bad input."""

import threading
import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder, due_checks, last_note
from coachapp.models import FocusItem, FollowUp, ObservationKind
from coachapp.scheduling import Outcome, replay
from tests.conftest import Auth, World, make_observation, make_session

HX = {"HX-Request": "true"}


def correct(world: World, frozen_clock, behaviour_index: int = 0, agent=None, manager=None):
    """Log a correction now (by the frozen clock) and apply it to the ladder."""
    shadow = make_session(
        manager or world.manager_maria, agent or world.agent_alex, ended_at=frozen_clock.now()
    )
    observation = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[behaviour_index].id,
        note="Forgot to confirm next steps.",
        occurred_at=frozen_clock.now(),
    )
    return apply_correction(observation, current_ladder())


def outcome_form(outcome: str, **extra: str) -> dict[str, str]:
    return {"outcome": outcome, "client_uuid": str(uuid.uuid4()), **extra}


def test_a_correction_opens_an_item_due_two_days_later(world, frozen_clock):
    item = correct(world, frozen_clock)
    assert item.opened_on == date(2026, 3, 2)
    assert item.pending.due_on == date(2026, 3, 4)
    assert item.pending.level == 0


def test_a_correction_on_friday_is_due_on_monday(world, frozen_clock):
    frozen_clock.advance(days=4)  # Friday 6 March
    item = correct(world, frozen_clock)
    assert item.pending.due_on == date(2026, 3, 9)


def test_a_second_correction_is_a_slip_of_the_open_item(world, frozen_clock):
    first = correct(world, frozen_clock)
    frozen_clock.advance(days=1)
    second = correct(world, frozen_clock)
    assert second.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FocusItem)) == 1
    assert second.lapses == 1
    assert [f.outcome for f in second.followups] == [Outcome.SLIPPED, None]
    assert second.pending.due_on == date(2026, 3, 5)


def test_removing_the_correction_during_the_session_removes_the_item(client, auth, world):
    auth.login(world.manager_maria)
    shadow = make_session(world.manager_maria, world.agent_alex)
    response = client.post(
        f"/sessions/{shadow.id}/observations",
        data={
            "kind": "correction",
            "behaviour_id": str(world.behaviours[0].id),
            "client_uuid": str(uuid.uuid4()),
        },
        headers=HX,
    )
    assert response.status_code == 200
    item = db.session.scalar(sa.select(FocusItem))
    assert item is not None
    observation_id = item.opening_observation_id
    assert client.post(f"/observations/{observation_id}/delete", headers=HX).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FocusItem)) == 0


def test_today_lists_due_checks_most_overdue_first(client, auth, world, frozen_clock):
    older = correct(world, frozen_clock, behaviour_index=0)
    frozen_clock.advance(days=1)
    newer = correct(world, frozen_clock, behaviour_index=1)
    frozen_clock.advance(days=5)  # both overdue
    auth.login(world.manager_maria)
    page = client.get("/today").get_data(as_text=True)
    first = page.index(f"/followups/{older.pending.id}")
    second = page.index(f"/followups/{newer.pending.id}")
    assert first < second
    assert "check 1 of 6" in page
    assert "4 days late" in page and "3 days late" in page
    assert "Forgot to confirm next steps." in page


def test_today_hides_checks_not_yet_due(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    auth.login(world.manager_maria)
    assert f"/followups/{item.pending.id}" not in client.get("/today").get_data(as_text=True)


def test_today_shows_only_my_teams_checks(client, auth, world, frozen_clock):
    mine = correct(world, frozen_clock, agent=world.agent_alex)
    theirs = correct(world, frozen_clock, agent=world.agent_bo, manager=world.manager_mo)
    frozen_clock.advance(days=3)
    auth.login(world.manager_maria)
    page = client.get("/today").get_data(as_text=True)
    assert f"/followups/{mine.pending.id}" in page
    assert f"/followups/{theirs.pending.id}" not in page
    assert client.get(f"/followups/{theirs.pending.id}").status_code == 404
    response = client.post(f"/followups/{theirs.pending.id}", data=outcome_form("sustained"))
    assert response.status_code == 404


def test_recording_sustained_shows_the_next_due_date_at_once(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)  # Wednesday 4 March, due today
    auth.login(world.manager_maria)
    response = client.post(
        f"/followups/{item.pending.id}", data=outcome_form("sustained", note="Did it."), headers=HX
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'Recorded: <span class="badge badge-outcome-sustained">Sustained</span>' in page
    assert "(on time)" in page
    assert "Next check: Monday 9 March" in page
    db.session.expire_all()
    item = db.session.get(FocusItem, item.id)
    assert item.level == 1 and item.streak == 1
    assert item.pending.due_on == date(2026, 3, 9)


def test_slipped_records_what_was_coached_and_comes_back_in_two_days(
    client, auth, world, frozen_clock
):
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    client.post(
        f"/followups/{item.pending.id}",
        data=outcome_form("slipped", coached="Practised the closing phrase."),
        headers=HX,
    )
    db.session.expire_all()
    item = db.session.get(FocusItem, item.id)
    assert item.lapses == 1
    assert item.recorded[-1].coached == "Practised the closing phrase."
    assert item.pending.due_on == date(2026, 3, 6)


def test_a_double_tap_records_once(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    form = outcome_form("sustained")
    followup_id = item.pending.id
    first = client.post(f"/followups/{followup_id}", data=form, headers=HX)
    second = client.post(f"/followups/{followup_id}", data=form, headers=HX)
    assert first.status_code == second.status_code == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(FollowUp).where(FollowUp.outcome.is_not(None))
        )
        == 1
    )


def test_a_second_outcome_for_the_same_check_is_refused(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    followup_id = item.pending.id
    client.post(f"/followups/{followup_id}", data=outcome_form("sustained"), headers=HX)
    response = client.post(f"/followups/{followup_id}", data=outcome_form("slipped"), headers=HX)
    assert response.status_code == 409
    assert "already recorded" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(FocusItem, item.id).lapses == 0


def test_two_managers_at_once_record_one_outcome(app, world, frozen_clock):
    """Two clients post different outcomes for the same check at the same moment."""
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)
    followup_id = item.pending.id
    clients = [app.test_client(), app.test_client()]
    for test_client in clients:
        Auth(test_client).login(world.manager_maria)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(test_client, outcome):
        with app.app_context():
            barrier.wait()
            response = test_client.post(
                f"/followups/{followup_id}", data=outcome_form(outcome), headers=HX
            )
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=post, args=(c, o))
        for c, o in zip(clients, ["sustained", "slipped"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    db.session.expire_all()
    recorded = db.session.scalars(sa.select(FollowUp).where(FollowUp.outcome.is_not(None))).all()
    assert len(recorded) == 1
    pending = db.session.scalars(sa.select(FollowUp).where(FollowUp.outcome.is_(None))).all()
    assert len(pending) == 1


def test_an_outcome_dated_in_the_future_is_refused(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    auth.login(world.manager_maria)
    future = (frozen_clock.now() + timedelta(days=3)).isoformat()
    response = client.post(
        f"/followups/{item.pending.id}",
        data=outcome_form("sustained", occurred_at=future, note="Kept this note"),
        headers=HX,
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "cannot be dated in the future" in page
    assert "Kept this note" in page
    db.session.expire_all()
    assert db.session.get(FocusItem, item.id).recorded == []


def test_an_unknown_outcome_keeps_the_note(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    auth.login(world.manager_maria)
    response = client.post(
        f"/followups/{item.pending.id}",
        data=outcome_form("brilliant", note="Typed on the floor"),
        headers=HX,
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tap one of the four outcomes." in page and "Typed on the floor" in page


def test_an_over_long_note_is_refused(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    auth.login(world.manager_maria)
    response = client.post(
        f"/followups/{item.pending.id}", data=outcome_form("partly", note="x" * 4001), headers=HX
    )
    assert response.status_code == 422
    assert "under 4000 characters" in response.get_data(as_text=True)


def test_an_outcome_on_a_closed_item_is_refused(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    followup_id = item.pending.id
    item.status = "closed"
    db.session.commit()
    auth.login(world.manager_maria)
    response = client.post(f"/followups/{followup_id}", data=outcome_form("sustained"), headers=HX)
    assert response.status_code in (404, 409)
    db.session.expire_all()
    assert db.session.get(FollowUp, followup_id).outcome is None


def test_three_slips_escalate_the_item(world, frozen_clock):
    item = correct(world, frozen_clock)
    for _ in range(3):
        frozen_clock.advance(days=1)
        item = correct(world, frozen_clock)
    assert item.lapses == 3 and item.escalated


def test_stored_state_matches_a_replay_of_the_history(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    auth.login(world.manager_maria)
    for outcome, days in [("sustained", 2), ("partly", 5), ("slipped", 4), ("sustained", 2)]:
        frozen_clock.advance(days=days)
        db.session.expire_all()
        pending = db.session.get(FocusItem, item.id).pending
        response = client.post(f"/followups/{pending.id}", data=outcome_form(outcome), headers=HX)
        assert response.status_code == 200
    db.session.expire_all()
    item = db.session.get(FocusItem, item.id)
    history = [(f.outcome, f.observed_on) for f in item.recorded]
    assert replay(current_ladder(), item.opened_on, history) == item.state


def test_the_shadowing_screen_shows_the_agents_due_checks(client, auth, world, frozen_clock):
    item = correct(world, frozen_clock)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    shadow = make_session(world.manager_maria, world.agent_alex)
    page = client.get(f"/sessions/{shadow.id}").get_data(as_text=True)
    assert f'action="/followups/{item.pending.id}"' in page
    for label in ("Sustained", "Partly", "Slipped", "No chance"):
        assert f">{label}</button>" in page


def test_due_checks_load_everything_a_row_shows_in_one_query(app, world, frozen_clock):
    for index in range(2):
        correct(world, frozen_clock, behaviour_index=index)
    frozen_clock.advance(days=5)
    manager = db.session.get(type(world.manager_maria), world.manager_maria.id)
    statements: list[str] = []

    def count(*args) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        due = due_checks(manager, frozen_clock.now().date())
        shown = [
            (
                f.level,
                f.due_on,
                f.focus_item.agent.name,
                f.focus_item.behaviour.name,
                last_note(f.focus_item),
            )
            for f in due
        ]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(shown) == 2
    assert shown[0][4] == "Forgot to confirm next steps."
    assert len(statements) == 1


def test_today_shows_the_most_overdue_first_and_the_rest_on_request(
    client, auth, world, frozen_clock, monkeypatch
):
    from coachapp.shadowing import views

    monkeypatch.setattr(views, "TODAY_DUE_SHOWN", 1)
    older = correct(world, frozen_clock, behaviour_index=0)
    frozen_clock.advance(days=1)
    newer = correct(world, frozen_clock, behaviour_index=1)
    frozen_clock.advance(days=5)
    auth.login(world.manager_maria)
    page = client.get("/today").get_data(as_text=True)
    assert f"/followups/{older.pending.id}" in page
    assert f"/followups/{newer.pending.id}" not in page
    assert "Show all 2 follow-ups due" in page
    everything = client.get("/today?all=1").get_data(as_text=True)
    assert f"/followups/{newer.pending.id}" in everything
    assert "Show all" not in everything

"""The manager's shadowing flow: the service rules, then the pages a manager taps through."""

import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp import clock
from coachapp.errors import SessionEnded
from coachapp.extensions import db
from coachapp.models import Observation, ObservationKind, Role, ShadowSession, User
from coachapp.shadowing import service
from coachapp.shadowing.service import ObservationInput
from tests.conftest import Auth, World, make_observation, make_session

NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
ENDED = "This shadowing session has already ended."


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def strength(behaviour_id: int | None = None, note: str = "") -> ObservationInput:
    return ObservationInput(ObservationKind.STRENGTH, behaviour_id, note, "")


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The server's clock stopped at NOW."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World) -> User:
    """Maria, signed in on the test client."""
    auth.login(world.manager_maria)
    return world.manager_maria


@pytest.fixture
def shadow(world: World) -> ShadowSession:
    """Maria shadowing Alex right now."""
    return make_session(world.manager_maria, world.agent_alex)


def add_url(shadow: ShadowSession) -> str:
    return url_for("shadowing.add_observation", session_id=shadow.id)


def entry(**values: object) -> dict[str, str]:
    data = {"kind": "strength", "note": "", "client_uuid": str(uuid.uuid4())}
    data.update({key: str(value) for key, value in values.items()})
    return data


HTMX = {"HX-Request": "true"}


# --- the service -------------------------------------------------------------------------


def test_start_session_is_idempotent_on_the_uuid(world: World):
    key = uuid.uuid4()
    first = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=key, now=NOW
    )
    again = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=key, now=NOW
    )
    assert again.id == first.id
    assert first.started_at == NOW
    assert count(ShadowSession) == 1


def test_start_session_reopens_the_open_session_with_that_agent(world: World):
    first = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=uuid.uuid4(), now=NOW
    )
    second = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=uuid.uuid4(), now=NOW
    )
    assert second.id == first.id
    assert count(ShadowSession) == 1


def test_start_session_after_the_last_one_ended_makes_a_new_one(world: World):
    first = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=uuid.uuid4(), now=NOW
    )
    make_observation(first)
    service.end_session(session=first, summary_note="", now=NOW)
    second = service.start_session(
        manager=world.manager_maria, agent=world.agent_alex, client_uuid=uuid.uuid4(), now=NOW
    )
    assert second.id != first.id
    assert second.is_open
    assert count(ShadowSession) == 2


def test_record_observation_stores_both_clocks(world: World, shadow: ShadowSession):
    phone_time = NOW - timedelta(hours=2)
    observation, created = service.record_observation(
        session=shadow,
        author=world.manager_maria,
        entry=strength(world.behaviours[0].id),
        client_uuid=uuid.uuid4(),
        occurred_at=phone_time,
        now=NOW,
    )
    assert created
    db.session.expire_all()
    stored = db.session.get(Observation, observation.id)
    assert stored is not None
    assert (stored.occurred_at, stored.recorded_at) == (phone_time, NOW)
    assert stored.agent_id == world.agent_alex.id
    assert stored.author_id == world.manager_maria.id


def test_record_observation_replay_creates_nothing(world: World, shadow: ShadowSession):
    key = uuid.uuid4()
    kwargs = {"session": shadow, "author": world.manager_maria, "occurred_at": NOW, "now": NOW}
    first, created = service.record_observation(
        entry=strength(note="first"), client_uuid=key, **kwargs
    )
    again, created_again = service.record_observation(
        entry=strength(note="second"), client_uuid=key, **kwargs
    )
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert again.note == "first"
    assert count(Observation) == 1


def test_coached_is_kept_only_for_a_correction(world: World, shadow: ShadowSession):
    kwargs = {"session": shadow, "author": world.manager_maria, "occurred_at": NOW, "now": NOW}
    correction, _ = service.record_observation(
        entry=ObservationInput(ObservationKind.CORRECTION, None, "late", "showed the macro"),
        client_uuid=uuid.uuid4(),
        **kwargs,
    )
    plain, _ = service.record_observation(
        entry=ObservationInput(ObservationKind.STRENGTH, None, "warm", "stray text"),
        client_uuid=uuid.uuid4(),
        **kwargs,
    )
    assert correction.coached == "showed the macro"
    assert plain.coached == ""


def test_an_ended_session_takes_no_new_or_changed_entries(world: World, shadow: ShadowSession):
    kept = make_observation(shadow, note="as it was")
    service.end_session(session=shadow, summary_note="done", now=NOW)

    with pytest.raises(SessionEnded):
        service.record_observation(
            session=shadow,
            author=world.manager_maria,
            entry=strength(note="late"),
            client_uuid=uuid.uuid4(),
            occurred_at=NOW,
            now=NOW,
        )
    with pytest.raises(SessionEnded):
        service.update_observation(observation=kept, entry=strength(note="changed"), now=NOW)
    with pytest.raises(SessionEnded):
        service.remove_observation(observation=kept)

    db.session.rollback()
    assert count(Observation) == 1
    assert db.session.get(Observation, kept.id).note == "as it was"  # type: ignore[union-attr]


def test_replaying_a_saved_entry_after_the_end_is_not_an_error(world: World, shadow: ShadowSession):
    """The outbox may replay an entry the server already stored before the session ended."""
    saved = make_observation(shadow)
    service.end_session(session=shadow, summary_note="", now=NOW)
    again, created = service.record_observation(
        session=shadow,
        author=world.manager_maria,
        entry=strength(note="replayed"),
        client_uuid=saved.client_uuid,
        occurred_at=NOW,
        now=NOW,
    )
    assert (again.id, created) == (saved.id, False)


def test_ending_twice_keeps_the_first_end(shadow: ShadowSession):
    make_observation(shadow)
    service.end_session(session=shadow, summary_note="first", now=NOW)
    service.end_session(session=shadow, summary_note="second", now=NOW + timedelta(hours=1))
    db.session.expire_all()
    assert (shadow.summary_note, shadow.ended_at) == ("first", NOW)


def test_count_by_kind_names_every_kind(shadow: ShadowSession):
    make_observation(shadow, kind=ObservationKind.CORRECTION)
    make_observation(shadow, kind=ObservationKind.CORRECTION)
    db.session.refresh(shadow)
    assert service.count_by_kind(shadow.observations) == {
        ObservationKind.STRENGTH: 0,
        ObservationKind.CORRECTION: 2,
        ObservationKind.OBSTACLE: 0,
    }


# --- Today -------------------------------------------------------------------------------


def test_today_lists_my_teams_agents_recently_shadowed_first(
    client: FlaskClient, maria: User, world: World
):
    def agent(name: str) -> User:
        person = User(name=name, role=Role.AGENT, team=world.team_a, role_profile=world.profile)
        db.session.add(person)
        return person

    cy, dee, gone = agent("Cy Cole"), agent("Dee Dunn"), agent("Gil Gone")
    gone.active = False
    db.session.commit()
    make_observation(make_session(maria, dee, started_at=NOW - timedelta(days=1), ended_at=NOW))
    make_observation(
        make_session(maria, world.agent_alex, started_at=NOW - timedelta(days=9), ended_at=NOW)
    )
    # Mo shadowing Cy does not count as Maria having shadowed Cy.
    make_observation(make_session(world.manager_mo, cy, started_at=NOW, ended_at=NOW))

    page = client.get(url_for("shadowing.today")).get_data(as_text=True)

    names = ["Dee Dunn", "Alex Adams", "Cy Cole"]
    assert [page.index(name) for name in names] == sorted(page.index(name) for name in names)
    assert "last shadowed" in page
    assert "not shadowed yet" in page
    assert "Bo Berg" not in page
    assert "Gil Gone" not in page


def test_today_offers_to_continue_an_open_session(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    make_observation(shadow)
    page = client.get(url_for("shadowing.today")).get_data(as_text=True)
    assert "Continue with Alex Adams" in page
    assert f'href="/sessions/{shadow.id}"' in page


# --- starting ----------------------------------------------------------------------------


def test_an_old_start_button_opens_the_screen_and_starts_nothing(
    client: FlaskClient, maria: User, world: World
):
    url = url_for("shadowing.start", agent_id=world.agent_alex.id)
    answer = client.post(url, data={"client_uuid": str(uuid.uuid4())})
    assert answer.status_code == 303
    assert answer.location == f"/agents/{world.agent_alex.id}/shadow"
    page = client.get(answer.location).get_data(as_text=True)
    assert "<h1>Alex Adams</h1>" in page
    assert count(ShadowSession) == 0


@pytest.mark.parametrize("who", ["agent_bo", "agent_alex_deactivated", "manager_mo", "nobody"])
def test_start_outside_my_teams_is_404(client: FlaskClient, maria: User, world: World, who: str):
    if who == "agent_alex_deactivated":
        world.agent_alex.active = False
        db.session.commit()
    agent_id = {
        "agent_bo": world.agent_bo.id,
        "agent_alex_deactivated": world.agent_alex.id,
        "manager_mo": world.manager_mo.id,
        "nobody": 999_999,
    }[who]
    answer = client.post(
        url_for("shadowing.start", agent_id=agent_id), data={"client_uuid": str(uuid.uuid4())}
    )
    assert answer.status_code == 404
    assert "Not found" in answer.get_data(as_text=True)
    assert count(ShadowSession) == 0


# --- recording ---------------------------------------------------------------------------


def test_strength_with_a_behaviour_takes_two_fields(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    behaviour = world.behaviours[0]
    answer = client.post(
        add_url(shadow),
        data={"kind": "strength", "behaviour_id": behaviour.id, "client_uuid": str(uuid.uuid4())},
    )
    assert answer.status_code == 303
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.kind, stored.behaviour_id, stored.note) == (
        ObservationKind.STRENGTH,
        behaviour.id,
        "",
    )
    assert stored.agent_id == world.agent_alex.id


def test_correction_keeps_what_was_coached(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    client.post(
        add_url(shadow),
        data=entry(
            kind="correction",
            behaviour_id=world.behaviours[1].id,
            note="  Skipped the recap.  ",
            coached="Practised the closing line together.",
        ),
    )
    stored = db.session.scalars(sa.select(Observation)).one()
    assert stored.kind == ObservationKind.CORRECTION
    assert stored.note == "Skipped the recap."
    assert stored.coached == "Practised the closing line together."


def test_a_correction_without_a_behaviour_keeps_what_was_coached_too(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    """It takes no ladder step, so the save is the one-statement insert."""
    answer = client.post(
        add_url(shadow),
        data=entry(kind="correction", note="Rushed the close.", coached="Asked twice."),
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.kind, stored.behaviour_id) == (ObservationKind.CORRECTION, None)
    assert stored.coached == "Asked twice."


def test_obstacle_needs_a_note(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    refused = client.post(
        add_url(shadow), data=entry(kind="obstacle", behaviour_id=world.behaviours[0].id)
    )
    assert refused.status_code == 422
    assert "Say in a few words what gets in the way." in refused.get_data(as_text=True)
    assert count(Observation) == 0

    client.post(add_url(shadow), data=entry(kind="obstacle", note="The CRM froze twice."))
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.kind, stored.behaviour_id, stored.note) == (
        ObservationKind.OBSTACLE,
        None,
        "The CRM froze twice.",
    )


def test_htmx_save_answers_only_what_changed(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    answer = client.post(
        add_url(shadow), data=entry(note="Warm greeting, used her name."), headers=HTMX
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "HX-Request" in answer.headers["Vary"]
    assert answer.headers["HX-Reswap"] == "none"
    assert '<section id="capture"' not in body and "<html" not in body
    assert "Warm greeting, used her name." in body
    assert "Strength saved" in body
    assert "Undo" in body
    # The form is ready for the next entry: empty note, a fresh UUID.
    stored = db.session.scalars(sa.select(Observation)).one()
    assert f'value="{stored.client_uuid}"' not in body
    assert 'name="client_uuid" value="' in body
    assert '<textarea id="note" name="note"' in body and "></textarea>" in body


def test_after_an_obstacle_the_emptied_note_stays_required(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    """The kind stays chosen on the screen after a save: the note swapped in for the next entry
    says it is required while "obstacle" is still the kind, and not after a strength."""
    note = re.compile(r'<textarea id="note" name="note"[^>]*>')
    answer = client.post(
        add_url(shadow), data=entry(kind="obstacle", note="No headset on the desk."), headers=HTMX
    )
    assert answer.status_code == 200
    (textarea,) = note.findall(answer.get_data(as_text=True))
    assert 'aria-required="true"' in textarea and 'hx-swap-oob="true"' in textarea
    assert "No headset on the desk.</textarea>" not in answer.get_data(as_text=True)

    answer = client.post(add_url(shadow), data=entry(note="Calm voice."), headers=HTMX)
    (textarea,) = note.findall(answer.get_data(as_text=True))
    assert "aria-required" not in textarea


def test_plain_save_redirects_to_the_full_page(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    answer = client.post(add_url(shadow), data=entry(note="Calm with an angry caller."))
    assert answer.status_code == 303
    assert answer.location == f"/sessions/{shadow.id}?kind=strength"

    page = client.get(answer.location)
    body = page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    assert body.startswith("<!doctype html>")
    assert '<section id="capture"' in body
    assert "Calm with an angry caller." in body
    assert "End session" in body


def test_entries_list_newest_first_during_the_session(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    make_observation(shadow, note="Older entry", occurred_at=NOW - timedelta(minutes=30))
    make_observation(shadow, note="Newer entry", occurred_at=NOW)
    body = client.get(url_for("shadowing.session", session_id=shadow.id)).get_data(as_text=True)
    assert body.index("Newer entry") < body.index("Older entry")


def test_fix_an_entry(client: FlaskClient, maria: User, world: World, shadow: ShadowSession):
    saved = make_observation(shadow, note="Greeted warmly", behaviour_id=world.behaviours[0].id)

    editor = client.get(url_for("shadowing.edit_observation", observation_id=saved.id))
    assert "Greeted warmly</textarea>" in editor.get_data(as_text=True)

    answer = client.post(
        url_for("shadowing.update_observation", observation_id=saved.id),
        data=entry(kind="correction", behaviour_id=world.behaviours[1].id, note="Forgot recap"),
        headers=HTMX,
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert body.lstrip().startswith(f'<li class="entry entry-correction" id="entry-{saved.id}"')
    assert "Forgot recap" in body
    db.session.expire_all()
    fixed = db.session.get(Observation, saved.id)
    assert fixed is not None
    assert (fixed.kind, fixed.behaviour_id, fixed.note) == (
        ObservationKind.CORRECTION,
        world.behaviours[1].id,
        "Forgot recap",
    )
    assert fixed.updated_at is not None
    assert fixed.client_uuid == saved.client_uuid
    assert count(Observation) == 1


def test_fix_with_bad_input_keeps_the_entry_and_the_typing(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    saved = make_observation(shadow, note="As saved")
    answer = client.post(
        url_for("shadowing.update_observation", observation_id=saved.id),
        data=entry(kind="obstacle", note=""),
        headers=HTMX,
    )
    assert answer.status_code == 422
    assert "Say in a few words what gets in the way." in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Observation, saved.id).note == "As saved"  # type: ignore[union-attr]


def test_remove_an_entry(client: FlaskClient, maria: User, shadow: ShadowSession):
    gone, kept = make_observation(shadow, note="Oops"), make_observation(shadow, note="Keep me")

    answer = client.post(
        url_for("shadowing.remove_observation", observation_id=gone.id), headers=HTMX
    )

    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == ""
    assert db.session.scalars(sa.select(Observation.id)).all() == [kept.id]
    page = client.get(url_for("shadowing.session", session_id=shadow.id)).get_data(as_text=True)
    assert "Oops" not in page
    assert "Keep me" in page


def test_remove_without_htmx_goes_back_to_the_session(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    gone = make_observation(shadow)
    answer = client.post(url_for("shadowing.remove_observation", observation_id=gone.id))
    assert answer.status_code == 303
    assert answer.location == f"/sessions/{shadow.id}"
    assert count(Observation) == 0


def test_another_managers_entries_are_404(
    client: FlaskClient, auth: Auth, world: World, shadow: ShadowSession
):
    saved = make_observation(shadow, note="Maria's")
    auth.login(world.manager_mo)
    urls = [
        ("GET", url_for("shadowing.edit_observation", observation_id=saved.id)),
        ("POST", url_for("shadowing.update_observation", observation_id=saved.id)),
        ("POST", url_for("shadowing.remove_observation", observation_id=saved.id)),
        ("POST", add_url(shadow)),
        ("POST", url_for("shadowing.end", session_id=shadow.id)),
    ]
    for method, url in urls:
        answer = client.open(url, method=method, data=entry(note="Mo's text"))
        assert answer.status_code == 404, url
    db.session.expire_all()
    assert [o.note for o in db.session.scalars(sa.select(Observation))] == ["Maria's"]
    assert shadow.is_open


# --- ending ------------------------------------------------------------------------------


def test_end_session_with_a_summary(client: FlaskClient, maria: User, shadow: ShadowSession):
    make_observation(shadow, kind=ObservationKind.CORRECTION, note="Rushed the close")
    make_observation(shadow, kind=ObservationKind.STRENGTH, note="Great empathy")

    answer = client.post(
        url_for("shadowing.end", session_id=shadow.id),
        data={"summary_note": "  Solid shift; keep the recap.  "},
    )

    assert answer.status_code == 303
    db.session.expire_all()
    assert shadow.ended_at is not None
    assert shadow.summary_note == "Solid shift; keep the recap."
    page = client.get(answer.location).get_data(as_text=True)
    assert "Session with Alex Adams" in page
    assert "Solid shift; keep the recap." in page
    assert "1 strength" in page
    assert "1 correction" in page
    assert "0 obstacles" in page
    assert page.index("Great empathy") < page.index("Rushed the close")
    assert '<section id="capture"' not in page


def test_end_with_an_over_long_summary_keeps_the_session_open(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    typed = "x" * 4001
    answer = client.post(
        url_for("shadowing.end", session_id=shadow.id), data={"summary_note": typed}
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Keep this under 4000 characters." in body
    assert f">{typed}</textarea>" in body
    db.session.expire_all()
    assert shadow.is_open


@pytest.fixture
def ended(shadow: ShadowSession) -> tuple[ShadowSession, Observation]:
    """Maria's session with Alex, ended with one entry in it."""
    saved = make_observation(shadow, note="As it was")
    service.end_session(session=shadow, summary_note="Done", now=NOW)
    db.session.commit()  # the service flushes; its caller commits
    return shadow, saved


def assert_unchanged(saved: Observation) -> None:
    db.session.expire_all()
    assert db.session.scalars(sa.select(Observation.note)).all() == ["As it was"]


def test_adding_after_the_end_is_409(
    client: FlaskClient, maria: User, ended: tuple[ShadowSession, Observation]
):
    shadow, saved = ended
    answer = client.post(add_url(shadow), data=entry(note="Typed after the end"), headers=HTMX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert ENDED in body
    assert "Typed after the end</textarea>" in body
    assert_unchanged(saved)


def test_adding_after_the_end_without_htmx_is_409(
    client: FlaskClient, maria: User, ended: tuple[ShadowSession, Observation]
):
    shadow, saved = ended
    answer = client.post(add_url(shadow), data=entry(note="Typed after the end"))
    assert answer.status_code == 409
    assert ENDED in answer.get_data(as_text=True)
    assert_unchanged(saved)


def test_fixing_after_the_end_is_409(
    client: FlaskClient, maria: User, ended: tuple[ShadowSession, Observation]
):
    _shadow, saved = ended
    answer = client.post(
        url_for("shadowing.update_observation", observation_id=saved.id),
        data=entry(note="Changed after the end"),
        headers=HTMX,
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert ENDED in body
    assert "Changed after the end</textarea>" in body
    assert_unchanged(saved)


def test_removing_after_the_end_is_409(
    client: FlaskClient, maria: User, ended: tuple[ShadowSession, Observation]
):
    _shadow, saved = ended
    for headers in (HTMX, {}):
        answer = client.post(
            url_for("shadowing.remove_observation", observation_id=saved.id), headers=headers
        )
        assert answer.status_code == 409
        assert ENDED in answer.get_data(as_text=True)
    assert_unchanged(saved)


def test_ending_again_changes_nothing(
    client: FlaskClient, maria: User, ended: tuple[ShadowSession, Observation]
):
    shadow, _saved = ended
    answer = client.post(
        url_for("shadowing.end", session_id=shadow.id), data={"summary_note": "Another"}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert (shadow.summary_note, shadow.ended_at) == ("Done", NOW)


# --- the agent's page --------------------------------------------------------------------


def test_agent_page_shows_ended_sessions_strengths_first(
    client: FlaskClient, auth: Auth, world: World, shadow: ShadowSession
):
    make_observation(
        shadow, kind=ObservationKind.OBSTACLE, note="Queue tool froze", occurred_at=NOW
    )
    make_observation(
        shadow, kind=ObservationKind.CORRECTION, note="Rushed the close", occurred_at=NOW
    )
    make_observation(shadow, kind=ObservationKind.CORRECTION, note="No recap", occurred_at=NOW)
    make_observation(
        shadow,
        kind=ObservationKind.STRENGTH,
        note="Great empathy",
        occurred_at=NOW - timedelta(hours=1),
    )
    service.end_session(session=shadow, summary_note="Keep the recap in mind.", now=NOW)
    still_open = make_session(world.manager_maria, world.agent_alex)
    make_observation(still_open, note="Not yet shared")

    for viewer in (world.manager_maria, world.agent_alex, world.trainer_tara):
        auth.login(viewer)
        page = client.get(url_for("log.agent", agent_id=world.agent_alex.id))
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        heading = "My coaching log" if viewer is world.agent_alex else "Alex Adams"
        assert f"<h1>{heading}</h1>" in body
        assert "Keep the recap in mind." in body
        assert "1 strength" in body
        assert "2 corrections" in body
        assert "1 obstacle" in body
        assert "with Maria Santos" in body
        assert body.index("Great empathy") < body.index("Rushed the close")
        assert body.index("Rushed the close") < body.index("Queue tool froze")
        assert "Not yet shared" not in body


# --- bad input: a clear message, the typing kept, never a 500 or a second row -------------


@pytest.mark.parametrize(
    ("fields", "message", "typed"),
    [
        ({"kind": "strength", "note": "   "}, "Tap a behaviour or write a note.", None),
        ({"kind": "obstacle", "note": ""}, "Say in a few words what gets in the way.", None),
        ({"kind": "strength", "note": "n" * 4001}, "Keep this under 4000 characters.", None),
        (
            {"kind": "correction", "note": "Forgot", "coached": "c" * 4001},
            "Keep this under 4000 characters.",
            "c" * 4001,
        ),
        (
            {"kind": "strength", "note": "Kept text", "behaviour_id": "999999"},
            "Choose one of this agent's behaviours.",
            None,
        ),
        (
            {"kind": "strength", "note": "Kept text", "behaviour_id": "abc"},
            "Choose one of this agent's behaviours.",
            None,
        ),
        ({"kind": "", "note": "Kept text"}, "Choose strength, correction or obstacle first.", None),
        ({"kind": "praise", "note": "Kept text"}, "Not a valid choice", None),
        (
            {"kind": "strength", "note": "Kept text", "occurred_at": "yesterday at noon"},
            "The time of this entry was not understood.",
            None,
        ),
        (
            {"kind": "strength", "note": "Kept text", "occurred_at": "2026-03-10T14:30:00"},
            "The time of this entry was not understood.",
            None,
        ),
    ],
    ids=[
        "blank-note",
        "obstacle-without-note",
        "note-too-long",
        "coached-too-long",
        "unknown-behaviour",
        "behaviour-not-a-number",
        "no-kind",
        "unknown-kind",
        "malformed-time",
        "time-without-zone",
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_bad_entry_is_refused_with_the_typing_kept(
    client: FlaskClient,
    maria: User,
    shadow: ShadowSession,
    fields: dict[str, str],
    message: str,
    typed: str | None,
    htmx: bool,
):
    data = entry(**fields)
    answer = client.post(add_url(shadow), data=data, headers=HTMX if htmx else {})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert message in body
    assert f">{(typed or fields['note']).strip()}</textarea>" in body
    # The same UUID goes back, so the corrected retry is still one entry.
    assert f'name="client_uuid" value="{data["client_uuid"]}" id="capture-uuid"' in body
    assert body.lstrip().startswith('<form class="card capture-form"') is htmx
    assert count(Observation) == 0


def test_behaviour_from_another_role_profile_is_refused(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    answer = client.post(
        add_url(shadow),
        data=entry(note="Called ahead", behaviour_id=world.foreign_behaviour.id),
        headers=HTMX,
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Choose one of this agent's behaviours." in body
    assert ">Called ahead</textarea>" in body
    assert count(Observation) == 0


def test_a_note_of_exactly_4000_characters_is_kept(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    answer = client.post(add_url(shadow), data=entry(note="n" * 4000))
    assert answer.status_code == 303
    assert len(db.session.scalars(sa.select(Observation.note)).one()) == 4000


def test_entry_for_an_agent_outside_my_teams_is_404(client: FlaskClient, maria: User, world: World):
    bos_session = make_session(world.manager_mo, world.agent_bo)
    answer = client.post(add_url(bos_session), data=entry(note="Not my agent"), headers=HTMX)
    assert answer.status_code == 404
    assert "not yours to see" in answer.get_data(as_text=True)
    assert count(Observation) == 0


def test_entry_after_the_agent_left_my_teams_is_404(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    world.agent_alex.team = world.team_b
    db.session.commit()
    answer = client.post(add_url(shadow), data=entry(note="Moved on"))
    assert answer.status_code == 404
    assert count(Observation) == 0


def test_double_tap_on_save_stores_one_entry(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    data = entry(note="Tapped twice")
    first = client.post(add_url(shadow), data=data, headers=HTMX)
    second = client.post(add_url(shadow), data=data, headers=HTMX)
    assert first.status_code == second.status_code == 200
    assert second.get_data(as_text=True).count("Tapped twice") == 1
    assert count(Observation) == 1


def test_simultaneous_double_submission_stores_one_entry(
    app: Flask, world: World, shadow: ShadowSession, monkeypatch: pytest.MonkeyPatch
):
    """Two requests that both find no entry yet: the unique key decides, neither fails."""
    clients = [app.test_client(), app.test_client()]
    for each in clients:
        Auth(each).login(world.manager_maria)
    data = entry(kind="strength", note="Sent twice at once")
    url = add_url(shadow)

    # Hold both requests right before their insert, so both try it.
    both_ready = threading.Barrier(2, timeout=10)
    held = threading.local()
    insert, lookup = service.insert_new, service._observation_by_uuid
    inserted: list[int | None] = []
    lookups: list[Observation | None] = []

    def wait_then_insert(*args: Any, **kwargs: Any) -> int | None:
        if not getattr(held, "once", False):
            held.once = True
            both_ready.wait()
        new_id = insert(*args, **kwargs)
        inserted.append(new_id)
        return new_id

    def looked_up(author_id: int, client_uuid: uuid.UUID) -> Observation | None:
        found = lookup(author_id, client_uuid)
        lookups.append(found)
        return found

    monkeypatch.setattr(service, "insert_new", wait_then_insert)
    monkeypatch.setattr(service, "_observation_by_uuid", looked_up)
    statuses: list[int] = []

    def post(each: FlaskClient) -> None:
        statuses.append(each.post(url, data=data).status_code)

    threads = [threading.Thread(target=post, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert statuses == [303, 303]
    assert count(Observation) == 1
    # One insert stored the row; the other stored nothing and the loser found the winner's row.
    assert sorted(new_id is None for new_id in inserted) == [False, True]
    assert [found is None for found in lookups] == [False]


# --- the phone's clock -------------------------------------------------------------------


def test_a_future_phone_time_is_refused(
    client: FlaskClient, maria: User, shadow: ShadowSession, frozen_clock: datetime
):
    ahead = (frozen_clock + timedelta(minutes=11)).isoformat()
    answer = client.post(
        add_url(shadow), data=entry(note="From the future", occurred_at=ahead), headers=HTMX
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "This entry is dated in the future; check the phone's clock." in body
    assert ">From the future</textarea>" in body
    assert count(Observation) == 0


def test_a_phone_clock_slightly_ahead_is_accepted(
    client: FlaskClient, maria: User, shadow: ShadowSession, frozen_clock: datetime
):
    ahead = frozen_clock + timedelta(minutes=9)
    answer = client.post(add_url(shadow), data=entry(note="Soon", occurred_at=ahead.isoformat()))
    assert answer.status_code == 303
    assert db.session.scalars(sa.select(Observation.occurred_at)).one() == ahead


def test_a_past_phone_time_is_kept_beside_the_servers(
    client: FlaskClient, maria: User, shadow: ShadowSession, frozen_clock: datetime
):
    """An entry saved offline an hour ago keeps the phone's time; recorded_at is the server's."""
    answer = client.post(
        add_url(shadow), data=entry(note="Saved offline", occurred_at="2026-03-10T14:15:00+01:00")
    )
    assert answer.status_code == 303
    stored = db.session.scalars(sa.select(Observation)).one()
    assert stored.occurred_at == datetime(2026, 3, 10, 13, 15, tzinfo=UTC)
    assert stored.recorded_at == frozen_clock


def test_a_missing_phone_time_is_the_servers(
    client: FlaskClient, maria: User, shadow: ShadowSession, frozen_clock: datetime
):
    client.post(add_url(shadow), data=entry(note="No time"))
    stored = db.session.scalars(sa.select(Observation)).one()
    assert stored.occurred_at == stored.recorded_at == frozen_clock


def test_undo_from_the_confirmation_bar_removes_the_entry(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    saved = client.post(add_url(shadow), data=entry(note="Too quick a tap."), headers=HTMX)
    stored = db.session.scalars(sa.select(Observation)).one()
    assert f"/observations/{stored.id}/undo" in saved.get_data(as_text=True)
    answer = client.post(f"/observations/{stored.id}/undo", headers=HTMX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'<li id="entry-{stored.id}" hx-swap-oob="delete">' in body
    assert "Undone: the entry was removed." in body
    assert count(Observation) == 0

"""The shadowing screen's capture area: what an htmx save answers (only what changed, out of band),
what it costs in statements, the kind kept for the next entry, an obstacle's note, the header."""

import re
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event

from coachapp.extensions import db
from coachapp.models import Observation, ObservationKind, ShadowSession, User
from tests.conftest import Auth, World, make_observation, make_session

HTMX = {"HX-Request": "true"}


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World) -> User:
    """Maria, manager of Alex's team, signed in on the test client."""
    auth.login(world.manager_maria)
    return world.manager_maria


@pytest.fixture
def shadow(world: World) -> ShadowSession:
    """Maria shadowing Alex right now."""
    return make_session(world.manager_maria, world.agent_alex)


def save(
    client: FlaskClient,
    shadow: ShadowSession | int,
    headers: dict[str, str] | None = None,
    **fields,
):  # type: ignore[no-untyped-def]
    data = {"kind": "strength", "note": "", "client_uuid": str(uuid.uuid4()), **fields}
    session_id = shadow if isinstance(shadow, int) else shadow.id
    return client.post(f"/sessions/{session_id}/observations", data=data, headers=headers or {})


def statements_of(request) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    """The response of `request()` and the SQL statements it ran, from an empty session."""
    counted: list[str] = []

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = request()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return answer, counted


def test_htmx_save_answers_the_new_entry_and_the_confirmation_out_of_band(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    greets = world.behaviours[0]
    answer = save(client, shadow, HTMX, behaviour_id=greets.id)
    body = answer.get_data(as_text=True)
    stored = db.session.scalars(sa.select(Observation)).one()
    assert answer.status_code == 200
    assert answer.headers["HX-Reswap"] == "none"  # the form stays: the kind stays chosen
    assert body.lstrip().startswith('<ul hx-swap-oob="afterbegin:#entry-list">')
    assert f'<li class="entry entry-strength just-saved" id="entry-{stored.id}"' in body
    assert '<div id="capture-confirm" hx-swap-oob="innerHTML">' in body
    assert f"<strong>Strength saved</strong>: {greets.name}</p>" in body
    assert f'hx-post="/observations/{stored.id}/undo"' in body
    assert "Add a note" in body
    fresh_id = r'name="client_uuid" value="[0-9a-f-]{36}" id="capture-uuid" hx-swap-oob="true">'
    assert re.search(fresh_id, body)
    assert f'value="{stored.client_uuid}" id="capture-uuid"' not in body
    assert '<textarea id="note" name="note"' in body and 'hx-swap-oob="true"></textarea>' in body
    # Nothing else: no chips, no kinds, no list heading, no page.
    for absent in ('class="chip"', 'name="kind"', "This session", "<html", 'id="capture"'):
        assert absent not in body


def test_htmx_save_runs_a_fixed_number_of_statements(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    """Three, and the commit: the sign-in (login session, user and organisation in one), the
    behaviour (one indexed look-up that also renders the entry), and the insert that takes its
    row from Maria's open session with the agent in her teams and cannot store a replay twice.
    Neither the session nor the agent is loaded; rendering asks nothing more."""
    first, second, session_id = world.behaviours[1].id, world.behaviours[0].id, shadow.id
    save(client, session_id, HTMX, behaviour_id=first)  # a first request warms caches
    answer, statements = statements_of(lambda: save(client, session_id, HTMX, behaviour_id=second))
    assert answer.status_code == 200
    assert len(statements) == EXPECTED_HTMX_SAVE_STATEMENTS, "\n".join(statements)


def test_an_htmx_correction_draws_its_behaviour_without_asking_for_it_again(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    """A correction goes rule by rule (its ladder step needs the session loaded): the chosen
    behaviour, read as its id and name, is in the ORM session by then, so the entry drawn in the
    answer names it and no statement reads the behaviour a second time."""
    warm, chosen = world.behaviours[1].id, world.behaviours[0]
    chosen_id, name, session_id = chosen.id, chosen.name, shadow.id
    save(client, session_id, HTMX, kind="correction", behaviour_id=warm)
    answer, statements = statements_of(
        lambda: save(client, session_id, HTMX, kind="correction", behaviour_id=chosen_id)
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"<strong>Correction saved</strong>: {name}</p>" in body
    assert f'<strong data-field="behaviour">{name}</strong>' in body
    reads = [sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]
    reading_the_behaviour = [sql for sql in reads if "FROM behaviour" in sql]
    assert len(reading_the_behaviour) == 1, "\n".join(reads)
    # Put into the session as it was read, it is not written back either.
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE BEHAVIOUR")]


def test_an_htmx_replay_draws_the_stored_entry_with_its_behaviour(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    chosen = world.behaviours[0]
    tap = str(uuid.uuid4())
    first = save(client, shadow.id, HTMX, behaviour_id=chosen.id, client_uuid=tap)
    again = save(client, shadow.id, HTMX, behaviour_id=chosen.id, client_uuid=tap)
    assert first.status_code == again.status_code == 200
    assert f"<strong>Strength saved</strong>: {chosen.name}</p>" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 1


def test_a_refused_htmx_save_answers_the_form_with_the_message_beside_the_note(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    answer = save(client, shadow, HTMX, kind="obstacle", coached="kept")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert body.lstrip().startswith('<form class="card capture-form"')
    assert ">Note (needed for an obstacle)</label>" in body
    note = body[body.index('<textarea id="note"') :]
    assert 'aria-required="true" aria-invalid="true" aria-describedby="note-error"' in note
    # The message comes right after the field it is about.
    after_field = note[note.index("</textarea>") :]
    assert after_field.index("Say in a few words what gets in the way.") < 200
    assert (
        "checked"
        in body[body.index('id="kind-obstacle"') - 80 : body.index('id="kind-obstacle"') + 80]
    )
    assert "data-note-open" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


def test_a_plain_save_keeps_the_kind_for_the_next_entry(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    answer = save(client, shadow, kind="correction", behaviour_id=world.behaviours[0].id)
    assert answer.status_code == 303
    assert answer.location == f"/sessions/{shadow.id}?kind=correction"
    page = client.get(answer.location).get_data(as_text=True)
    assert re.search(r'id="kind-correction" value="correction" checked', page)
    assert ">Note (optional)</label>" in page


def test_the_header_names_the_agent_on_a_new_and_a_resumed_session(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    resumed = client.get(f"/sessions/{shadow.id}").get_data(as_text=True)
    assert "Shadowing Alex since " in resumed
    assert "Shadowing for" not in resumed
    other = client.get(f"/agents/{world.agent_alex.id}/shadow").get_data(as_text=True)
    assert "Shadowing Alex since " in other
    shadow.ended_at = shadow.started_at
    db.session.commit()
    new = client.get(f"/agents/{world.agent_alex.id}/shadow").get_data(as_text=True)
    assert "Starts with your first entry" in new and "Shadowing for" not in new


def test_a_phone_naming_an_unknown_session_sees_the_open_one_with_its_entries(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    """Tapping the agent again mints a new name on the phone: the server shows what it holds."""
    make_observation(shadow, note="Logged before leaving the screen")
    page = client.get(f"/agents/{world.agent_alex.id}/shadow?session={uuid.uuid4()}")
    body = page.get_data(as_text=True)
    assert f'data-session-uuid="{shadow.client_uuid}"' in body
    assert "Logged before leaving the screen" in body
    assert '<span class="count" id="entry-count" data-entry-count>1</span>' in body


def test_the_due_checks_fold_into_one_line_that_names_them(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    body = client.get(f"/sessions/{shadow.id}").get_data(as_text=True)
    assert "checks due" not in body and "check due" not in body  # none due: no strip at all
    assert body.index("<h1>") < body.index('class="kinds"') < body.index('class="chip"')


def test_undo_by_htmx_takes_the_entry_out_of_the_list(
    client: FlaskClient, maria: User, shadow: ShadowSession
):
    saved = make_observation(shadow, kind=ObservationKind.STRENGTH)
    answer = client.post(f"/observations/{saved.id}/undo", headers=HTMX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200 and answer.headers["HX-Reswap"] == "none"
    assert f'<li id="entry-{saved.id}" hx-swap-oob="delete"></li>' in body
    assert "Undone: the entry was removed." in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 0


EXPECTED_HTMX_SAVE_STATEMENTS = 3


def test_an_htmx_save_commits_before_it_draws_its_answer(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession
):
    """SQLite's one write lock is held from the insert to the commit: the answer is drawn after
    the commit, from what the save loaded, so other saves do not wait for the drawing."""
    from flask import template_rendered

    happened: list[str] = []

    def on_statement(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("INSERT"):
            happened.append("insert")

    def on_commit(_connection: object) -> None:
        happened.append("commit")

    def on_drawn(_app: object, template: object, **_extra: object) -> None:
        happened.append(f"draw {getattr(template, 'name', '')}")

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    template_rendered.connect(on_drawn)
    try:
        answer = save(client, shadow.id, HTMX, behaviour_id=world.behaviours[0].id)
    finally:
        template_rendered.disconnect(on_drawn)
        event.remove(db.engine, "commit", on_commit)
        event.remove(db.engine, "before_cursor_execute", on_statement)
    assert answer.status_code == 200
    assert happened[:3] == ["insert", "commit", "draw shadowing/_saved.html"], happened
    assert happened.count("commit") == 1, happened


def test_an_answer_that_fails_after_the_commit_keeps_the_entry_for_its_replay(
    client: FlaskClient, maria: User, world: World, shadow: ShadowSession, monkeypatch
):
    """The drawing fails after the commit: the entry is stored whole, as when an answer is lost
    on the way, and the same entry sent again is answered as a replay, stored once."""
    from coachapp.shadowing import views

    class DrawingFailed(Exception):
        pass

    drawn = views._saved

    def failing(*args: object, **kwargs: object) -> object:
        raise DrawingFailed

    chosen, tap = world.behaviours[0], str(uuid.uuid4())
    monkeypatch.setattr(views, "_saved", failing)
    failed = save(client, shadow.id, HTMX, behaviour_id=chosen.id, client_uuid=tap)
    assert failed.status_code == 500
    monkeypatch.setattr(views, "_saved", drawn)
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (str(stored.client_uuid), stored.behaviour_id) == (tap, chosen.id)
    again = save(client, shadow.id, HTMX, behaviour_id=chosen.id, client_uuid=tap)
    assert again.status_code == 200
    assert f'id="entry-{stored.id}"' in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Observation)) == 1

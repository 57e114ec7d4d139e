"""The first run: the set-up checklist ticked from real data, and the organisation's settings
(name, time zone, working days) that decide what "today" means everywhere."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_babel import get_timezone

from coachapp import clock, organisation
from coachapp.auth.invitations import create_invitation
from coachapp.extensions import db
from coachapp.models import Organisation, Role, RoleProfile, Team, User
from tests.conftest import Auth, World, make_session

SETTINGS = {
    "name": "Harbour Care",
    "timezone": "Europe/Lisbon",
    "gaps": "2, 5, 7, 14, 28, 56",
    "working_days": ["0", "1", "2", "3", "4"],
}


@pytest.fixture
def first_admin(app: Flask) -> User:
    """The only person of an empty installation, as `flask create-admin` leaves it."""
    admin = User(name="Ines Admin", role=Role.ADMIN, email="ines@example.org")
    db.session.add(admin)
    db.session.commit()
    return admin


@pytest.fixture
def signed_in(client: FlaskClient, auth: Auth, first_admin: User) -> FlaskClient:
    auth.login(first_admin)
    return client


def checklist(client: FlaskClient) -> str:
    response = client.get("/setup")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def done_steps(page: str) -> int:
    return page.count('class="card setup-step is-done"')


def test_an_empty_organisation_starts_on_the_checklist_with_nothing_done(signed_in):
    assert signed_in.get("/").headers["Location"] == "/setup"
    page = checklist(signed_in)
    assert "0 of 4 done" in page
    assert done_steps(page) == 0
    assert page.count(">To do</span>") == 4
    for purpose in ("what “today”", "Agents work in a team", "observable behaviours", "Invite"):
        assert purpose in page
    assert 'href="/admin/settings"' in page and 'href="/admin/teams"' in page


def test_each_step_is_ticked_by_what_the_database_holds(signed_in, first_admin):
    assert signed_in.post("/admin/settings", data=SETTINGS).status_code == 303
    assert "1 of 4 done" in checklist(signed_in)

    archived = Team(name="Old desk", archived_at=datetime.now(UTC))
    db.session.add(archived)
    db.session.commit()
    assert "1 of 4 done" in checklist(signed_in)  # an archived team does not count
    assert signed_in.post("/admin/teams", data={"name": "Phones"}).status_code == 303
    assert "2 of 4 done" in checklist(signed_in)

    db.session.add(RoleProfile(name="Contact-centre agent"))
    db.session.commit()
    assert "3 of 4 done" in checklist(signed_in)

    create_invitation(
        created_by=first_admin, name="Nuno Reis", role=Role.MANAGER, now=datetime.now(UTC)
    )
    db.session.commit()
    page = checklist(signed_in)
    assert "4 of 4 done" in page
    assert done_steps(page) == 4
    assert "Set-up is done" in page and 'href="/admin/people"' in page
    # Done: home goes to People, and the checklist is still one link away from Settings.
    assert signed_in.get("/").headers["Location"] == "/admin/people"
    assert 'href="/setup"' in signed_in.get("/admin/settings").get_data(as_text=True)


def test_a_person_other_than_an_admin_ticks_the_people_step(signed_in):
    db.session.add(User(name="Second Admin", role=Role.ADMIN))
    db.session.commit()
    assert done_steps(checklist(signed_in)) == 0
    db.session.add(User(name="Tiago Trainer", role=Role.TRAINER))
    db.session.commit()
    assert done_steps(checklist(signed_in)) == 1


def test_the_first_save_creates_the_organisation_with_its_name_and_zone(signed_in):
    page = signed_in.get("/admin/settings").get_data(as_text=True)
    assert '<option value="Europe/Lisbon">Europe/Lisbon</option>' in page
    assert '<option selected value="UTC">UTC</option>' in page  # the test app's default

    response = signed_in.post("/admin/settings", data={**SETTINGS, "name": "  Harbour   Care "})
    assert response.status_code == 303
    org = db.session.scalar(sa.select(Organisation))
    assert org is not None
    assert (org.name, org.timezone, org.working_days) == (
        "Harbour Care",
        "Europe/Lisbon",
        "0,1,2,3,4",
    )
    page = signed_in.get("/admin/settings").get_data(as_text=True)
    assert 'value="Harbour Care"' in page
    assert '<option selected value="Europe/Lisbon">' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list."),
        ({"timezone": ""}, "Choose a time zone from the list."),
        ({"timezone": "posixrules"}, "Choose a time zone from the list."),
        ({"name": "   "}, "Give the organisation a name."),
        ({"name": "N" * 121}, "Keep the name within 120 characters."),
    ],
)
def test_bad_settings_are_refused_next_to_the_field_and_nothing_is_saved(
    signed_in, changes, message
):
    response = signed_in.post("/admin/settings", data={**SETTINGS, **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert 'value="2, 5, 7, 14, 28, 56"' in page  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0


def test_the_zone_defaults_to_coachapp_timezone(app, signed_in, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "America/Sao_Paulo")
    page = signed_in.get("/admin/settings").get_data(as_text=True)
    assert '<option selected value="America/Sao_Paulo">' in page


def set_zone(zone: str | None) -> None:
    org = db.session.scalar(sa.select(Organisation))
    if org is None:
        org = Organisation(name="Harbour Care")
        db.session.add(org)
    org.timezone = zone
    db.session.commit()
    organisation.forget()


def test_today_follows_the_organisations_zone(app, frozen_clock, monkeypatch):
    """Monday 2 March 2026, 10:00 UTC is already Tuesday at +14 and still Sunday at -11."""
    set_zone("Pacific/Kiritimati")
    assert clock.today() == date(2026, 3, 3)
    set_zone("Pacific/Pago_Pago")
    assert clock.today() == date(2026, 3, 1)
    assert clock.local_date(datetime(2026, 3, 2, 10, 30, tzinfo=UTC)) == date(2026, 3, 1)
    # No zone of its own: COACHAPP_TIMEZONE, and UTC when that names no zone.
    set_zone(None)
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Pacific/Kiritimati")
    assert clock.today() == date(2026, 3, 3)
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Nowhere/Special")
    assert clock.today() == date(2026, 3, 2)


def test_times_are_shown_in_the_organisations_zone(app):
    set_zone("Asia/Tokyo")
    with app.test_request_context():
        assert str(get_timezone()) == "Asia/Tokyo"


def test_the_zone_rides_along_with_the_organisation_loaded_for_the_ladder(app):
    """The ladder already loads the organisation; the zone adds no statement of its own."""
    from coachapp.followups.service import current_ladder

    set_zone("Europe/Vilnius")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        current_ladder()
        assert organisation.zone_name() == "Europe/Vilnius"
        clock.today()
        current_ladder()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_the_shadowing_clock_shows_times_in_the_organisations_zone(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    """The running clock is drawn by the phone's script: it is told the organisation's zone,
    not the server's default."""
    world.org.timezone = "Europe/Vilnius"
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    page = client.get(url_for("shadowing.session", session_id=shadow.id)).get_data(as_text=True)
    assert 'data-timezone="Europe/Vilnius"' in page

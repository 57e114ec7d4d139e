"""Admin people management and the audit log; a person's own passkeys and devices; and the
agent's "who opened my log"."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coachapp import audit
from coachapp.extensions import db
from coachapp.models import AuditEvent, Passkey, Role, User
from tests.conftest import Auth, World, make_observation, make_session
from tests.test_security import inline_code


def signed_in_client(app: Flask, user: User) -> FlaskClient:
    """Another phone or computer, signed in as `user`."""
    other = app.test_client()
    Auth(other).login(user)
    return other


def is_signed_in(client: FlaskClient) -> bool:
    return "/signin" not in client.get("/").headers.get("Location", "")


def actions(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def give_passkey(user: User, name: str = "Phone") -> Passkey:
    passkey = Passkey(
        user_id=user.id,
        credential_id=os.urandom(16),
        public_key=b"cose",
        name=name,
    )
    db.session.add(passkey)
    db.session.commit()
    return passkey


# --- switching accounts off and on -------------------------------------------------------------


def test_deactivation_ends_the_persons_open_sessions(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    alex = world.agent_alex
    phone, laptop = signed_in_client(app, alex), signed_in_client(app, alex)
    assert is_signed_in(phone) and is_signed_in(laptop)
    auth.login(world.admin_ada)

    answer = client.post(f"/admin/people/{alex.id}/deactivate")

    assert answer.status_code == 303
    assert not is_signed_in(phone)
    assert phone.get(f"/agents/{alex.id}").status_code == 302
    assert not is_signed_in(laptop)
    db.session.refresh(alex)
    assert alex.active is False
    [event] = actions("user.deactivated")
    assert (event.actor_id, event.subject_id, event.details) == (
        world.admin_ada.id,
        alex.id,
        "sessions 2",
    )
    page = client.get("/admin/people").get_data(as_text=True)
    assert "Alex Adams · switched off" in page

    # Signing in again (the session of a copied cookie included) does not bring it back.
    assert not is_signed_in(phone)
    assert client.post(f"/admin/people/{alex.id}/reactivate").status_code == 303
    db.session.refresh(alex)
    assert alex.active is True
    assert not is_signed_in(phone)  # ended sessions stay ended
    assert [e.subject_id for e in actions("user.reactivated")] == [alex.id]


def test_an_admin_cannot_switch_off_or_change_themselves(
    client: FlaskClient, auth: Auth, world: World
):
    ada = world.admin_ada
    auth.login(ada)
    refused = client.post(f"/admin/people/{ada.id}/deactivate")
    assert refused.status_code == 409
    assert "your own account" in refused.get_data(as_text=True)
    demoted = client.post(f"/admin/people/{ada.id}/role", data={"role": "trainer"})
    assert demoted.status_code == 409
    db.session.refresh(ada)
    assert (ada.active, ada.role) == (True, Role.ADMIN)
    assert is_signed_in(client)


# --- role and team -----------------------------------------------------------------------------


def test_a_role_change_is_audited_with_old_and_new(client: FlaskClient, auth: Auth, world: World):
    alex = world.agent_alex
    auth.login(world.admin_ada)

    answer = client.post(
        f"/admin/people/{alex.id}/role",
        data={"role": "manager", "managed_team_ids": [str(world.team_b.id)]},
    )

    assert answer.status_code == 303
    db.session.refresh(alex)
    assert (alex.role, alex.team_id) == (Role.MANAGER, None)
    assert [t.id for t in alex.managed_teams] == [world.team_b.id]
    [event] = actions("user.role_changed")
    assert (event.actor_id, event.subject_id) == (world.admin_ada.id, alex.id)
    assert event.details == f"agent→manager team {world.team_a.id}→{world.team_b.id}"


def test_a_team_move_is_audited_and_an_agent_needs_a_team(
    client: FlaskClient, auth: Auth, world: World
):
    alex = world.agent_alex
    auth.login(world.admin_ada)
    no_team = client.post(f"/admin/people/{alex.id}/role", data={"role": "agent", "team_id": "0"})
    assert no_team.status_code == 422
    assert "An agent works in a team" in no_team.get_data(as_text=True)

    moved = client.post(
        f"/admin/people/{alex.id}/role", data={"role": "agent", "team_id": str(world.team_b.id)}
    )

    assert moved.status_code == 303
    db.session.refresh(alex)
    assert alex.team_id == world.team_b.id
    assert actions("user.role_changed") == []
    [event] = actions("user.team_changed")
    assert event.details == f"team {world.team_a.id}→{world.team_b.id}"
    # Maria no longer sees Alex; Mo does.
    maria = Auth(client)
    maria.login(world.manager_maria)
    assert client.get(f"/agents/{alex.id}").status_code == 404


def test_the_people_pages_list_everyone_by_role(client: FlaskClient, auth: Auth, world: World):
    give_passkey(world.agent_alex)
    auth.login(world.admin_ada)
    page = client.get("/admin/people").get_data(as_text=True)
    for name in ("Maria Santos", "Mo Mensah", "Alex Adams", "Bo Berg", "Tara Lindqvist"):
        assert name in page
    assert "1 passkey" in page
    assert inline_code(page) == []
    person = client.get(f"/admin/people/{world.agent_alex.id}").get_data(as_text=True)
    assert "Reset passkeys" in person and "Switch off Alex's account" in person
    assert inline_code(person) == []
    assert client.get("/admin/people/999999").status_code == 404


# --- the audit log -----------------------------------------------------------------------------


def record_at(action: str, at: datetime, **who: User) -> None:
    event = audit.record(action, **who)  # type: ignore[arg-type]
    event.at = at
    db.session.commit()


def test_the_audit_page_filters_by_action_person_and_dates(
    client: FlaskClient, auth: Auth, world: World
):
    day = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    record_at("signin.success", day, actor=world.agent_alex, subject=world.agent_alex)
    record_at(
        "log.viewed", day + timedelta(days=1), actor=world.manager_maria, subject=world.agent_alex
    )
    record_at(
        "signin.success", day + timedelta(days=2), actor=world.agent_bo, subject=world.agent_bo
    )
    record_at(
        "user.deactivated", day + timedelta(days=3), actor=world.admin_ada, subject=world.agent_bo
    )
    auth.login(world.admin_ada)

    assert _codes(client, "") == [
        "user.deactivated",
        "signin.success",
        "log.viewed",
        "signin.success",
    ]
    assert _codes(client, "?action=signin.success") == ["signin.success", "signin.success"]
    assert _codes(client, f"?person={world.agent_alex.id}") == ["log.viewed", "signin.success"]
    assert _codes(client, f"?person={world.agent_bo.id}&action=signin.success") == [
        "signin.success"
    ]
    assert _codes(client, "?start=2026-03-03&end=2026-03-04") == ["signin.success", "log.viewed"]
    assert _codes(client, "?start=2026-03-05") == ["user.deactivated"]
    # A range the wrong way round is explained and filters nothing.
    backwards = client.get("/admin/audit?start=2026-03-05&end=2026-03-01")
    assert "The end comes before the start." in backwards.get_data(as_text=True)


def test_the_audit_page_pages_newest_first(client: FlaskClient, auth: Auth, world: World):
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for minute in range(60):
        record_at("signin.failure", start + timedelta(minutes=minute))
    auth.login(world.admin_ada)

    first = client.get("/admin/audit?action=signin.failure").get_data(as_text=True)
    second = client.get("/admin/audit?action=signin.failure&page=2").get_data(as_text=True)

    assert _codes(client, "?action=signin.failure") == ["signin.failure"] * 50
    assert _codes(client, "?action=signin.failure&page=2") == ["signin.failure"] * 10
    assert "Page 1 of 2" in first and "page=2" in first and "action=signin.failure" in first
    assert "Page 2 of 2" in second
    assert first.index("2026-03-02T08:59") < first.index("2026-03-02T08:10")


def test_the_audit_log_never_holds_observation_text(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    shadow = make_session(world.manager_maria, world.agent_alex, ended_at=datetime.now(UTC))
    make_observation(shadow, note="Secret-ish note about the caller")
    maria = signed_in_client(app, world.manager_maria)
    assert maria.get(f"/agents/{world.agent_alex.id}").status_code == 200
    auth.login(world.admin_ada)

    page = client.get("/admin/audit").get_data(as_text=True)

    assert "log.viewed" in page
    assert "Secret-ish note" not in page
    details = db.session.scalars(sa.select(AuditEvent.details)).all()
    assert all("Secret" not in d for d in details)


# --- who opened my log -------------------------------------------------------------------------


def test_an_agent_sees_who_opened_their_log(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    maria = signed_in_client(app, world.manager_maria)
    tara = signed_in_client(app, world.trainer_tara)
    alex_id = world.agent_alex.id
    assert maria.get(f"/agents/{alex_id}").status_code == 200
    assert tara.get(f"/agents/{alex_id}").status_code == 200
    assert "Who opened my log" not in maria.get(f"/agents/{alex_id}").get_data(as_text=True)

    auth.login(world.agent_alex)
    page = client.get(f"/agents/{alex_id}").get_data(as_text=True)

    section = page[page.index("Who opened my log") :]
    assert section.index("Maria Santos") < section.index("Tara Lindqvist")  # newest first
    assert inline_code(page) == []
    # The agent opening their own log is not "someone opening it".
    assert len(actions("log.viewed")) == 3


def test_an_agent_whose_log_nobody_opened_is_told_so(client: FlaskClient, auth: Auth, world: World):
    auth.login(world.agent_bo)
    page = client.get(f"/agents/{world.agent_bo.id}").get_data(as_text=True)
    assert "Nobody else has opened your log yet." in page


# --- my passkeys and devices -------------------------------------------------------------------


def test_my_passkeys_can_be_renamed_and_removed_but_never_the_last(
    client: FlaskClient, auth: Auth, world: World
):
    alex = world.agent_alex
    phone = give_passkey(alex, "iPhone")
    laptop = give_passkey(alex, "Windows")
    auth.login(alex)
    page = client.get("/account").get_data(as_text=True)
    assert "iPhone" in page and "Windows" in page and "Add a passkey on this device" in page
    assert inline_code(page) == []

    renamed = client.post(f"/account/passkeys/{laptop.id}/rename", data={"name": " Work PC "})
    assert renamed.status_code == 303
    db.session.refresh(laptop)
    assert laptop.name == "Work PC"
    empty = client.post(f"/account/passkeys/{laptop.id}/rename", data={"name": "  "})
    assert empty.status_code == 422
    assert "Give the passkey a name." in empty.get_data(as_text=True)

    assert client.post(f"/account/passkeys/{laptop.id}/remove").status_code == 303
    last = client.post(f"/account/passkeys/{phone.id}/remove")

    assert last.status_code == 409
    assert "This is your only passkey" in last.get_data(as_text=True)
    assert db.session.scalars(sa.select(Passkey.id)).all() == [phone.id]
    assert "cannot be removed" in client.get("/account").get_data(as_text=True)
    [removed] = actions("passkey.removed")
    assert removed.details == f"passkey {laptop.id}"


def test_another_persons_passkey_is_not_there(client: FlaskClient, auth: Auth, world: World):
    bos = give_passkey(world.agent_bo)
    give_passkey(world.agent_bo, "Second")
    auth.login(world.agent_alex)
    assert client.post(f"/account/passkeys/{bos.id}/remove").status_code == 404
    assert client.post(f"/account/passkeys/{bos.id}/rename", data={"name": "x"}).status_code == 404
    assert "Phone" not in client.get("/account").get_data(as_text=True)


def test_sign_out_my_other_devices(app: Flask, client: FlaskClient, auth: Auth, world: World):
    alex = world.agent_alex
    other_phone = signed_in_client(app, alex)
    bos_phone = signed_in_client(app, world.agent_bo)
    auth.login(alex)

    answer = client.post("/account/sign-out-others", follow_redirects=True)

    assert "Signed out of 1 other device." in answer.get_data(as_text=True)
    assert is_signed_in(client)
    assert not is_signed_in(other_phone)
    assert is_signed_in(bos_phone)
    [event] = actions("sessions.ended")
    assert (event.actor_id, event.details) == (alex.id, "others 1")


@pytest.mark.parametrize("persona", ["agent_alex", "manager_maria", "trainer_tara", "admin_ada"])
def test_everyone_reaches_their_passkeys_from_the_menu(
    client: FlaskClient, auth: Auth, world: World, persona: str
):
    auth.login(getattr(world, persona))
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert 'href="/account"' in home


def _codes(client: FlaskClient, query: str) -> list[str]:
    """The action codes listed on the audit page, top to bottom."""
    body = client.get(f"/admin/audit{query}").get_data(as_text=True)
    return [
        line.split('data-code="', 1)[1].split('"', 1)[0]
        for line in body.splitlines()
        if 'data-code="' in line
    ]

"""Invitations: strong single-use tokens kept only as hashes, 72 hours, revocable; managers
invite agents of their own teams only; a reset link only adds a passkey; `create-admin` works."""

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coachapp import clock
from coachapp.auth import invitations
from coachapp.extensions import db, limiter
from coachapp.models import AuditEvent, Invitation, LoginSession, Passkey, Role, User
from tests.conftest import Auth, FrozenClock, World
from tests.soft_authenticator import SoftAuthenticator, b64url_decode
from tests.test_passkey_views import (
    ORIGIN,
    REGISTER_OPTIONS,
    audit_trail,
    person,
    post,
    refused,
    register,
    sign_in,
    signed_in_as,
)
from tests.test_security import inline_code

LINK = re.compile(r'value="(http://localhost/invite/([A-Za-z0-9_-]+))"')


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> Iterator[None]:
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator("localhost", ORIGIN)


def invite_on_page(client: FlaskClient, **form: str) -> tuple[str, str]:
    """Fill in "Invite someone" as the signed-in person; returns the page and the token."""
    answer = client.post("/invitations", data=form)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    page = answer.get_data(as_text=True)
    match = LINK.search(page)
    assert match, "the link is shown"
    return page, match.group(2)


def agent_form(world: World, team_id: int | None = None, **extra: str) -> dict[str, str]:
    return {
        "name": "Nia Novak",
        "role": "agent",
        "team_id": str(team_id or world.team_a.id),
        **extra,
    }


def everything_stored() -> str:
    """Every value of every row of every table, as one text (bytes decoded leniently)."""
    parts: list[str] = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        parts.append(value.decode("latin-1"))
                    parts.append(str(value))
    return "\n".join(parts)


# --- the token ---------------------------------------------------------------------------------


def test_the_link_holds_at_least_128_random_bits_and_only_its_hash_is_kept(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.admin_ada)
    page, token = invite_on_page(client, **agent_form(world, email="nia@example.org"))

    assert len(b64url_decode(token)) * 8 >= 128
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code, an image the CSP allows
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    assert qr and base64.b64decode(qr.group(1)).startswith(b"<svg")
    assert inline_code(page) == []
    assert page.count(token) == 1  # in the link field only

    stored = db.session.scalar(sa.select(Invitation))
    assert stored is not None
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in everything_stored()
    # Shown once: the list of invitations never holds it again.
    assert token not in client.get("/invitations").get_data(as_text=True)


def test_tokens_differ_every_time(world: World):
    tokens = {
        invitations.create_invitation(
            created_by=world.admin_ada, name="X", role=Role.TRAINER, now=clock.now()
        )[1]
        for _ in range(20)
    }
    assert len(tokens) == 20


def test_the_invitation_page_greets_the_person_without_a_sign_in(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.admin_ada)
    _, token = invite_on_page(client, **agent_form(world))
    auth.logout()

    page = client.get(f"/invite/{token}")

    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Welcome, Nia Novak" in body
    assert "as Agent in Phones" in body
    assert f'data-invitation="{token}"' in body
    assert inline_code(body) == []
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


# --- single use, expiry, revocation ------------------------------------------------------------


def test_an_invitation_works_once(client: FlaskClient, world: World, phone: SoftAuthenticator):
    token = invitations.create_invitation(
        created_by=world.admin_ada,
        name="Nia Novak",
        role=Role.AGENT,
        team=world.team_a,
        now=clock.now(),
    )[1]
    assert register(client, phone, token).status_code == 200
    client.post("/signout")

    again = client.get(f"/invite/{token}")
    assert again.status_code == 410
    assert "This invitation has already been used" in again.get_data(as_text=True)
    assert inline_code(again.get_data(as_text=True)) == []
    refused(post(client, REGISTER_OPTIONS, {"invitation": token}), 400, "invitation")
    other_phone = SoftAuthenticator("localhost", ORIGIN)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.name == "Nia Novak")
        )
        == 1
    )
    assert other_phone.credentials == {}
    refusals = [d for a, d in audit_trail("invitation.refused")]
    assert refusals == [f"invitation {_only_invitation().id} used"] * 2


def test_two_tabs_racing_with_one_invitation_create_one_person(
    app: Flask, world: World, phone: SoftAuthenticator
):
    token = invitations.create_invitation(
        created_by=world.admin_ada,
        name="Nia Novak",
        role=Role.AGENT,
        team=world.team_a,
        now=clock.now(),
    )[1]
    tab_one, tab_two = app.test_client(), app.test_client()
    second_phone = SoftAuthenticator("localhost", ORIGIN)
    first = phone.create(_options(tab_one, token))
    second = second_phone.create(_options(tab_two, token))

    assert (
        post(
            tab_one, "/passkeys/register/verify", {"invitation": token, "credential": first}
        ).status_code
        == 200
    )
    late = post(tab_two, "/passkeys/register/verify", {"invitation": token, "credential": second})

    refused(late, 400, "invitation")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 1


def test_an_invitation_expires_after_72_hours(
    client: FlaskClient, world: World, phone: SoftAuthenticator, frozen_clock: FrozenClock
):
    token = invitations.create_invitation(
        created_by=world.admin_ada,
        name="Nia Novak",
        role=Role.AGENT,
        team=world.team_a,
        now=clock.now(),
    )[1]
    frozen_clock.advance(hours=71, minutes=59)
    assert client.get(f"/invite/{token}").status_code == 200

    frozen_clock.advance(minutes=1)
    page = client.get(f"/invite/{token}")
    assert page.status_code == 410
    assert "This invitation has expired" in page.get_data(as_text=True)
    refused(
        register_attempt := post(client, REGISTER_OPTIONS, {"invitation": token}), 400, "invitation"
    )
    assert register_attempt.status_code == 400
    assert audit_trail("invitation.refused")[-1][1].endswith("expired")


def test_an_invitation_that_expires_during_the_ceremony_is_refused(
    client: FlaskClient, world: World, phone: SoftAuthenticator, frozen_clock: FrozenClock
):
    token = invitations.create_invitation(
        created_by=world.admin_ada,
        name="Nia Novak",
        role=Role.AGENT,
        team=world.team_a,
        now=clock.now(),
    )[1]
    frozen_clock.advance(hours=71, minutes=58)
    credential = phone.create(_options(client, token))
    frozen_clock.advance(minutes=3)
    late = post(
        client, "/passkeys/register/verify", {"invitation": token, "credential": credential}
    )
    refused(late, 400, "invitation")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 0


def test_a_revoked_invitation_stops_working(
    client: FlaskClient, auth: Auth, world: World, phone: SoftAuthenticator
):
    auth.login(world.admin_ada)
    _, token = invite_on_page(client, **agent_form(world))
    pending = client.get("/invitations").get_data(as_text=True)
    assert "Revoke the invitation for Nia Novak" in pending
    invitation = _only_invitation()

    answer = client.post(f"/invitations/{invitation.id}/revoke")

    assert answer.status_code == 303
    assert "Revoke the invitation" not in client.get("/invitations").get_data(as_text=True)
    auth.logout()
    page = client.get(f"/invite/{token}")
    assert page.status_code == 410
    assert "This invitation was withdrawn" in page.get_data(as_text=True)
    assert [a for a, _ in audit_trail("invitation.")] == [
        "invitation.created",
        "invitation.revoked",
        "invitation.refused",
    ]


def test_unknown_tokens_are_a_plain_404(client: FlaskClient, world: World):
    page = client.get("/invite/" + "A" * 22)
    assert page.status_code == 404
    assert "This invitation link does not work" in page.get_data(as_text=True)
    assert client.get("/invite/" + "x" * 300).status_code == 404


# --- who may invite whom -----------------------------------------------------------------------


def test_a_manager_invites_agents_of_their_own_teams_only(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.manager_maria)
    form = client.get("/invitations").get_data(as_text=True)
    assert '<option value="agent"' in form and '<option value="manager"' not in form
    assert "Phones" in form and "Desk" not in form

    invite_on_page(client, **agent_form(world))
    assert client.post("/invitations", data=agent_form(world, world.team_b.id)).status_code == 404
    for role in ("manager", "trainer", "admin"):
        answer = client.post("/invitations", data={**agent_form(world), "role": role})
        assert answer.status_code == 404, role
    no_team = {"name": "Nia", "role": "agent", "team_id": "0"}
    assert client.post("/invitations", data=no_team).status_code == 404

    created = db.session.scalars(sa.select(Invitation)).all()
    assert [(i.role, i.team_id, i.created_by_id) for i in created] == [
        (Role.AGENT, world.team_a.id, world.manager_maria.id)
    ]


def test_managers_see_and_revoke_only_their_teams_invitations(
    client: FlaskClient, auth: Auth, world: World
):
    for team, name in ((world.team_a, "Ana"), (world.team_b, "Ben")):
        invitations.create_invitation(
            created_by=world.admin_ada, name=name, role=Role.AGENT, team=team, now=clock.now()
        )
    ben = db.session.scalar(sa.select(Invitation).where(Invitation.name == "Ben"))
    assert ben is not None
    auth.login(world.manager_maria)

    page = client.get("/invitations").get_data(as_text=True)

    assert "Ana" in page and "Ben" not in page
    assert client.post(f"/invitations/{ben.id}/revoke").status_code == 404
    db.session.refresh(ben)
    assert ben.revoked_at is None


def test_an_admin_invites_any_role(client: FlaskClient, auth: Auth, world: World):
    auth.login(world.admin_ada)
    invite_on_page(client, name="Mira Manager", role="manager", team_id=str(world.team_b.id))
    invite_on_page(client, name="Tom Trainer", role="trainer", team_id="0")
    roles = db.session.execute(sa.select(Invitation.role, Invitation.team_id)).all()
    assert sorted(roles) == [(Role.MANAGER, world.team_b.id), (Role.TRAINER, None)]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "role": "agent"}, "Write the person's name."),
        ({"name": "Nia", "role": "agent", "team_id": "0"}, "An agent works in a team"),
        ({"name": "Nia", "role": "agent", "email": "not-an-address"}, "not an e-mail address"),
    ],
)
def test_the_invitation_form_explains_what_is_missing(
    client: FlaskClient, auth: Auth, world: World, form: dict[str, str], message: str
):
    auth.login(world.admin_ada)
    data = {"team_id": str(world.team_a.id), **form}
    answer = client.post("/invitations", data=data)
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_a_manager_invitation_makes_a_manager_of_that_team(
    client: FlaskClient, world: World, phone: SoftAuthenticator
):
    token = invitations.create_invitation(
        created_by=world.admin_ada,
        name="Mira Manager",
        role=Role.MANAGER,
        team=world.team_b,
        now=clock.now(),
    )[1]
    assert register(client, phone, token).status_code == 200
    mira = person("Mira Manager")
    assert (mira.role, mira.team_id, [t.id for t in mira.managed_teams]) == (
        Role.MANAGER,
        None,
        [world.team_b.id],
    )
    assert signed_in_as(client) == "/today"


# --- a lost phone ------------------------------------------------------------------------------


def test_a_reset_link_only_adds_a_passkey_to_the_existing_person(
    client: FlaskClient, auth: Auth, world: World, phone: SoftAuthenticator
):
    alex = world.agent_alex
    auth.login(world.admin_ada)
    page = client.post(f"/admin/people/{alex.id}/reset-passkeys")
    assert page.status_code == 200
    assert "Passkey reset for Alex Adams" in page.get_data(as_text=True)
    token = LINK.search(page.get_data(as_text=True)).group(2)  # type: ignore[union-attr]
    auth.logout()
    body = client.get(f"/invite/{token}").get_data(as_text=True)
    assert "add a new passkey to your coachapp account" in body

    assert register(client, phone, token).status_code == 200

    people_before = 6
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == people_before
    db.session.refresh(alex)
    assert (alex.role, alex.team_id, alex.name) == (Role.AGENT, world.team_a.id, "Alex Adams")
    assert phone.credential.user_handle == alex.webauthn_handle
    assert db.session.scalar(sa.select(Passkey.user_id)) == alex.id
    assert signed_in_as(client) == f"/agents/{alex.id}"
    assert [a for a, _ in audit_trail("passkey.")] == ["passkey.added"]
    created = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "invitation.created")
    )
    assert created is not None and created.subject_id == alex.id
    assert created.details.endswith("reset")

    client.post("/signout")
    assert sign_in(client, phone).status_code == 200
    assert signed_in_as(client) == f"/agents/{alex.id}"


def test_a_reset_can_also_remove_the_lost_phones_passkeys_and_sessions(
    app: Flask, client: FlaskClient, auth: Auth, world: World, phone: SoftAuthenticator
):
    alex = world.agent_alex
    token = invitations.create_reset_invitation(
        created_by=world.admin_ada, person=alex, now=clock.now()
    )[1]
    assert register(client, phone, token).status_code == 200  # the phone that will be lost
    assert signed_in_as(client) == f"/agents/{alex.id}"

    admin = app.test_client()
    Auth(admin).login(world.admin_ada)
    answer = admin.post(f"/admin/people/{alex.id}/reset-passkeys", data={"remove_existing": "y"})

    assert answer.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 0
    assert signed_in_as(client) is None  # the lost phone's session ended
    refused(sign_in(client, phone), 401, "unknown_credential")
    open_sessions = (
        sa.select(sa.func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == alex.id, LoginSession.ended_at.is_(None))
    )
    assert db.session.scalar(open_sessions) == 0


def test_a_reset_link_for_a_switched_off_person_does_not_work(
    client: FlaskClient, auth: Auth, world: World, phone: SoftAuthenticator
):
    alex = world.agent_alex
    token = invitations.create_reset_invitation(
        created_by=world.admin_ada, person=alex, now=clock.now()
    )[1]
    alex.active = False
    db.session.commit()

    assert client.get(f"/invite/{token}").status_code == 410
    refused(post(client, REGISTER_OPTIONS, {"invitation": token}), 400, "invitation")
    auth.login(world.admin_ada)
    assert client.post(f"/admin/people/{alex.id}/reset-passkeys").status_code == 409


# --- bootstrapping -----------------------------------------------------------------------------


def test_create_admin_prints_a_link_that_works(
    app: Flask, client: FlaskClient, phone: SoftAuthenticator
):
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--name",
            "Ada Admin",
            "--email",
            "ada@example.org",
            "--base-url",
            "http://localhost/",
        ]
    )

    assert result.exit_code == 0, result.output
    match = re.search(r"^http://localhost/invite/([A-Za-z0-9_-]+)$", result.output, re.MULTILINE)
    assert match, result.output
    token = match.group(1)
    assert len(b64url_decode(token)) * 8 >= 128
    assert token not in everything_stored()
    assert "Welcome, Ada Admin" in client.get(f"/invite/{token}").get_data(as_text=True)

    assert register(client, phone, token).status_code == 200

    ada = person("Ada Admin")
    assert (ada.role, ada.team_id, ada.email) == (Role.ADMIN, None, "ada@example.org")
    assert signed_in_as(client) == "/setup"  # an empty organisation: the set-up checklist
    assert client.get("/admin/people").status_code == 200
    created = db.session.scalar(sa.select(Invitation))
    assert created is not None and created.created_by_id is None


def test_create_admin_refuses_a_base_url_that_is_not_one(app: Flask, world: World):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--name", "Ada", "--base-url", "localhost:5000"]
    )
    assert result.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


# --- helpers -----------------------------------------------------------------------------------


def _options(client: FlaskClient, token: str) -> dict[str, object]:
    answer = post(client, REGISTER_OPTIONS, {"invitation": token})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["options"]


def _only_invitation() -> Invitation:
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation is not None
    return invitation

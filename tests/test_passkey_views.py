"""The passkey ceremonies over HTTP, with real signatures from the software authenticator: an
invitation becomes a person with a passkey, the passkey signs them in, and every forged, replayed,
stale or foreign answer is refused with a JSON message (never a 500) and an audit entry."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from coachapp import clock
from coachapp.auth import invitations, signin_challenge
from coachapp.auth.passkey_views import MESSAGES
from coachapp.extensions import db, limiter
from coachapp.models import AuditEvent, Invitation, Passkey, Role, User, WebAuthnChallenge
from tests.conftest import Auth, FrozenClock, World
from tests.soft_authenticator import SoftAuthenticator, b64url

ORIGIN = "http://localhost"  # the test client's host (SERVER_NAME) and scheme
REGISTER_OPTIONS = "/passkeys/register/options"
REGISTER_VERIFY = "/passkeys/register/verify"
SIGNIN_OPTIONS = "/signin/passkey/options"
SIGNIN_VERIFY = "/signin/passkey/verify"
CEREMONIES = [REGISTER_OPTIONS, REGISTER_VERIFY, SIGNIN_OPTIONS, SIGNIN_VERIFY]


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Flask) -> Iterator[None]:
    """Every test starts (and leaves) the per-address limits empty: they are shared by the run."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def phone() -> SoftAuthenticator:
    """The invitee's phone: one platform authenticator for this site."""
    return SoftAuthenticator("localhost", ORIGIN)


# --- steps, as the browser takes them ----------------------------------------------------------


def invite(world: World, **overrides: Any) -> str:
    """Admin Ada invites a new agent into team A; returns the link's token."""
    values: dict[str, Any] = {
        "created_by": world.admin_ada,
        "name": "Nia Novak",
        "role": Role.AGENT,
        "team": world.team_a,
        "now": clock.now(),
    }
    values.update(overrides)
    return invitations.create_invitation(**values)[1]


def post(client: FlaskClient, url: str, body: Any) -> TestResponse:
    return client.post(url, json=body)


def registration_options(client: FlaskClient, token: str | None = None) -> dict[str, Any]:
    answer = post(client, REGISTER_OPTIONS, {"invitation": token} if token else {})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["options"]


def register(
    client: FlaskClient, phone: SoftAuthenticator, token: str | None = None, **forge: Any
) -> TestResponse:
    """Options, the authenticator's answer, verification: the "Create a passkey" button."""
    options = registration_options(client, token)
    credential = phone.create(options, **forge)
    body: dict[str, Any] = {"credential": credential}
    if token:
        body["invitation"] = token
    return post(client, REGISTER_VERIFY, body)


def signin_options(client: FlaskClient) -> dict[str, Any]:
    answer = post(client, SIGNIN_OPTIONS, {})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["options"]


def sign_in(client: FlaskClient, phone: SoftAuthenticator, **forge: Any) -> TestResponse:
    """What "Sign in with a passkey" does."""
    credential = phone.get(signin_options(client), **forge)
    return post(client, SIGNIN_VERIFY, {"credential": credential})


def signed_in_as(client: FlaskClient) -> str | None:
    """Whom the home page sends this client to, or None when it asks to sign in."""
    answer = client.get("/")
    location = answer.headers.get("Location", "")
    return None if "/signin" in location else location


def person(name: str = "Nia Novak") -> User:
    found = db.session.scalar(sa.select(User).where(User.name == name))
    assert found is not None
    return found


def audit_trail(action_prefix: str = "") -> list[tuple[str, str]]:
    rows = db.session.execute(
        sa.select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.action.startswith(action_prefix))
        .order_by(AuditEvent.id)
    ).all()
    return [(row.action, row.details) for row in rows]


def refused(answer: TestResponse, status: int, reason: str) -> None:
    """A JSON refusal in the person's words for `reason`, nothing from the library."""
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/json"
    assert answer.get_json() == {"error": str(MESSAGES[reason])}


@pytest.fixture
def nia(client: FlaskClient, world: World, phone: SoftAuthenticator) -> User:
    """Nia Novak, a new agent of team A, who created her passkey from an invitation and then
    signed out."""
    answer = register(client, phone, invite(world))
    assert answer.status_code == 200, answer.get_json()
    client.post("/signout")
    return person()


# --- the happy path ----------------------------------------------------------------------------


def test_an_invitation_becomes_a_person_with_a_passkey_who_then_signs_in(
    client: FlaskClient, world: World, phone: SoftAuthenticator, frozen_clock: FrozenClock
):
    token = invite(world)
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    assert "Create a passkey" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"

    answer = register(client, phone, token)

    assert answer.status_code == 200, answer.get_json()
    nia = person()
    assert answer.get_json() == {"redirect": "/"}
    assert signed_in_as(client) == f"/agents/{nia.id}"
    assert (nia.role, nia.team_id, nia.active) == (Role.AGENT, world.team_a.id, True)
    assert nia.role_profile_id == world.agent_alex.role_profile_id  # the team's usual profile
    assert nia.webauthn_handle == phone.credential.user_handle
    assert len(nia.webauthn_handle) == 32
    passkey = db.session.scalar(sa.select(Passkey).where(Passkey.user_id == nia.id))
    assert passkey is not None
    assert passkey.credential_id == phone.credential.credential_id
    assert passkey.sign_count == 0
    assert (passkey.transports, passkey.name) == ("internal,hybrid", "Passkey")
    assert passkey.created_at == frozen_clock.now()
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation is not None and invitation.used_at == frozen_clock.now()
    assert invitation.used_by_id == nia.id
    assert [a for a, _ in audit_trail("passkey.")] == ["passkey.registered"]
    assert [a for a, _ in audit_trail("invitation.")] == ["invitation.created", "invitation.used"]

    client.post("/signout")
    assert signed_in_as(client) is None
    frozen_clock.advance(hours=1)
    answer = sign_in(client, phone)

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"redirect": "/"}
    assert signed_in_as(client) == f"/agents/{nia.id}"
    db.session.refresh(passkey)
    assert passkey.sign_count == 1
    assert passkey.last_used_at == frozen_clock.now()
    assert audit_trail("signin.") == [("signin.success", "passkey")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebAuthnChallenge)) == 0


def test_the_device_names_the_passkey(client: FlaskClient, world: World, phone: SoftAuthenticator):
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15"
    client.environ_base["HTTP_USER_AGENT"] = iphone
    assert register(client, phone, invite(world)).status_code == 200
    assert db.session.scalar(sa.select(Passkey.name)) == "iPhone"


def test_sign_in_counts_up_and_a_synced_passkey_may_stay_at_zero(
    client: FlaskClient, world: World, nia: User, phone: SoftAuthenticator
):
    for expected in (1, 2):
        assert sign_in(client, phone).status_code == 200
        client.post("/signout")
        assert db.session.scalar(sa.select(Passkey.sign_count)) == expected

    synced = SoftAuthenticator("localhost", ORIGIN, synced=True)
    auth = Auth(client)
    auth.login(nia)
    assert register(client, synced).status_code == 200
    client.post("/signout")
    for _ in range(2):
        assert sign_in(client, synced).status_code == 200
        client.post("/signout")
    stored = db.session.scalar(
        sa.select(Passkey).where(Passkey.credential_id == synced.credential.credential_id)
    )
    assert stored is not None and (stored.sign_count, stored.backed_up) == (0, True)


def test_a_signed_in_person_adds_a_second_passkey(
    client: FlaskClient, auth: Auth, world: World, nia: User, phone: SoftAuthenticator
):
    laptop = SoftAuthenticator("localhost", ORIGIN)
    auth.login(nia)
    options = registration_options(client)
    # The phone's passkey is listed, so the browser will not make a second one on it.
    assert [c["id"] for c in options["excludeCredentials"]] == [
        b64url(phone.credential.credential_id)
    ]
    answer = post(client, REGISTER_VERIFY, {"credential": laptop.create(options)})

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"redirect": "/account"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 2
    assert laptop.credential.user_handle == nia.webauthn_handle
    assert [a for a, _ in audit_trail("passkey.")] == ["passkey.registered", "passkey.added"]
    client.post("/signout")
    assert sign_in(client, laptop).status_code == 200


def test_the_relying_party_comes_from_the_settings(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", "coach.example.org")
    monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", "https://coach.example.org")
    assert signin_options(client)["rpId"] == "coach.example.org"
    monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", None)
    assert signin_options(client)["rpId"] == "localhost"


# --- refusals at sign-in -----------------------------------------------------------------------


def test_a_wrong_challenge_is_refused(client: FlaskClient, nia: User, phone: SoftAuthenticator):
    refused(
        sign_in(client, phone, challenge=b"not the challenge we issued!!!!"), 400, "bad_challenge"
    )
    assert signed_in_as(client) is None
    assert audit_trail("signin.") == [("signin.failure", "bad_challenge")]


def test_a_replayed_answer_is_refused(client: FlaskClient, nia: User, phone: SoftAuthenticator):
    credential = phone.get(signin_options(client))
    cookie_before = client.get_cookie("signin", path="/signin/passkey")
    assert cookie_before is not None
    assert post(client, SIGNIN_VERIFY, {"credential": credential}).status_code == 200
    client.post("/signout")

    # The same body again: this browser session holds no challenge any more.
    refused(post(client, SIGNIN_VERIFY, {"credential": credential}), 400, "no_challenge")
    # Even with a copy of the cookie from before, the challenge itself is gone from the server.
    client.set_cookie("signin", cookie_before.value, path="/signin/passkey")
    refused(post(client, SIGNIN_VERIFY, {"credential": credential}), 400, "bad_challenge")
    assert signed_in_as(client) is None
    assert audit_trail("signin.") == [
        ("signin.success", "passkey"),
        ("signin.failure", "no_challenge"),
        ("signin.failure", "bad_challenge"),
    ]


def test_the_sign_in_options_leave_the_session_cookie_alone(client: FlaskClient):
    """The autofill's options may be answered after another sign-in on the page: their answer
    must not carry a session cookie that would undo it, even when something on the way changed
    the session."""
    assert client.get("/signin").status_code == 200  # the page that asks for them
    with client.session_transaction() as session:
        # As the page leaves it with CSRF on: a token, and nobody signed in. Flask-Login then
        # marks such a session "not fresh" on the next request that asks who is signed in.
        session.clear()
        session["csrf_token"] = "the page's token"
    answer = post(client, SIGNIN_OPTIONS, {})
    assert answer.status_code == 200
    cookies = answer.headers.getlist("Set-Cookie")
    assert [cookie.split("=", 1)[0] for cookie in cookies] == ["signin"]
    assert "Path=/signin/passkey" in cookies[0]
    assert "HttpOnly" in cookies[0]
    assert "SameSite=Strict" in cookies[0]
    assert "Max-Age=300" in cookies[0]


def test_a_forged_challenge_cookie_is_no_challenge(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    options = signin_options(client)
    challenge_id = db.session.scalar(sa.select(WebAuthnChallenge.id))
    client.set_cookie("signin", f"{challenge_id}.forged", path="/signin/passkey")
    refused(post(client, SIGNIN_VERIFY, {"credential": phone.get(options)}), 400, "no_challenge")


def test_an_expired_challenge_is_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator, frozen_clock: FrozenClock
):
    options = signin_options(client)
    frozen_clock.advance(minutes=5)
    refused(
        post(client, SIGNIN_VERIFY, {"credential": phone.get(options)}), 400, "expired_challenge"
    )

    options = signin_options(client)
    frozen_clock.advance(minutes=4, seconds=59)
    assert post(client, SIGNIN_VERIFY, {"credential": phone.get(options)}).status_code == 200
    assert audit_trail("signin.") == [
        ("signin.failure", "expired_challenge"),
        ("signin.success", "passkey"),
    ]


def test_a_registration_challenge_does_not_sign_in(
    app: Flask, client: FlaskClient, world: World, nia: User, phone: SoftAuthenticator
):
    options = registration_options(client, invite(world, name="Other Person"))
    with client.session_transaction() as session:
        registration_id = session["webauthn_register"]
    with app.test_request_context():
        client.set_cookie(
            "signin", signin_challenge.sealed(registration_id), path="/signin/passkey"
        )
    refused(post(client, SIGNIN_VERIFY, {"credential": phone.get(options)}), 400, "bad_challenge")


def test_sign_in_without_user_verification_is_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    refused(sign_in(client, phone, user_verified=False), 401, "user_verification")
    assert signed_in_as(client) is None
    assert audit_trail("signin.") == [("signin.failure", "user_verification")]


def test_a_counter_going_backwards_is_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    assert sign_in(client, phone, sign_count=7).status_code == 200
    client.post("/signout")

    refused(sign_in(client, phone, sign_count=3), 401, "counter")
    refused(sign_in(client, phone, sign_count=7), 401, "counter")
    assert db.session.scalar(sa.select(Passkey.sign_count)) == 7
    assert sign_in(client, phone, sign_count=8).status_code == 200


def test_a_credential_answering_for_another_person_is_refused(
    client: FlaskClient, world: World, nia: User, phone: SoftAuthenticator
):
    other_phone = SoftAuthenticator("localhost", ORIGIN)
    assert register(client, other_phone, invite(world, name="Omar Olsen")).status_code == 200
    client.post("/signout")
    omar = person("Omar Olsen")

    # Nia's credential claiming to be Omar's account, and one claiming no account at all.
    refused(sign_in(client, phone, user_handle=omar.webauthn_handle), 401, "wrong_user")
    refused(sign_in(client, phone, user_handle=None), 401, "wrong_user")
    assert signed_in_as(client) is None
    failures = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "signin.failure")
    ).all()
    assert [(e.details, e.subject_id) for e in failures] == [("wrong_user", nia.id)] * 2


def test_wrong_origin_wrong_site_and_unknown_passkeys_are_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    refused(sign_in(client, phone, origin="https://evil.example"), 401, "bad_origin")
    refused(sign_in(client, phone, rp_id="evil.example"), 401, "bad_rp")
    refused(sign_in(client, phone, cross_origin=True), 401, "cross_origin")
    stranger = SoftAuthenticator("localhost", ORIGIN)
    stranger.create(b"c" * 32, b"h" * 32)
    refused(sign_in(client, stranger), 401, "unknown_credential")
    assert [d for _, d in audit_trail("signin.")] == [
        "bad_origin",
        "bad_rp",
        "cross_origin",
        "unknown_credential",
    ]


def test_a_switched_off_persons_passkey_is_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    nia.active = False
    db.session.commit()

    refused(sign_in(client, phone), 401, "inactive")
    assert signed_in_as(client) is None
    assert audit_trail("signin.") == [("signin.failure", "inactive")]
    # The refused attempt did not move the counter either.
    assert db.session.scalar(sa.select(Passkey.sign_count)) == 0


# --- refusals at registration ------------------------------------------------------------------


def test_registration_refuses_what_sign_in_refuses(
    client: FlaskClient, world: World, phone: SoftAuthenticator
):
    token = invite(world)
    refused(register(client, phone, token, user_verified=False), 401, "user_verification")
    refused(register(client, phone, token, challenge=b"x" * 32), 400, "bad_challenge")
    refused(register(client, phone, token, origin="https://evil.example"), 401, "bad_origin")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 6  # nobody new
    assert db.session.scalar(sa.select(Invitation.used_at)) is None
    assert [d for a, d in audit_trail("passkey.")] == [
        "user_verification",
        "bad_challenge",
        "bad_origin",
    ]
    # The invitation still works after failed attempts.
    assert register(client, phone, token).status_code == 200


def test_a_registration_challenge_is_bound_to_its_invitation(
    client: FlaskClient, world: World, phone: SoftAuthenticator
):
    first, second = invite(world), invite(world, name="Omar Olsen")
    credential = phone.create(registration_options(client, first))
    answer = post(client, REGISTER_VERIFY, {"invitation": second, "credential": credential})
    refused(answer, 400, "bad_challenge")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey)) == 0


def test_a_passkey_registers_once(
    client: FlaskClient, auth: Auth, world: World, nia: User, phone: SoftAuthenticator
):
    auth.login(nia)
    again = register(client, phone, credential_id=phone.credential.credential_id)
    refused(again, 400, "already_registered")


def test_adding_a_passkey_needs_a_sign_in_or_an_invitation(
    client: FlaskClient, world: World, phone: SoftAuthenticator
):
    refused(post(client, REGISTER_OPTIONS, {}), 401, "signed_out")
    refused(post(client, REGISTER_VERIFY, {"credential": {}}), 401, "signed_out")
    refused(post(client, REGISTER_OPTIONS, {"invitation": "made-up"}), 400, "invitation")
    refused(
        post(client, REGISTER_OPTIONS, {"invitation": ["not", "a", "token"]}), 400, "invitation"
    )


# --- bodies no browser would send --------------------------------------------------------------

MALFORMED_BODIES = [
    b"{",
    b"[]",
    b"null",
    b'"credential"',
    b"\xff\xfe\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"credential": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    b"1e99999",
]


@pytest.mark.parametrize("url", CEREMONIES)
@pytest.mark.parametrize("body", MALFORMED_BODIES, ids=lambda b: repr(b[:12]))
def test_malformed_bodies_get_a_json_400(client: FlaskClient, url: str, body: bytes):
    answer = client.post(url, data=body, content_type="application/json")
    assert answer.status_code in (400, 401), answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/json"
    assert set(answer.get_json()) == {"error"}


JUNK_CREDENTIALS: list[Any] = [
    None,
    5,
    "a string",
    [],
    {},
    {"type": "public-key"},
    {"type": "public-key", "id": "!!", "rawId": "!!", "response": {}},
    {"type": "public-key", "id": "AA", "rawId": "AQ", "response": {}},
    {"type": "public-key", "id": "A" * 5000, "rawId": "A" * 5000, "response": {}},
]
#: A well-formed id is looked up first: no passkey has it, whatever the rest holds.
UNKNOWN_CREDENTIALS: list[Any] = [
    {"type": "public-key", "id": "AA", "rawId": "AA", "response": {"clientDataJSON": "e30"}},
    {"type": "public-key", "id": "AA", "rawId": "AA", "response": []},
]


@pytest.mark.parametrize(
    ("credential", "status", "reason"),
    [(c, 400, "malformed") for c in JUNK_CREDENTIALS]
    + [(c, 401, "unknown_credential") for c in UNKNOWN_CREDENTIALS],
    ids=lambda c: repr(c)[:30],
)
def test_junk_credentials_are_refused_and_audited(
    client: FlaskClient, world: World, nia: User, credential: Any, status: int, reason: str
):
    signin_options(client)
    answer = post(client, SIGNIN_VERIFY, {"credential": credential})
    refused(answer, status, reason)
    assert audit_trail("signin.") == [("signin.failure", reason)]


def test_a_truncated_real_answer_is_refused(
    client: FlaskClient, nia: User, phone: SoftAuthenticator
):
    credential = phone.get(signin_options(client))
    credential["response"]["authenticatorData"] = credential["response"]["authenticatorData"][:20]
    refused(post(client, SIGNIN_VERIFY, {"credential": credential}), 400, "malformed")


# --- rate limits -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", CEREMONIES)
def test_each_ceremony_allows_ten_attempts_a_minute_per_address(client: FlaskClient, url: str):
    answers = [client.post(url, json={}).status_code for _ in range(11)]
    assert 429 not in answers[:10]
    assert answers[10] == 429
    # Another address is not affected.
    other = client.post(url, json={}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code != 429


# --- CSRF --------------------------------------------------------------------------------------


def test_the_json_ceremonies_need_the_csrf_token_from_the_page(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/signin").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match, "the page carries the token for passkeys.js"

    assert client.post(SIGNIN_OPTIONS, json={}).status_code == 400
    forged = client.post(SIGNIN_OPTIONS, json={}, headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    answer = client.post(SIGNIN_OPTIONS, json={}, headers={"X-CSRFToken": match.group(1)})
    assert answer.status_code == 200
    assert "challenge" in answer.get_json()["options"]


def test_a_rate_limited_options_answer_leaves_the_session_cookie_alone(client: FlaskClient):
    """A 429 answers before the view runs: it must not send the session cookie either."""
    client.get("/signin")
    for _ in range(10):
        post(client, SIGNIN_OPTIONS, {})
    with client.session_transaction() as session:
        session.clear()
        session["csrf_token"] = "the page's token"
    answer = post(client, SIGNIN_OPTIONS, {})
    assert answer.status_code == 429
    assert not [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]

"""Re-authentication ends the session it replaces; Account lists every signed-in device."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp.auth.devices import describe
from coachapp.auth.sessions import SESSION_KEY
from coachapp.extensions import db
from coachapp.models import LoginSession
from tests.conftest import Auth, World

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def demo(app: Flask, world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Demo sign-in on: a sign-in without a passkey ceremony that calls the same sign_in()."""
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    db.session.commit()
    return world


def cookie_token(client: FlaskClient) -> str:
    with client.session_transaction() as session:
        return str(session[SESSION_KEY])


def use_token(client: FlaskClient, token: str, user_id: int) -> None:
    with client.session_transaction() as session:
        session.update({SESSION_KEY: token, "_user_id": str(user_id), "_fresh": True})


def test_signing_in_again_ends_the_session_it_replaces(client: FlaskClient, auth: Auth, demo):
    auth.login(demo.manager_maria)
    old = cookie_token(client)
    assert client.get(url_for("auth.account_page")).status_code == 200
    answer = client.post(url_for("auth.demo_signin"), data={"user_id": str(demo.manager_maria.id)})
    assert answer.status_code == 303
    assert cookie_token(client) != old
    assert client.get(url_for("auth.account_page")).status_code == 200
    use_token(client, old, demo.manager_maria.id)  # a copy of the cookie from before
    assert client.get(url_for("auth.account_page")).status_code == 302
    ended = db.session.scalars(sa.select(LoginSession).where(LoginSession.ended_at.is_not(None)))
    assert len(ended.all()) == 1


def test_a_sign_in_stores_the_device_and_the_address(client: FlaskClient, demo):
    client.post(
        url_for("auth.demo_signin"),
        data={"user_id": str(demo.agent_alex.id)},
        headers={"User-Agent": PHONE + "x" * 500},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    login = db.session.scalars(sa.select(LoginSession)).one()
    assert login.address == "203.0.113.7"
    assert login.user_agent.startswith("Mozilla/5.0 (Linux; Android 14")
    assert len(login.user_agent) == 200


def test_behind_a_trusted_proxy_the_address_is_the_clients(app: Flask, demo, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    proxied = app.test_client()
    monkeypatch.setattr(app, "wsgi_app", ProxyFix(app.wsgi_app, x_for=1))
    proxied.post(
        url_for("auth.demo_signin"),
        data={"user_id": str(demo.agent_alex.id)},
        headers={"X-Forwarded-For": "198.51.100.4"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert db.session.scalars(sa.select(LoginSession.address)).one() == "198.51.100.4"


def other_device(user_id: int, user_agent: str, **values: object) -> LoginSession:
    login = LoginSession(
        user_id=user_id, token_hash=secrets.token_hex(32), user_agent=user_agent, **values
    )
    db.session.add(login)
    db.session.commit()
    return login


def test_account_lists_every_active_session_and_marks_this_device(
    client: FlaskClient, auth: Auth, world: World
):
    long_ago = datetime.now(UTC) - timedelta(days=8)
    iphone = other_device(world.agent_alex.id, IPHONE)
    other_device(world.agent_alex.id, PHONE, ended_at=datetime.now(UTC))
    other_device(world.agent_alex.id, PHONE, created_at=long_ago, last_seen_at=long_ago)
    other_device(world.manager_maria.id, PHONE)
    auth.login(world.agent_alex)
    page = client.get(url_for("auth.account_page")).get_data(as_text=True)
    assert "Safari on an iPhone" in page
    assert "Chrome on an Android phone" not in page  # ended, expired, or someone else's
    assert page.count('<span class="badge">this device</span>') == 1
    assert "Last seen" in page and "signed in" in page
    assert f"/account/sessions/{iphone.id}/sign-out" in page
    assert "Sign out my other devices" in page


def test_signing_out_one_device_ends_only_that_one(client: FlaskClient, auth: Auth, world):
    iphone = other_device(world.agent_alex.id, IPHONE)
    laptop = other_device(world.agent_alex.id, PHONE)
    auth.login(world.agent_alex)
    answer = client.post(url_for("auth.sign_out_session", login_id=iphone.id))
    assert answer.status_code == 303
    db.session.expire_all()
    assert iphone.ended_at is not None and laptop.ended_at is None
    assert client.get(url_for("auth.account_page")).status_code == 200
    again = client.post(url_for("auth.sign_out_session", login_id=iphone.id))
    assert again.status_code == 404


def test_signing_out_this_device_from_the_list_signs_out_here(client, auth, world):
    auth.login(world.agent_alex)
    this = db.session.scalars(sa.select(LoginSession)).one()
    answer = client.post(url_for("auth.sign_out_session", login_id=this.id))
    assert answer.status_code == 303 and answer.location == "/signin"
    assert client.get(url_for("auth.account_page")).status_code == 302


def test_another_persons_session_is_a_404_and_stays(client: FlaskClient, auth: Auth, world):
    marias = other_device(world.manager_maria.id, PHONE)
    auth.login(world.agent_alex)
    answer = client.post(url_for("auth.sign_out_session", login_id=marias.id))
    made_up = client.post(url_for("auth.sign_out_session", login_id=2_147_483_000))
    assert answer.status_code == made_up.status_code == 404
    db.session.expire_all()
    assert marias.ended_at is None


@pytest.mark.parametrize(
    ("user_agent", "words"),
    [
        (PHONE, "Chrome on an Android phone"),
        (IPHONE, "Safari on an iPhone"),
        ("Mozilla/5.0 (Windows NT 10.0; rv:133.0) Firefox/133.0", "Firefox on a Windows computer"),
        ("Mozilla/5.0 (Macintosh) Chrome/131.0 Safari/537.36 Edg/131.0", "Edge on a Mac"),
        ("curl/8.5", "An unknown device"),
        ("", "An unknown device"),
    ],
)  # fmt: skip
def test_the_device_is_named_in_plain_words(app: Flask, user_agent: str, words: str):
    with app.test_request_context():
        assert describe(user_agent) == words


def test_the_cookie_is_sent_again_only_when_last_seen_is_noted(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.manager_maria)
    today = url_for("shadowing.today")
    client.get(today)  # the first answer may carry a new CSRF token in the cookie
    assert "Set-Cookie" not in client.get(today).headers, "nothing changed: no cookie"

    # Five minutes and more since "last seen": the server notes it, and the cookie's expiry
    # slides with it.
    db.session.execute(
        sa.update(LoginSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=6))
    )
    db.session.commit()
    again = client.get(today)
    assert again.status_code == 200
    assert "Set-Cookie" in again.headers
    assert "Set-Cookie" not in client.get(today).headers

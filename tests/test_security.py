"""The browser-facing defences: strict headers, no inline code, CSRF, server-side sessions."""

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import FollowUp, LoginSession, ObservationKind, ShadowSession
from coachapp.shadowing import service
from tests.conftest import Auth, World, make_observation, make_session
from tests.test_access import ACCESS, PERSONAS, Ids, persona_user

EXPECTED_CSP = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}
HTMX = {"HX-Request": "true"}


def path(endpoint: str, **values: object) -> str:
    return url_for(endpoint, _external=False, **values)


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_answer_carries_the_strict_headers(
    client: FlaskClient, auth: Auth, world: World, signed_in: bool
):
    if signed_in:
        auth.login(world.manager_maria)
    for url in ("/", "/signin", "/no-such-page", "/static/css/app.css", "/healthz"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert {d.strip() for d in csp.split(";")} == EXPECTED_CSP, url
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        permissions = headers["Permissions-Policy"]
        for feature in ("camera=()", "geolocation=()", "microphone=()"):
            assert feature in permissions


def test_hsts_only_behind_https(app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch):
    assert "Strict-Transport-Security" not in client.get("/signin").headers
    monkeypatch.setitem(app.config, "HTTPS", True)
    assert client.get("/signin").headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("persona", ["agent", "manager", "trainer", "admin"])
def test_signed_in_pages_are_never_stored(
    client: FlaskClient, auth: Auth, world: World, persona: str
):
    auth.login(persona_user(world, persona))
    start = client.get("/", follow_redirects=True)
    assert start.status_code == 200
    assert start.headers["Cache-Control"] == "no-store"
    assert client.get("/no-such-page").headers["Cache-Control"] == "no-store"
    # Static files keep their normal caching.
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


# --- no inline code: what the CSP would block must not be there to block ----------------


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts, styles and event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "style":
            self.found.append("<style>")
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.found.append("<script> without src")
        for name, value in attrs:
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"{name}= on <{tag}>")
            if (value or "").strip().lower().startswith(("javascript:", "js:")):
                self.found.append(f"{name}={value!r} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script body")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def test_the_scanner_notices_inline_code():
    page = (
        '<script>alert(1)</script><script src="/a.js"></script><style>p{}</style>'
        '<p style="color:red" onclick="x()"><a href="javascript:x()">x</a></p>'
    )
    assert inline_code(page) == [
        "<script> without src",
        "inline script body",
        "<style>",
        "style= on <p>",
        "onclick= on <p>",
        "href='javascript:x()' on <a>",
    ]
    assert inline_code('<script src="/a.js" defer></script><p class="x">ok</p>') == []


@pytest.fixture
def busy_world(world: World) -> Ids:
    """Maria's open session with Alex holding a strength and a correction, and one ended one."""
    done = make_session(world.manager_maria, world.agent_alex)
    make_observation(done, note="Warm & <clear> greeting", behaviour_id=world.behaviours[0].id)
    service.end_session(session=done, summary_note="Good 'shift'", now=datetime.now(UTC))
    shadow = make_session(world.manager_maria, world.agent_alex)
    strength = make_observation(shadow, behaviour_id=world.behaviours[0].id)
    service.record_observation(
        session=shadow,
        author=world.manager_maria,
        entry=service.ObservationInput(
            ObservationKind.CORRECTION, world.behaviours[1].id, "Skipped recap", "Practised it"
        ),
        client_uuid=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        now=datetime.now(UTC),
    )
    known = {
        "agent": world.agent_alex.id,
        "session": shadow.id,
        "observation": strength.id,
        "followup": db.session.scalar(sa.select(FollowUp.id).limit(1)),
    }
    unknown = {f.name for f in dataclasses.fields(Ids)} - known.keys()
    assert not unknown, f"say which record {unknown} should point at in busy_world"
    return Ids(**{f.name: known[f.name] for f in dataclasses.fields(Ids)})


def pages_to_scan() -> list[tuple[str, str]]:
    """Every GET of the access table, for each persona allowed to see it."""
    return [
        (endpoint, persona)
        for endpoint, route in sorted(ACCESS.items())
        if route.method == "GET" and endpoint != "static"
        for persona in PERSONAS
        if route.expected[persona] == 200
    ]


@pytest.mark.parametrize(("endpoint", "persona"), pages_to_scan())
def test_pages_hold_no_inline_code(
    client: FlaskClient, auth: Auth, world: World, busy_world: Ids, endpoint: str, persona: str
):
    user = persona_user(world, persona)
    if user is not None:
        auth.login(user)
    url = ACCESS[endpoint].url(busy_world)
    for headers in ({}, HTMX):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200
        if answer.mimetype == "text/html":  # not the worker's script, JSON or a calendar
            assert inline_code(answer.get_data(as_text=True)) == [], (url, headers)


def test_other_screens_hold_no_inline_code(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    world: World,
    busy_world: Ids,
    monkeypatch: pytest.MonkeyPatch,
):
    """The screens the access table does not reach: summaries, refusals, errors, demo sign-in."""
    ended = db.session.scalar(sa.select(ShadowSession).where(ShadowSession.ended_at.is_not(None)))
    assert ended is not None
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    db.session.commit()
    bodies = [client.get(path("auth.signin")), client.get("/no-such-page")]
    auth.login(world.manager_maria)
    add = path("shadowing.add_observation", session_id=busy_world.session)
    bad_entry = {"kind": "obstacle", "note": "", "client_uuid": str(uuid.uuid4())}
    bodies += [
        client.get(path("shadowing.session", session_id=ended.id)),
        client.post(add, data=bad_entry),
        client.post(add, data=bad_entry, headers=HTMX),
        client.post(add, data={**bad_entry, "note": "ok"}, headers=HTMX),
        client.post(
            path("shadowing.add_observation", session_id=ended.id),
            data={**bad_entry, "note": "late", "client_uuid": str(uuid.uuid4())},
        ),
        client.get("/no-such-page"),
    ]
    assert [answer.status_code for answer in bodies] == [200, 404, 200, 422, 422, 200, 409, 404]
    assert "Choose a demo person" in bodies[0].get_data(as_text=True)
    for answer in bodies:
        assert inline_code(answer.get_data(as_text=True)) == [], answer.request.path


def test_what_people_type_is_shown_as_text(client: FlaskClient, auth: Auth, world: World):
    typed = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    world.agent_alex.name = "Alex <b>Adams</b>"
    db.session.commit()
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow, note=typed, coached=typed, kind=ObservationKind.CORRECTION)
    auth.login(world.manager_maria)
    open_page = client.get(path("shadowing.session", session_id=shadow.id))
    client.post(path("shadowing.end", session_id=shadow.id), data={"summary_note": typed})
    pages = [
        open_page,
        client.get(path("shadowing.session", session_id=shadow.id)),
        client.get(path("log.agent", agent_id=world.agent_alex.id)),
        client.get(path("shadowing.today")),
    ]
    for answer in pages:
        body = answer.get_data(as_text=True)
        assert answer.status_code == 200
        assert inline_code(body) == [], answer.request.path
        assert "Alex &lt;b&gt;Adams&lt;/b&gt;" in body
        if answer.request.path != path("shadowing.today"):
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


# --- CSRF --------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """CSRF checks switched on, as in production (the other tests run without them)."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def page_token(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r"hx-headers='([^']*)'", html)
    assert match, "every page carries the token for htmx in hx-headers"
    return json.loads(match.group(1))["X-CSRFToken"]


def sessions() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ShadowSession)) or 0


def test_post_without_a_token_is_refused(
    client: FlaskClient, auth: Auth, world: World, csrf_on: None
):
    auth.login(world.manager_maria)
    start = path("shadowing.start", agent_id=world.agent_alex.id)
    for headers in ({}, HTMX, {"X-CSRFToken": "forged"}):
        answer = client.post(start, data={"client_uuid": str(uuid.uuid4())}, headers=headers)
        assert answer.status_code == 400
        body = answer.get_data(as_text=True)
        if headers is not HTMX:  # htmx gets the message alone, to show in place
            assert "<title>Please try again · coachapp</title>" in body
        assert "Reload the page and try again." in body
    assert sessions() == 0


def test_the_token_from_hx_headers_is_accepted(
    client: FlaskClient, auth: Auth, world: World, csrf_on: None
):
    auth.login(world.manager_maria)
    token = page_token(client, path("shadowing.today"))
    # The first entry is what starts a session.
    answer = client.post(
        path("shadowing.add_first_observation", agent_id=world.agent_alex.id),
        data={"client_uuid": str(uuid.uuid4()), "kind": "strength", "note": "Warm welcome."},
        headers={**HTMX, "X-CSRFToken": token},
    )
    assert answer.status_code == 200
    assert sessions() == 1


def test_the_token_in_a_plain_form_is_accepted(
    client: FlaskClient, auth: Auth, world: World, csrf_on: None
):
    """Without JavaScript the hidden csrf_token field does the same job."""
    auth.login(world.manager_maria)
    html = client.get(path("shadowing.shadow_agent", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    answer = client.post(
        path("shadowing.add_first_observation", agent_id=world.agent_alex.id),
        data={
            "csrf_token": token.group(1),
            "client_uuid": str(uuid.uuid4()),
            "kind": "strength",
            "note": "Warm welcome.",
        },
    )
    assert answer.status_code == 303
    assert sessions() == 1


def test_sign_out_needs_the_token_too(client: FlaskClient, auth: Auth, world: World, csrf_on: None):
    auth.login(world.manager_maria)
    assert client.post(path("auth.signout")).status_code == 400
    assert client.get(path("shadowing.today")).status_code == 200


# --- server-side sessions ---------------------------------------------------------------


def copy_of_cookie(app: Flask, client: FlaskClient) -> FlaskClient:
    cookie = client.get_cookie("session")
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value)
    return other


def test_sign_out_ends_the_session_everywhere(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.manager_maria)
    today = path("shadowing.today")
    assert client.get(today).status_code == 200
    stolen = copy_of_cookie(app, client)
    assert stolen.get(today).status_code == 200

    signed_out = client.post(path("auth.signout"), follow_redirects=True)
    assert "You are signed out." in signed_out.get_data(as_text=True)

    answer = stolen.get(today)
    assert answer.status_code == 302
    assert answer.location.startswith("/signin")
    assert db.session.scalars(sa.select(LoginSession.ended_at)).one() is not None


def test_a_deactivated_person_is_signed_out(client: FlaskClient, auth: Auth, world: World):
    auth.login(world.manager_maria)
    assert client.get(path("shadowing.today")).status_code == 200
    world.manager_maria.active = False
    db.session.commit()
    answer = client.get(path("shadowing.today"))
    assert answer.status_code == 302
    assert answer.location.startswith("/signin")


def test_another_persons_session_token_does_not_sign_in(
    app: Flask, client: FlaskClient, auth: Auth, world: World
):
    """A cookie claiming Maria with Mo's live session token is nobody."""
    auth.login(world.manager_mo)
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = str(world.manager_maria.id)
    answer = client.get(path("shadowing.today"))
    assert answer.status_code == 302


def signed_cookie(secret_key: str, values: dict[str, object]) -> str:
    forger = Flask("forger")
    forger.secret_key = secret_key
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    return serializer.dumps(values)


@pytest.mark.parametrize(
    "cookie",
    ["garbage", "", "e30.invalid.signature", "wrong-key", "no-token", "made-up-token"],
)
def test_a_forged_cookie_is_anonymous(app: Flask, world: World, cookie: str):
    maria = str(world.manager_maria.id)
    values = {
        "wrong-key": signed_cookie("guessed", {"_user_id": maria, "sid": "x"}),
        "no-token": signed_cookie(app.secret_key, {"_user_id": maria}),  # type: ignore[arg-type]
        "made-up-token": signed_cookie(
            app.secret_key,  # type: ignore[arg-type]
            {"_user_id": maria, "sid": "made-up", "_fresh": True},
        ),
    }
    client = app.test_client()
    client.set_cookie("session", values.get(cookie, cookie))
    for url in (path("shadowing.today"), path("log.agent", agent_id=world.agent_alex.id)):
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer.location.startswith("/signin")
    assert client.get(path("auth.signin")).status_code == 200


@pytest.mark.parametrize("signed_in", [False, True])
def test_unknown_urls_answer_the_not_found_page(
    client: FlaskClient, auth: Auth, world: World, signed_in: bool
):
    urls = ["/no-such-page", "/agents/abc", "/static/nothing.css"]
    if signed_in:
        auth.login(world.manager_maria)
        urls.append("/sessions/999999")
    for url in urls:
        answer = client.get(url)
        body = answer.get_data(as_text=True)
        assert answer.status_code == 404, url
        assert "<title>Not found · coachapp</title>" in body, url
        assert "There is nothing here, or it is not yours to see." in body


def test_users_are_not_enumerable_by_id(client: FlaskClient, auth: Auth, world: World):
    """Someone else's agent and a missing agent look the same."""
    auth.login(world.manager_maria)
    missing = client.get(path("log.agent", agent_id=999_999))
    elsewhere = client.get(path("log.agent", agent_id=world.agent_bo.id))
    assert missing.status_code == elsewhere.status_code == 404
    assert missing.get_data() == elsewhere.get_data()

"""Reminders by Web Push: sent for real to a local push service that checks the VAPID signature
and decrypts the message, once a day whatever the number of runs, and never naming anyone."""

import base64
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask
from flask.testing import FlaskClient

from coachapp import clock
from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import (
    AppKey,
    Behaviour,
    FollowUp,
    ObservationKind,
    PushSubscription,
    ReminderSent,
    User,
)
from coachapp.reminders import daily, push
from tests.conftest import Auth, World, make_app, make_observation, make_session

# Corrected on Monday 3 March 2025; the first check is due two days later, on Wednesday.
CORRECTED_AT = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
CHECK_DAY = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- a push service on this machine ----------------------------------------------------------


@dataclass
class Received:
    path: str
    #: header names in lower case
    headers: dict[str, str]
    body: bytes


@dataclass
class PushService:
    """A stand-in for a browser vendor's push service: records what arrives, answers as told."""

    port: int
    received: list[Received] = field(default_factory=list)
    #: path -> HTTP status to answer (201 otherwise, like the real ones)
    answers: dict[str, int] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            service.received.append(Received(self.path, headers, body))
            self.send_response(service.answers.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.port = server.server_address[1]
    # A short poll: shutdown() waits for the loop to look, half a second by default, a test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


@dataclass
class Browser:
    """A browser's side of a push subscription: its key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    def subscription_json(self) -> dict[str, object]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> dict[str, str]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return json.loads(plain)


def new_browser(endpoint: str) -> Browser:
    return Browser(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def subscribe(client: FlaskClient, auth: Auth, user: User, browser: Browser) -> None:
    auth.login(user)
    response = client.post("/reminders/push-subscriptions", json=browser.subscription_json())
    assert response.status_code == 200, response.get_json()
    auth.logout()


def verify_vapid(headers: dict[str, str], origin: str) -> str:
    """Check the VAPID Authorization header (RFC 8292) and return the key it was signed with."""
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = parts["t"], parts["k"]
    signing_input, _, signature = token.rpartition(".")
    raw = unb64url(signature)
    assert len(raw) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))  # raises if bad
    header_part, claims_part = signing_input.split(".")
    assert json.loads(unb64url(header_part))["alg"] == "ES256"
    claims = json.loads(unb64url(claims_part))
    assert claims["aud"] == origin
    assert claims["exp"] > time.time()
    assert claims["sub"] == "mailto:admin@localhost"
    return key


# --- the world of these tests --------------------------------------------------------------


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The morning the first check of a Monday correction is due."""
    monkeypatch.setattr(clock, "now", lambda: CHECK_DAY)


def correct(world: World, manager: User, agent: User, behaviour: Behaviour, note: str) -> FollowUp:
    """A correction during shadowing: it opens a focus item whose first check is pending."""
    shadow = make_session(manager, agent, started_at=CORRECTED_AT)
    observation = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=behaviour.id,
        note=note,
        occurred_at=CORRECTED_AT,
    )
    item = apply_correction(observation, current_ladder())
    assert item is not None and item.pending is not None
    assert item.pending.due_on == date(2025, 3, 5)
    return item.pending


def send(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    return result.output


def subscription_ids() -> set[int]:
    return set(db.session.scalars(sa.select(PushSubscription.id)))


# --- sending ---------------------------------------------------------------------------------


def test_reminder_is_signed_encrypted_and_names_no_one(
    app, client, auth, world, frozen, push_service
):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "Rushed the caller")
    browser = new_browser(push_service.endpoint("maria-phone"))
    subscribe(client, auth, world.manager_maria, browser)

    output = send(app)

    assert len(push_service.received) == 1
    request = push_service.received[0]
    assert request.path == "/push/maria-phone"
    key = verify_vapid(request.headers, push_service.origin)
    assert key == push.public_key()
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["ttl"] == str(12 * 3600)
    message = browser.decrypt(request.body)
    assert message == {"title": "coachapp", "body": "1 follow-up due today", "url": "/today"}
    text = request.body.decode("latin-1") + json.dumps(message)
    for private in ("Alex", "Adams", "Rushed", "Greets"):
        assert private not in text
    assert output.strip() == (
        "Reminders: managers notified 1, subscriptions removed 0, failures 0."
    )
    assert "Alex" not in output and "maria" not in output.lower()


def test_count_covers_every_check_due_or_overdue(app, client, auth, world, frozen, push_service):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[1], "")
    browser = new_browser(push_service.endpoint("maria"))
    subscribe(client, auth, world.manager_maria, browser)

    send(app)

    assert browser.decrypt(push_service.received[0].body)["body"] == "2 follow-ups due today"
    reminder = db.session.scalar(sa.select(ReminderSent))
    assert reminder is not None
    assert (reminder.user_id, reminder.sent_on, reminder.due_count) == (
        world.manager_maria.id,
        date(2025, 3, 5),
        2,
    )


def test_every_device_of_the_manager_gets_it(app, client, auth, world, frozen, push_service):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    phone, tablet = (new_browser(push_service.endpoint(name)) for name in ("phone", "tablet"))
    subscribe(client, auth, world.manager_maria, phone)
    subscribe(client, auth, world.manager_maria, tablet)

    output = send(app)

    assert sorted(r.path for r in push_service.received) == ["/push/phone", "/push/tablet"]
    assert "managers notified 1" in output


def test_a_second_run_sends_nothing(app, client, auth, world, frozen, push_service):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))

    send(app)
    output = send(app)

    assert len(push_service.received) == 1
    assert "managers notified 0" in output
    assert db.session.scalar(sa.select(sa.func.count(ReminderSent.id))) == 1


def test_runs_at_the_same_moment_send_once(app, client, auth, world, frozen, push_service):
    """Cron on three machines at once: all count, one claims the day, one message arrives.

    Each run has its own app context, so its own session and connection, as separate processes
    would. (The service is called, not the CLI: click's runner swaps sys.stdout for the whole
    process, which threads would share.)
    """
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))
    db.session.remove()  # the test's own connection holds nothing while the runs race
    start = threading.Barrier(3)
    summaries: list[daily.RunSummary] = []
    errors: list[BaseException] = []

    def run() -> None:
        with app.app_context():
            start.wait()
            try:
                summaries.append(daily.send_reminders(date(2025, 3, 5)))
            except BaseException as error:  # reported below, in the test's own thread
                errors.append(error)

    runs = [threading.Thread(target=run) for _ in range(3)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(timeout=30)

    assert errors == []
    assert len(push_service.received) == 1
    assert sorted(summary.notified for summary in summaries) == [0, 0, 1]
    assert db.session.scalar(sa.select(sa.func.count(ReminderSent.id))) == 1


def test_a_manager_with_nothing_due_gets_nothing(app, client, auth, world, frozen, push_service):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_mo, new_browser(push_service.endpoint("mo")))

    output = send(app)

    assert push_service.received == []
    assert "managers notified 0" in output
    assert db.session.scalar(sa.select(sa.func.count(ReminderSent.id))) == 0


def test_nothing_is_sent_before_the_check_is_due(
    app, client, auth, world, monkeypatch, push_service
):
    monkeypatch.setattr(clock, "now", lambda: CORRECTED_AT)
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))

    send(app)

    assert push_service.received == []


def test_checks_of_a_deactivated_agent_are_not_counted(
    app, client, auth, world, frozen, push_service
):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))
    world.agent_alex.active = False
    db.session.commit()

    send(app)

    assert push_service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_calls_gone_is_removed(
    status, app, client, auth, world, frozen, push_service
):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("old")))
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("new")))
    push_service.answers["/push/old"] = status

    output = send(app)

    assert len(push_service.received) == 2
    endpoints = set(db.session.scalars(sa.select(PushSubscription.endpoint)))
    assert endpoints == {push_service.endpoint("new")}
    assert output.strip() == "Reminders: managers notified 1, subscriptions removed 1, failures 0."


def test_a_failing_push_service_is_counted_and_the_subscription_kept(
    app, client, auth, world, frozen, push_service, caplog
):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))
    push_service.answers["/push/maria"] = 500
    before = subscription_ids()

    output = send(app)
    again = send(app)

    assert output.strip() == "Reminders: managers notified 0, subscriptions removed 0, failures 1."
    assert "500" in caplog.text
    for secret in ("/push/maria", "127.0.0.1", "follow-up", "Maria"):
        assert secret not in caplog.text  # never an endpoint or a payload in the logs
    assert subscription_ids() == before
    # The claim stays: at most one a day is the promise, even when that one was lost.
    assert len(push_service.received) == 1
    assert "failures 0" in again


def test_an_unreachable_push_service_is_a_failure(app, client, auth, world, frozen):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on that port any more.
    subscribe(client, auth, world.manager_maria, new_browser(f"http://127.0.0.1:{port}/push/x"))

    output = send(app)

    assert "failures 1" in output
    assert len(subscription_ids()) == 1


def test_a_bad_vapid_subject_stops_before_claiming(
    app, client, auth, world, frozen, push_service, monkeypatch
):
    correct(world, world.manager_maria, world.agent_alex, world.behaviours[0], "")
    subscribe(client, auth, world.manager_maria, new_browser(push_service.endpoint("maria")))
    monkeypatch.setitem(app.config, "VAPID_SUBJECT", "admin")

    result = app.test_cli_runner().invoke(args=["send-reminders"])

    assert result.exit_code != 0
    assert "VAPID_SUBJECT" in result.output
    assert db.session.scalar(sa.select(sa.func.count(ReminderSent.id))) == 0


# --- the VAPID key ---------------------------------------------------------------------------


def test_push_key_is_made_once_and_kept(app, client, auth, world):
    auth.login(world.manager_maria)

    first = client.get("/reminders/push-key").get_json()["publicKey"]
    second = client.get("/reminders/push-key").get_json()["publicKey"]

    assert first == second
    raw = unb64url(first)
    assert len(raw) == 65 and raw[0] == 4
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppKey)) == 1


def test_push_key_is_shared_by_every_app_on_the_database(app, client, auth, world):
    """Two processes (here two app instances) on one database: the same key, made once."""
    other_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    other_client = other_app.test_client()
    Auth(other_client).login(world.manager_mo)
    auth.login(world.manager_maria)

    from_other = other_client.get("/reminders/push-key").get_json()["publicKey"]
    here = client.get("/reminders/push-key").get_json()["publicKey"]
    again = other_client.get("/reminders/push-key").get_json()["publicKey"]

    with other_app.app_context():
        db.engine.dispose()
    assert here == from_other == again
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AppKey)) == 1


# --- subscribing from the page -------------------------------------------------------------


def test_reminders_page_explains_and_loads_its_script(client, auth, world):
    auth.login(world.manager_maria)

    page = client.get("/reminders").get_data(as_text=True)

    assert "Add to Home Screen" in page
    assert re.search(r"js/reminders\.[0-9a-f]+\.js", page)
    assert 'name="csrf-token"' in page
    assert 'href="/reminders"' in client.get("/account").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page


def test_subscribe_keeps_the_subscription(app, client, auth, world):
    browser = new_browser("https://push.example.net/send/abc")
    auth.login(world.manager_maria)

    response = client.post("/reminders/push-subscriptions", json=browser.subscription_json())

    assert response.status_code == 200
    row = db.session.scalar(sa.select(PushSubscription))
    assert row is not None
    assert (row.user_id, row.endpoint) == (world.manager_maria.id, browser.endpoint)
    assert row.p256dh == browser.subscription_json()["keys"]["p256dh"]  # type: ignore[index]


def test_the_same_endpoint_again_updates_its_row(app, client, auth, world):
    endpoint = "https://push.example.net/send/abc"
    auth.login(world.manager_maria)
    client.post("/reminders/push-subscriptions", json=new_browser(endpoint).subscription_json())
    renewed = new_browser(endpoint)

    client.post("/reminders/push-subscriptions", json=renewed.subscription_json())

    rows = db.session.scalars(sa.select(PushSubscription)).all()
    assert len(rows) == 1
    assert rows[0].auth == b64url(renewed.auth_secret)


def test_an_endpoint_of_someone_else_moves_to_the_new_account(app, client, auth, world):
    browser = new_browser("https://push.example.net/send/shared-tablet")
    subscribe(client, auth, world.manager_mo, browser)
    auth.login(world.manager_maria)

    response = client.post("/reminders/push-subscriptions", json=browser.subscription_json())

    assert response.status_code == 200
    rows = db.session.scalars(sa.select(PushSubscription)).all()
    assert [row.user_id for row in rows] == [world.manager_maria.id]


def test_unsubscribe_removes_only_your_own(app, client, auth, world):
    mine = new_browser("https://push.example.net/send/mine")
    theirs = new_browser("https://push.example.net/send/theirs")
    subscribe(client, auth, world.manager_mo, theirs)
    subscribe(client, auth, world.manager_maria, mine)
    auth.login(world.manager_maria)

    gone = client.post("/reminders/push-subscriptions/delete", json={"endpoint": mine.endpoint})
    kept = client.post("/reminders/push-subscriptions/delete", json={"endpoint": theirs.endpoint})

    assert gone.status_code == kept.status_code == 200
    assert set(db.session.scalars(sa.select(PushSubscription.endpoint))) == {theirs.endpoint}


def test_unsubscribe_without_an_endpoint_is_422(client, auth, world):
    auth.login(world.manager_maria)

    response = client.post("/reminders/push-subscriptions/delete", json={})

    assert response.status_code == 422
    assert response.get_json()["error"]


def _with(**changes: object) -> dict[str, object]:
    """A valid subscription with some fields changed (p256dh and auth are inside "keys")."""
    data = new_browser("https://push.example.net/send/abc").subscription_json()
    keys = dict(data["keys"])  # type: ignore[call-overload]
    keys.update({name: changes.pop(name) for name in ("p256dh", "auth") if name in changes})
    return {**data, "keys": keys, **changes}


NOT_ON_THE_CURVE = b64url(b"\x04" + b"\x01" * 64)

INVALID = {
    "not an object": ["https://push.example.net/send/abc"],
    "no endpoint": _with(endpoint=None),
    "endpoint not a string": _with(endpoint=42),
    "not a URL": _with(endpoint="push me"),
    "plain http": _with(endpoint="http://push.example.net/send/abc"),
    "another scheme": _with(endpoint="javascript:alert(1)"),
    "credentials in the URL": _with(endpoint="https://user:pw@push.example.net/x"),
    "too long": _with(endpoint="https://push.example.net/" + "a" * 1000),
    "no keys": _with(keys=None),
    "p256dh not base64url": _with(p256dh="not base64!"),
    "p256dh too short": _with(p256dh=b64url(b"\x04" + b"\x01" * 30)),
    "p256dh not a point": _with(p256dh=NOT_ON_THE_CURVE),
    "p256dh huge": _with(p256dh="A" * 5000),
    "auth too short": _with(auth=b64url(b"\x01" * 8)),
    "auth not a string": _with(auth=16),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_a_bad_subscription_is_422_with_a_message(case, client, auth, world):
    auth.login(world.manager_maria)

    response = client.post("/reminders/push-subscriptions", json=INVALID[case])

    assert response.status_code == 422
    assert response.is_json and response.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_form_data_is_not_a_subscription(client, auth, world):
    auth.login(world.manager_maria)

    response = client.post("/reminders/push-subscriptions", data={"endpoint": "https://x.y/z"})

    assert response.status_code == 422
    assert response.get_json()["error"]


def test_plain_http_to_this_machine_only_in_development_and_tests():
    local = new_browser("http://127.0.0.1:8080/push/1").subscription_json()

    assert push.parse_subscription(local, allow_local=True).endpoint.startswith("http://")
    with pytest.raises(push.EndpointNotSecure):
        push.parse_subscription(local, allow_local=False)


def test_subscribing_needs_the_csrf_token_of_the_page(app, client, auth, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    auth.login(world.manager_maria)
    page = client.get("/reminders").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    browser = new_browser("https://push.example.net/send/abc")

    refused = client.post("/reminders/push-subscriptions", json=browser.subscription_json())
    accepted = client.post(
        "/reminders/push-subscriptions",
        json=browser.subscription_json(),
        headers={"X-CSRFToken": token},
    )

    assert refused.status_code == 400
    assert accepted.status_code == 200


# --- the service worker --------------------------------------------------------------------


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/service-worker.js")

    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    for handler in ('addEventListener("push"', 'addEventListener("notificationclick"'):
        assert handler in source
    assert "coachapp-due" in source and "CACHE_VERSION" in source

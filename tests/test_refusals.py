"""Audit events say where they came from; refused requests are logged and, when many come from
one person or address, show in the audit log."""

import logging
import uuid

import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp import refusals
from coachapp.extensions import db
from coachapp.models import AuditEvent
from tests.conftest import Auth, World, make_session

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Safari/604.1"
FROM_PHONE = {"headers": {"User-Agent": PHONE}, "environ_base": {"REMOTE_ADDR": "203.0.113.9"}}


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_a_failed_sign_in_records_the_address_and_the_browser(client: FlaskClient):
    answer = client.post(
        url_for("auth.signin_verify"),
        data=b'{"credential": 5}',
        content_type="application/json",
        **FROM_PHONE,
    )
    assert answer.status_code == 400
    [failure] = events("signin.failure")
    assert (failure.address, failure.user_agent) == ("203.0.113.9", PHONE)


def test_an_export_records_the_address_and_the_browser(client: FlaskClient, auth: Auth, world):
    auth.login(world.agent_alex)
    assert client.get(url_for("log.export_json", agent_id=world.agent_alex.id), **FROM_PHONE)
    [export] = events("data.exported")
    assert (export.address, export.user_agent) == ("203.0.113.9", PHONE)


def test_invitation_use_records_the_address(app: Flask, world: World):
    from coachapp import audit

    with app.test_request_context(**FROM_PHONE):
        event = audit.record("invitation.used", subject=world.agent_alex)
    assert (event.address, event.user_agent) == ("203.0.113.9", PHONE)


def test_the_audit_log_shows_the_address_and_the_device(client, auth, world):
    auth.login(world.agent_alex)
    client.get(url_for("log.export_json", agent_id=world.agent_alex.id), **FROM_PHONE)
    auth.login(world.admin_ada)
    page = client.get(url_for("people.audit_page")).get_data(as_text=True)
    assert "from 203.0.113.9" in page and "Safari on an iPhone" in page


def test_a_refusal_by_scope_is_logged_without_the_body(client, auth, world, caplog):
    shadow = make_session(world.manager_mo, world.agent_bo)
    auth.login(world.manager_maria)
    caplog.set_level(logging.INFO, logger="coachapp.refused")
    answer = client.post(
        url_for("shadowing.add_observation", session_id=shadow.id),
        data={"kind": "strength", "note": "Private words", "client_uuid": str(uuid.uuid4())},
        **FROM_PHONE,
    )
    assert answer.status_code == 404
    [line] = [r.getMessage() for r in caplog.records if r.name == "coachapp.refused"]
    assert "/sessions/<int:session_id>/observations" in line
    assert "reason=not found" in line
    assert f"user={world.manager_maria.id}" in line and "address=203.0.113.9" in line
    assert "Private" not in line and str(shadow.id) not in line.split("user=")[0]


def test_a_refused_token_and_a_foreign_origin_are_logged(app, client, auth, world, caplog):
    caplog.set_level(logging.INFO, logger="coachapp.refused")
    auth.login(world.manager_maria)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client.post(url_for("sync.start_session"), json={})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    client.post(url_for("auth.signout"), headers={"Origin": "https://evil.example"})
    lines = [r.getMessage() for r in caplog.records if r.name == "coachapp.refused"]
    assert any("reason=csrf" in line and "status=403" in line for line in lines)
    assert any("reason=origin" in line for line in lines)


def test_many_refusals_from_one_person_show_once_in_the_audit_log(client, auth, world):
    auth.login(world.manager_maria)
    for _ in range(refusals.THRESHOLD + 5):
        assert client.get("/agents/2147483000", **FROM_PHONE).status_code == 404
    [event] = events("requests.refused")
    assert event.actor_id == world.manager_maria.id
    assert event.address == "203.0.113.9"
    auth.login(world.admin_ada)
    page = client.get(url_for("people.audit_page")).get_data(as_text=True)
    assert "Many refused requests" in page


def test_many_refusals_from_one_address_signed_out(client: FlaskClient, world):
    for _ in range(refusals.THRESHOLD):
        assert client.get("/no-such-page", **FROM_PHONE).status_code == 404
    [event] = events("requests.refused")
    assert event.actor_id is None and event.address == "203.0.113.9"


def test_an_answered_request_touches_no_counter(client, auth, world, monkeypatch):
    def never(_self, _key):  # type: ignore[no-untyped-def]
        raise AssertionError("counted an answered request")

    monkeypatch.setattr(refusals.Counter, "hit", never)
    auth.login(world.manager_maria)
    assert client.get(url_for("shadowing.today")).status_code == 200


def test_a_counter_that_does_not_answer_leaves_the_404(client, auth, world, monkeypatch):
    def broken(_self, _key):  # type: ignore[no-untyped-def]
        raise ConnectionError("redis is down")

    monkeypatch.setattr(refusals.Counter, "hit", broken)
    auth.login(world.manager_maria)
    assert client.get("/agents/2147483000").status_code == 404

"""One JSON line per request on `coachapp.requests`: method, route rule, status, duration, user id,
and nothing a person wrote or could be found by (no notes, names, tokens, query strings)."""

import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from coachapp import request_log
from tests.conftest import Auth, World, make_app


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger(request_log.LOGGER_NAME)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def logged_app(app: Flask, log_format: str) -> Flask:
    """The same database as the test's app, with request logging on."""
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], LOG_FORMAT=log_format)


def test_a_write_is_one_json_line_without_what_was_written(
    app: Flask, world: World, lines: list[str]
):
    logged = logged_app(app, "json")
    client = logged.test_client()
    Auth(client).login(world.manager_maria)
    started = client.post(
        "/api/sessions",
        json={"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id},
    )
    assert started.status_code == 201
    session_uuid = started.json["session"]["client_uuid"]
    lines.clear()

    saved = client.post(
        f"/api/sessions/{session_uuid}/observations?token=query-secret",
        json={"client_uuid": str(uuid.uuid4()), "kind": "strength", "note": "Private words"},
    )

    assert saved.status_code == 201
    [line] = lines
    entry = json.loads(line)
    assert entry.keys() == {"method", "route", "status", "duration_ms", "user_id"}
    assert entry["method"] == "POST"
    assert entry["route"] == "/api/sessions/<uuid:session_uuid>/observations"
    assert entry["status"] == 201
    assert entry["user_id"] == world.manager_maria.id
    assert isinstance(entry["duration_ms"], float)
    for secret in ("Private words", "query-secret", session_uuid, "Maria"):
        assert secret not in line


def test_an_anonymous_request_and_an_unknown_url_are_logged_too(
    app: Flask, world: World, lines: list[str]
):
    client = logged_app(app, "json").test_client()
    client.get("/healthz")
    client.get("/no/such/page/4711")

    first, second = (json.loads(line) for line in lines)
    assert first["route"] == "/healthz" and first["user_id"] is None
    assert second["route"] is None and second["status"] == 404
    assert "4711" not in lines[1]


def test_text_format_and_off(app: Flask, world: World, lines: list[str]):
    logged_app(app, "text").test_client().get("/healthz")
    assert lines[-1].startswith("GET /healthz 200 ")
    lines.clear()
    logged_app(app, "off").test_client().get("/healthz")
    assert lines == []


def test_an_unknown_format_stops_the_start(app: Flask):
    with pytest.raises(ValueError, match="COACHAPP_LOG_FORMAT"):
        logged_app(app, "xml")

"""Redis down while configured: sign-in, invitation links and the calendar feed keep their limits
in this process's memory, with a warning, and go back to Redis as soon as it answers again.

Runs a redis-server of its own on a free port, which the tests stop and start again.
"""

import logging
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coachapp import ratelimits
from tests.conftest import make_app
from tests.test_rate_limits import _free_port

LIMIT = 5

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)


class RedisServer:
    """A throwaway redis-server: no snapshots, no append-only file, gone when stopped."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def keys(self) -> int:
        """Rate-limit counters in Redis (the refusal counters of coachapp.refusals apart)."""
        import redis

        names = redis.Redis.from_url(self.url).keys()
        return len([name for name in names if b"refused/" not in name])


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture
def redis_app(
    redis_server: RedisServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    if redis_server.process is None:
        redis_server.start()
    monkeypatch.setattr(ratelimits, "RETRY_SECONDS", 0.2)
    app = make_app(
        "sqlite:///" + str(tmp_path / "redis-down.sqlite3"),
        RATELIMIT_STORAGE_URI=redis_server.url,
        SIGNIN_RATE_LIMIT=f"{LIMIT}/minute",
    )
    from coachapp.extensions import db

    with app.app_context():
        db.create_all()
    yield app
    _limiter_back_to_memory(tmp_path)


def _limiter_back_to_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The limiter is one object for every app: leave it counting in memory for later tests."""
    make_app("sqlite:///" + str(tmp_path / "after.sqlite3"), STARTUP_CHECK=False)


def _statuses(client: FlaskClient, method: str, path: str, times: int) -> list[int]:
    call = client.post if method == "POST" else client.get
    return [call(path, json={}).status_code for _ in range(times)]


ROUTES = [
    ("GET", "/invite/not-a-real-token", 404),
    ("POST", "/signin/passkey/options", 200),
    ("GET", "/calendar/not-a-real-token.ics", 404),
]


@pytest.mark.parametrize(("method", "path", "answer"), ROUTES)
def test_limits_hold_in_memory_while_redis_is_down_and_never_500(
    redis_app: Flask,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    answer: int,
):
    client = redis_app.test_client()
    limit = 60 if path.startswith("/calendar") else LIMIT
    redis_server.stop()

    with caplog.at_level(logging.WARNING, logger="coachapp.ratelimit"):
        statuses = _statuses(client, method, path, limit + 3)

    assert statuses == [answer] * limit + [429] * 3
    assert any("does not answer" in r.getMessage() for r in caplog.records)


def test_redis_counts_again_as_soon_as_it_is_back(
    redis_app: Flask, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
):
    client = redis_app.test_client()
    assert _statuses(client, "GET", "/invite/a", 2) == [404, 404]
    assert redis_server.keys() == 1  # counted in Redis
    redis_server.stop()
    # This process counts on its own from zero: the limit still holds, per process.
    assert _statuses(client, "GET", "/invite/a", LIMIT + 1) == [404] * LIMIT + [429]

    redis_server.start()
    time.sleep(0.3)  # past the retry pause
    with caplog.at_level(logging.WARNING, logger="coachapp.ratelimit"):
        statuses = _statuses(client, "GET", "/invite/b", LIMIT + 1)

    assert statuses == [404] * LIMIT + [429]
    assert redis_server.keys() == 1  # the new count is in Redis again
    assert any("answers again" in r.getMessage() for r in caplog.records)


def test_readyz_says_redis_is_down_while_pages_still_answer(
    redis_app: Flask, redis_server: RedisServer
):
    client = redis_app.test_client()
    redis_server.stop()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["reasons"][0].startswith("redis: ")
    assert client.get("/invite/x").status_code == 404

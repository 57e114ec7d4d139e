"""Rate limits hold exactly across several gunicorn workers when they share Redis.

Runs real gunicorn processes on loopback; needs Redis (COACHAPP_TEST_REDIS_URL, set by .ci/test
when Redis answers). With in-memory storage each worker would count on its own.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("COACHAPP_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3
LIMIT = 10

pytestmark = pytest.mark.skipif(
    not REDIS_URL and not IN_CI, reason="COACHAPP_TEST_REDIS_URL is not set"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_db_15(url: str) -> str:
    """A database of its own, emptied first, so no other test's counters mix in."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return base + "/15"


@pytest.fixture(scope="module")
def gunicorn_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn with several workers sharing Redis for rate limits."""
    assert REDIS_URL, "CI=true needs COACHAPP_TEST_REDIS_URL: rate limits are tested on Redis"
    import redis

    storage = _redis_db_15(REDIS_URL)
    redis.Redis.from_url(storage).flushdb()
    yield from _gunicorn(tmp_path_factory, storage)


@pytest.fixture(scope="module")
def gunicorn_memory_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, counting in each worker's memory: the set-up the Redis setting replaces."""
    yield from _gunicorn(tmp_path_factory, "memory://")


def _gunicorn(tmp_path_factory: pytest.TempPathFactory, storage: str) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("gunicorn")
    env = {
        **os.environ,
        "COACHAPP_DATABASE_URL": "sqlite:///" + str(folder / "app.sqlite3"),
        "COACHAPP_SECRET_KEY": "rate-limit-test",
        "COACHAPP_REDIS_URL": storage,
        "COACHAPP_SIGNIN_LIMIT": f"{LIMIT}/minute",
    }
    flask = [sys.executable, "-m", "flask", "--app", "app", "init"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        # --preload: the app is imported once before the fork, so every worker is ready at once
        # and the burst below really meets all of them.
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}"]
        + ["--preload", "app:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + "/healthz")
        with ThreadPoolExecutor(max_workers=WORKERS * 2) as pool:  # wake every worker
            list(pool.map(_status, [url + "/healthz"] * (WORKERS * 10)))
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def _wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _status(url: str) -> int:
    # A new connection each time: the kernel spreads new connections over the workers.
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def _burst(url: str) -> list[int]:
    """Three times the limit, six at a time, so that every worker takes some."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(_status, [url + "/invite/not-a-real-token"] * (LIMIT * 3)))


def test_the_invitation_limit_holds_exactly_across_workers(gunicorn_url: str):
    statuses = _burst(gunicorn_url)
    assert statuses.count(404) == LIMIT  # unknown token: answered, and counted
    assert statuses.count(429) == LIMIT * 2


def test_without_redis_each_worker_counts_alone(gunicorn_memory_url: str):
    """Shows the burst reaches several workers: in memory, more than the limit gets through."""
    statuses = _burst(gunicorn_memory_url)
    assert statuses.count(404) > LIMIT

"""Several servers, one truth: two gunicorn servers on different ports share PostgreSQL and Redis.

A session made on one works on the other, signing out on one ends it on both, the sign-in limit
is exact across both, and the reminders command run on both nodes at once sends once. Needs
COACHAPP_TEST_POSTGRES_URL and COACHAPP_TEST_REDIS_URL (CI sets both; elsewhere it is skipped).
"""

import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import (
    Observation,
    ObservationKind,
    Organisation,
    PushSubscription,
    ReminderSent,
    Role,
    Team,
    User,
)
from tests.conftest import POSTGRES_URL, _profile, make_app, make_session
from tests.test_rate_limits import _free_port, _wait_until_up
from tests.test_reminders import new_browser

REDIS_URL = os.environ.get("COACHAPP_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
ROOT = Path(__file__).resolve().parent.parent
LIMIT = 10

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL) and not IN_CI,
    reason="needs COACHAPP_TEST_POSTGRES_URL and COACHAPP_TEST_REDIS_URL",
)


@dataclass
class Cluster:
    servers: list[str]
    env: dict[str, str]
    database_url: str
    manager_id: int
    push_hits: list[str]


def _redis_db_5(url: str) -> str:
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return base + "/5"


@pytest.fixture(scope="module")
def push_hits() -> Iterator[tuple[str, list[str]]]:
    """A push service on this machine that only counts what reaches it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hits.append(self.path)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _seed(url: str, push_origin: str) -> int:
    """A demo organisation with a manager whose agent has a check overdue, subscribed to push."""
    app = make_app(url)
    with app.app_context():
        team = Team(name="Phones")
        profile = _profile("Contact-centre agent", ["Greets by name"])
        manager = User(name="Maria Santos", role=Role.MANAGER, managed_teams=[team])
        agent = User(name="Alex Adams", role=Role.AGENT, team=team, role_profile=profile)
        db.session.add_all([Organisation(name="Ops", is_demo=True), team, manager, agent])
        db.session.commit()
        corrected = datetime.now(UTC) - timedelta(days=10)
        shadow = make_session(manager, agent, started_at=corrected)
        observation = Observation(
            session_id=shadow.id,
            author_id=manager.id,
            agent_id=agent.id,
            kind=ObservationKind.CORRECTION,
            behaviour_id=profile.competencies[0].behaviours[0].id,
            note="",
            client_uuid=uuid.uuid4(),
            occurred_at=corrected,
            recorded_at=corrected,
        )
        db.session.add(observation)
        db.session.flush()
        apply_correction(observation, current_ladder())
        browser = new_browser(push_origin + "/push/maria").subscription_json()
        keys = browser["keys"]
        assert isinstance(keys, dict)
        db.session.add(
            PushSubscription(
                user_id=manager.id,
                endpoint=browser["endpoint"],
                p256dh=keys["p256dh"],
                auth=keys["auth"],
            )
        )
        db.session.commit()
        manager_id = manager.id
        db.session.remove()
        db.engine.dispose()
    return manager_id


@pytest.fixture(scope="module")
def cluster(push_hits: tuple[str, list[str]]) -> Iterator[Cluster]:
    assert POSTGRES_URL and REDIS_URL, "CI=true needs PostgreSQL and Redis for this test"
    import redis

    name = f"coachapp_servers_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    drop = f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    storage = _redis_db_5(REDIS_URL)
    redis.Redis.from_url(storage).flushdb()
    env = {
        **os.environ,
        "COACHAPP_DATABASE_URL": url,
        "COACHAPP_SECRET_KEY": secrets.token_hex(32),
        "COACHAPP_REDIS_URL": storage,
        "COACHAPP_SIGNIN_LIMIT": f"{LIMIT}/minute",
        "COACHAPP_DEMO": "1",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        flask = [sys.executable, "-m", "flask", "--app", "app", "init"]
        subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        manager_id = _seed(url, push_hits[0])
        servers = []
        for _ in range(2):
            port = _free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4"]
                    + ["-b", f"127.0.0.1:{port}", "app:app"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            servers.append(f"http://127.0.0.1:{port}")
        for server in servers:
            _wait_until_up(server + "/readyz")
        yield Cluster(servers, env, url, manager_id, push_hits[1])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        with admin.connect() as connection:
            connection.exec_driver_sql(drop)
        admin.dispose()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def _signed_in(browser: requests.Session, server: str) -> bool:
    answer = browser.get(server + "/", allow_redirects=True, timeout=10)
    return answer.status_code == 200 and "/signin" not in answer.url


def test_a_session_made_on_one_server_works_on_the_other_and_ends_on_both(cluster: Cluster):
    one, other = cluster.servers
    browser = requests.Session()  # cookies are per host, not per port: one browser, two servers
    page = browser.get(one + "/signin", timeout=10).text
    signed = browser.post(
        one + "/signin/demo",
        data={"user_id": cluster.manager_id, "csrf_token": _csrf(page)},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 303
    assert _signed_in(browser, other)
    copy = requests.Session()  # what a thief would keep: the cookie as it is before sign-out
    copy.cookies.update(browser.cookies)

    page = browser.get(other + "/", timeout=10).text
    out = browser.post(
        other + "/signout", data={"csrf_token": _csrf(page)}, allow_redirects=False, timeout=10
    )

    assert out.status_code == 303
    assert not _signed_in(browser, one)
    assert not _signed_in(copy, one)
    assert not _signed_in(copy, other)


def test_the_sign_in_limit_is_exact_across_both_servers(cluster: Cluster):
    targets = [server + "/invite/not-a-real-token" for server in cluster.servers]
    urls = [url for url, _ in zip(cycle(targets), range(LIMIT * 3), strict=False)]

    def status(url: str) -> int:
        return requests.get(url, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(status, urls))

    assert statuses.count(404) == LIMIT
    assert statuses.count(429) == LIMIT * 2


def test_reminders_run_from_cron_on_both_nodes_at_once_go_once(cluster: Cluster):
    command = [sys.executable, "-m", "flask", "--app", "app", "send-reminders"]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=cluster.env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = sorted(run.communicate(timeout=60)[0] for run in runs)

    assert [run.returncode for run in runs] == [0, 0]
    assert "managers notified 0" in outputs[0]
    assert "managers notified 1" in outputs[1]
    assert cluster.push_hits == ["/push/maria"]
    engine = sa.create_engine(cluster.database_url)
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(ReminderSent)) == 1
    engine.dispose()

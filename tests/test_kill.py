"""The kill test: gunicorn workers and masters are SIGKILLed while eight phones replay outboxes.

Each phone starts sessions, logs strengths, corrections and obstacles, turns a strength into a
correction, records an outcome and ends the session, through the JSON API, replaying every item
until the server acknowledges it (a 2xx), as the service worker's outbox does. Meanwhile a worker
is killed every fraction of a second and the whole server (master and workers) at least three
times, and started again. Then every acknowledged write must be in the database exactly once
with all its consequences: every correction has its focus item or its slip, every outcome its
next check, every obstacle of an ended session is in the trainers' inbox. On SQLite always, on
PostgreSQL when COACHAPP_TEST_POSTGRES_URL is set; bounded in time.
"""

import contextlib
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.models import (
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    Organisation,
    Role,
    ShadowSession,
    Suggestion,
    Team,
    User,
)
from coachapp.scheduling import CLOSED
from tests.conftest import BACKENDS, POSTGRES_URL, _profile, make_app
from tests.test_rate_limits import _free_port

ROOT = Path(__file__).resolve().parent.parent
PHONES = 8
#: Acknowledged writes the stream must reach, and whole-server kills it must survive.
WRITES = 600
SERVER_KILLS = 3
#: The stream stops here whatever it reached (the test then fails). It needs about twenty seconds
#: on a quiet two-core machine; the margin is for a busy or slower one.
TIME_LIMIT = 150.0
#: A worker is killed after every so many acknowledged writes (about forty kills in all: as many
#: replays cut short as the longer stream had, in fewer writes).
WRITES_BETWEEN_WORKER_KILLS = (6, 20)
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- the server -------------------------------------------------------------------------------


class Server:
    """gunicorn in a process group of its own, so that "kill the server" kills all of it."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "gunicorn_kill.conf.py"
        # As gunicorn.conf.py: the app is imported once in the master and a killed worker is
        # replaced by a fork at once (the start-up check leaves no connection to inherit).
        self.config.write_text("preload_app = True\naccesslog = None\ngraceful_timeout = 2\n")
        self.log = open(workdir / "gunicorn.log", "ab")  # noqa: SIM115 (kept open across restarts)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", str(self.config)]
        command += ["-w", "3", "-k", "gthread", "--threads", "2", "-b", f"127.0.0.1:{self.port}"]
        self.process = subprocess.Popen(
            [*command, "app:app"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start; see gunicorn.log")

    def workers(self) -> list[int]:
        assert self.process is not None
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash or an OOM killer would."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


# --- the phones -------------------------------------------------------------------------------


@dataclass
class Acknowledged:
    starts: list[uuid.UUID] = field(default_factory=list)
    entries: dict[uuid.UUID, str] = field(default_factory=dict)  # uuid -> kind
    edits: list[uuid.UUID] = field(default_factory=list)
    outcomes: dict[uuid.UUID, int] = field(default_factory=dict)  # uuid -> follow-up id
    ends: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)  # session -> obstacles
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return (
            len(self.starts)
            + len(self.entries)
            + len(self.edits)
            + len(self.outcomes)
            + len(self.ends)
        )


class Phone:
    """One manager's phone: an outbox replayed one item at a time, removed only after a 2xx."""

    def __init__(self, server: Server, manager_id: int, agent_id: int, behaviours: list[int]):
        self.server = server
        self.manager_id = manager_id
        self.agent_id = agent_id
        self.behaviours = behaviours
        self.browser = requests.Session()
        self.token = ""
        self.attempts = 0

    def sign_in(self) -> None:
        page = self.browser.get(self.server.base + "/signin", timeout=10).text
        found = CSRF_INPUT.search(page)
        form = {"user_id": str(self.manager_id), "csrf_token": found.group(1) if found else ""}
        self.browser.post(
            self.server.base + "/signin/demo", data=form, allow_redirects=False, timeout=10
        )
        self.token = self.browser.get(self.server.base + "/api/session", timeout=10).json()[
            "csrf_token"
        ]

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replay one outbox item until the server acknowledges it, backing off while it is down."""
        failures = 0
        while True:
            if failures:
                time.sleep(min(0.025 * 2**failures, 0.4))
            failures += 1
            self.attempts += 1
            try:
                if not self.token:
                    self.sign_in()
                answer = self.browser.request(
                    method,
                    self.server.base + path,
                    json=body,
                    headers={"X-CSRFToken": self.token},
                    timeout=20,
                )
            except (requests.RequestException, ValueError, KeyError):
                self.token = ""  # the sign-in itself may have been cut off
                continue
            if answer.status_code in (401, 403):
                self.token = ""
                continue
            if answer.status_code >= 500 or answer.status_code == 429:
                continue
            assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
            return answer.json()

    def shift(self, stop: threading.Event, acked: Acknowledged, reader: sa.Engine) -> None:
        """Sessions one after another until told to stop (the session under way is finished)."""
        rng = random.Random(self.manager_id)
        while not stop.is_set():
            session = uuid.uuid4()
            self.send(
                "POST", "/api/sessions", {"client_uuid": str(session), "agent_id": self.agent_id}
            )
            with acked.lock:
                acked.starts.append(session)
            strengths: list[uuid.UUID] = []
            obstacles: list[uuid.UUID] = []
            for index in range(8):
                kind = ("strength", "correction", "obstacle", "correction")[index % 4]
                entry = uuid.uuid4()
                body: dict[str, Any] = {"client_uuid": str(entry), "kind": kind}
                if kind == "obstacle":
                    body["note"] = f"The CRM froze ({entry.hex[:6]})."
                else:
                    body["behaviour_id"] = rng.choice(self.behaviours)
                self.send("POST", f"/api/sessions/{session}/observations", body)
                with acked.lock:
                    acked.entries[entry] = kind
                (
                    strengths if kind == "strength" else obstacles if kind == "obstacle" else []
                ).append(entry)
            edited = strengths[0]
            change = {"kind": "correction", "behaviour_id": rng.choice(self.behaviours)}
            self.send("PUT", f"/api/observations/{edited}", change)
            with acked.lock:
                acked.edits.append(edited)
            check = self._a_pending_check(reader)
            if check is not None:
                outcome = uuid.uuid4()
                body = {"client_uuid": str(outcome), "outcome": rng.choice(["sustained", "partly"])}
                self.send("POST", f"/api/followups/{check}/outcome", body)
                with acked.lock:
                    acked.outcomes[outcome] = check
            self.send("POST", f"/api/sessions/{session}/end", {"summary_note": "Done."})
            with acked.lock:
                acked.ends[session] = obstacles

    def _a_pending_check(self, reader: sa.Engine) -> int | None:
        # What the phone's Today page would show: one of this agent's checks waiting.
        with reader.connect() as connection:
            return connection.scalar(
                sa.select(FollowUp.id)
                .join(FocusItem, FollowUp.focus_item_id == FocusItem.id)
                .where(
                    FocusItem.agent_id == self.agent_id,
                    FocusItem.status != CLOSED,
                    FollowUp.outcome.is_(None),
                )
                .order_by(FollowUp.id)
                .limit(1)
            )


# --- the databases ----------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kill.sqlite3'}"
        return
    assert POSTGRES_URL
    name = f"coachapp_kill_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def _seed(url: str) -> list[tuple[int, int, list[int]]]:
    """A demo organisation of eight managers with one agent each: (manager, agent, behaviours)."""
    app = make_app(url)
    with app.app_context():
        profile = _profile(
            "Contact-centre agent", ["Greets by name", "Confirms next steps", "Recaps"]
        )
        db.session.add(Organisation(name="Northwind", is_demo=True))
        pairs = []
        for number in range(PHONES):
            team = Team(name=f"Team {number}")
            manager = User(name=f"Manager {number}", role=Role.MANAGER, managed_teams=[team])
            agent = User(name=f"Agent {number}", role=Role.AGENT, team=team, role_profile=profile)
            db.session.add_all([team, manager, agent])
            pairs.append((manager, agent))
        db.session.commit()
        behaviours = [b.id for b in profile.competencies[0].behaviours]
        seeded = [(m.id, a.id, behaviours) for m, a in pairs]
        db.session.remove()
        db.engine.dispose()
    return seeded


# --- the test ---------------------------------------------------------------------------------


def test_nothing_acknowledged_is_lost_or_half_done_when_servers_are_killed(
    database_url: str, tmp_path: Path
):
    env = {
        **os.environ,
        "COACHAPP_DATABASE_URL": database_url,
        "COACHAPP_SECRET_KEY": secrets.token_hex(32),
        "COACHAPP_DEMO": "1",
    }
    init = [sys.executable, "-m", "flask", "--app", "app", "init"]
    subprocess.run(init, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    seeded = _seed(database_url)
    reader = sa.create_engine(database_url)
    server = Server(env, tmp_path)
    server.start()
    phones = [Phone(server, manager, agent, behaviours) for manager, agent, behaviours in seeded]
    acked = Acknowledged()
    stop = threading.Event()
    threads = [
        threading.Thread(target=phone.shift, args=(stop, acked, reader), daemon=True)
        for phone in phones
    ]
    worker_kills = server_kills = 0
    restarting = 0.0
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        rng = random.Random(10)
        next_worker_kill = rng.randint(*WRITES_BETWEEN_WORKER_KILLS)
        while time.monotonic() - began < TIME_LIMIT:
            time.sleep(0.05)
            done = acked.total
            if done >= WRITES and server_kills >= SERVER_KILLS:
                break
            if server_kills < SERVER_KILLS and done >= (server_kills + 1) * WRITES // 4:
                down = time.monotonic()
                server.kill()
                server_kills += 1
                server.start()
                restarting += time.monotonic() - down
            elif done >= next_worker_kill and (workers := server.workers()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(rng.choice(workers), signal.SIGKILL)
                    worker_kills += 1
                next_worker_kill = done + rng.randint(*WRITES_BETWEEN_WORKER_KILLS)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads), "a phone never got its answer"
    finally:
        stop.set()
        server.stop()
    elapsed = time.monotonic() - began
    attempts = sum(phone.attempts for phone in phones)
    print(
        f"\n{acked.total} writes acknowledged in {attempts} attempts, {elapsed:.0f} s; "
        f"{worker_kills} worker kills, {server_kills} server kills ({restarting:.0f} s restarting)"
    )
    assert acked.total >= WRITES, f"only {acked.total} writes in {TIME_LIMIT:.0f} s"
    assert server_kills >= SERVER_KILLS and worker_kills >= 20
    try:
        _assert_everything_acknowledged_is_there_once_and_whole(reader, acked)
    finally:
        reader.dispose()


def _assert_everything_acknowledged_is_there_once_and_whole(
    reader: sa.Engine, acked: Acknowledged
) -> None:
    with reader.connect() as connection:

        def count(*where: Any, of: Any) -> int:
            return connection.scalar(sa.select(sa.func.count()).select_from(of).where(*where)) or 0

        assert count(of=ShadowSession) == len(acked.starts)
        assert count(ShadowSession.client_uuid.in_(acked.starts), of=ShadowSession) == len(
            acked.starts
        )
        observations = {
            row.client_uuid: row for row in connection.execute(sa.select(Observation.__table__))
        }
        assert set(observations) == set(acked.entries), "entries lost or stored twice"
        opened = set(connection.scalars(sa.select(FocusItem.opening_observation_id)))
        slipped = set(
            connection.scalars(
                sa.select(FollowUp.observation_id).where(FollowUp.observation_id.is_not(None))
            )
        )
        for edited in acked.edits:
            assert observations[edited].kind == ObservationKind.CORRECTION
        half_done = [
            uuid_
            for uuid_, row in observations.items()
            if row.kind == ObservationKind.CORRECTION
            and row.id not in opened
            and row.id not in slipped
        ]
        assert half_done == [], f"{len(half_done)} corrections with no focus item and no slip"

        for outcome, check in acked.outcomes.items():
            row = connection.execute(
                sa.select(FollowUp.__table__).where(FollowUp.client_uuid == outcome)
            ).one()
            assert row.id == check and row.outcome is not None
            item_status = connection.scalar(
                sa.select(FocusItem.status).where(FocusItem.id == row.focus_item_id)
            )
            if item_status != CLOSED:
                assert count(
                    FollowUp.focus_item_id == row.focus_item_id,
                    FollowUp.sequence == row.sequence + 1,
                    of=FollowUp,
                ), "an outcome with no next check"
        # However many times a check was claimed, each open item waits on exactly one check.
        assert connection.scalar(
            sa.select(sa.func.count())
            .select_from(FollowUp)
            .join(FocusItem, FollowUp.focus_item_id == FocusItem.id)
            .where(FollowUp.outcome.is_(None), FocusItem.status != CLOSED)
        ) == count(FocusItem.status != CLOSED, of=FocusItem)

        ended = set(
            connection.scalars(
                sa.select(ShadowSession.client_uuid).where(ShadowSession.ended_at.is_not(None))
            )
        )
        assert set(acked.ends) <= ended, "an acknowledged end is not in the database"
        inbox = list(connection.scalars(sa.select(Suggestion.client_uuid)))
        sent = [o for obstacles in acked.ends.values() for o in obstacles]
        assert len(inbox) == len(set(inbox)) == len(sent)
        assert set(inbox) == set(sent), "obstacles of ended sessions missing from the inbox"

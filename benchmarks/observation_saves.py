"""Observation saves per second under gunicorn, beside /healthz of the same app in the same run.

Starts coachapp under gunicorn on 127.0.0.1 with demo data in a fresh database (a temporary
SQLite file by default, or a dedicated PostgreSQL database `coachapp_bench` when
--database-url names a PostgreSQL server), then for each concurrency level:

1. every client (a thread with its own keep-alive `http.client` connection and cookie) signs in
   as one of the four demo managers, starts a shadowing session with one of that manager's
   agents and, for --duration seconds, saves observations the way the capture screen does
   (htmx POST, a new client_uuid each time, kind "strength" with a behaviour chip);
2. the same clients, for the same duration, save the way the phone's outbox does (the JSON
   save, POST /api/sessions/<uuid>/observations, the same entry as JSON);
3. the same number of clients then GET /healthz for the same duration: the baseline.

`--saves htmx` or `--saves json` runs one kind only.

Prints a markdown table and writes the raw figures to benchmarks/results/ as JSON.

    .venv/bin/python benchmarks/observation_saves.py [--duration 8] [--workers 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
HOST = "127.0.0.1"
#: The PostgreSQL database the run recreates; COACHAPP_BENCH_DATABASE names another, so that
#: two runs on one server (two engineers' checkouts) do not drop each other's.
BENCH_DATABASE = os.environ.get("COACHAPP_BENCH_DATABASE", "coachapp_bench")
LEVELS = (1, 8, 32)
#: A server or client that stops answering must not hang the run.
REQUEST_TIMEOUT = 30.0

CSRF_HEADER_RE = re.compile(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'")
CSRF_INPUT_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
USER_ID_RE = re.compile(r'name="user_id" value="(\d+)"')
#: Today's agents: a start button before sessions started with their first entry, a link since.
AGENT_RE = re.compile(r'(?:action|href)="/agents/(\d+)/(?:sessions|shadow)"')
#: The heading of the demo managers on the sign-in page (an h2 before, an h3 since).
MANAGERS_RE = re.compile(r"<h[23][^>]*>Managers</h[23]>")
CHIP_RE = re.compile(r'class="chip" name="behaviour_id" value="(\d+)"')


class BenchError(RuntimeError):
    """Something in the set-up went wrong; the message says what."""


# --------------------------------------------------------------------------- HTTP client


class Client:
    """One simulated phone: a keep-alive connection and the session cookie the app hands out."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        #: Times the server answered `Connection: close` (gunicorn.conf.py's pre_request).
        self.handed_back = 0
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = self._connect()

    def close(self) -> None:
        self.conn.close()

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        send_cookies: bool = True,
        json_body: object = None,
    ) -> tuple[int, dict[str, str], str]:
        """One request; returns status, the headers that matter, and the body as text."""
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            body = json.dumps(json_body)
            sent["Content-Type"] = "application/json"
        if send_cookies and self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=sent)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        if send_cookies:
            for raw in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.handed_back += 1
            self.reconnect()
        return response.status, {"location": response.getheader("Location", "")}, text

    def page(self, path: str) -> str:
        """GET a page (following no redirects) and remember its CSRF token."""
        status, _, text = self.request("GET", path)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}")
        self.csrf = csrf_token_in(text) or self.csrf
        return text


def csrf_token_in(html: str) -> str | None:
    """The token htmx sends (the `hx-headers` on <body>), else the hidden form field."""
    match = CSRF_HEADER_RE.search(html) or CSRF_INPUT_RE.search(html)
    return match.group(1) if match else None


# --------------------------------------------------------------------------- the simulated manager


@dataclass
class Sample:
    started: float  # seconds since the phase began
    latency: float  # seconds
    status: int  # 0 when the connection failed


@dataclass
class Shadowing:
    """A signed-in client with an open session, ready to save observations."""

    client: Client
    agent_id: int
    session_id: int
    session_uuid: str
    behaviour_ids: list[int]
    saves: int = 0
    #: Entries in each session this client filled, the open one last.
    sizes: list[int] = field(default_factory=lambda: [0])


def sign_in_and_start(port: int, manager_id: int, agent_slot: int) -> Shadowing:
    """Sign in as a demo manager and start shadowing the manager's `agent_slot`-th agent."""
    client = Client(port)
    client.page("/signin")
    status, _, _ = client.request(
        "POST", "/signin/demo", form={"user_id": str(manager_id), "csrf_token": client.csrf}
    )
    if status != 303:
        raise BenchError(f"demo sign-in as user {manager_id} answered {status}")
    today = client.page("/today")  # signing in starts a new session: a new CSRF token
    agents = list(dict.fromkeys(int(a) for a in AGENT_RE.findall(today)))
    if not agents:
        raise BenchError(f"manager {manager_id} sees no agents on /today")
    agent_id = agents[agent_slot % len(agents)]
    session_id, session_uuid = start_by_phone(client, agent_id)
    html = client.page(f"/sessions/{session_id}")
    chips = [int(b) for b in CHIP_RE.findall(html)]
    if not chips:
        raise BenchError(f"session {session_id} shows no behaviour chips")
    return Shadowing(client, agent_id, session_id, session_uuid, chips)


def start_by_phone(client: Client, agent_id: int) -> tuple[int, str]:
    """Start the session the way the phone does (untimed): its id and UUID, for both saves."""
    status, _, text = client.request(
        "POST",
        "/api/sessions",
        json_body={"client_uuid": str(uuid.uuid4()), "agent_id": agent_id},
        headers={"X-CSRFToken": client.csrf, "Accept": "application/json"},
    )
    if status not in (200, 201):
        raise BenchError(f"starting a session with agent {agent_id} answered {status}")
    session = json.loads(text)["session"]
    return int(session["id"]), str(session["client_uuid"])


def start_again(shadowing: Shadowing) -> None:
    """End the session and start a fresh one with the same agent (--entries-per-session)."""
    end_session(shadowing, reconnect=False)
    shadowing.session_id, shadowing.session_uuid = start_by_phone(
        shadowing.client, shadowing.agent_id
    )
    shadowing.sizes.append(0)


def save_observation(shadowing: Shadowing, n: int) -> int:
    """One tap on a behaviour chip, exactly as htmx sends it from the capture screen."""
    client = shadowing.client
    status, _, _ = client.request(
        "POST",
        f"/sessions/{shadowing.session_id}/observations",
        form={
            "kind": "strength",
            "behaviour_id": str(shadowing.behaviour_ids[n % len(shadowing.behaviour_ids)]),
            "note": "",
            "coached": "",
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
        headers={"HX-Request": "true", "X-CSRFToken": client.csrf},
    )
    return status


def save_json(shadowing: Shadowing, n: int) -> int:
    """The same tap, as the phone's outbox sends it: the JSON save."""
    client = shadowing.client
    status, _, _ = client.request(
        "POST",
        f"/api/sessions/{shadowing.session_uuid}/observations",
        json_body={
            "kind": "strength",
            "behaviour_id": shadowing.behaviour_ids[n % len(shadowing.behaviour_ids)],
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        },
        headers={"X-CSRFToken": client.csrf, "Accept": "application/json"},
    )
    return status


SAVES = {"htmx": save_observation, "json": save_json}


def end_session(shadowing: Shadowing, reconnect: bool = True) -> None:
    client = shadowing.client
    if reconnect:  # the keep-alive connection may have timed out while others finished
        client.reconnect()
    status, _, _ = client.request(
        "POST",
        f"/api/sessions/{shadowing.session_uuid}/end",
        json_body={"summary_note": "benchmark"},
        headers={"X-CSRFToken": client.csrf, "Accept": "application/json"},
    )
    if status != 200:
        raise BenchError(f"ending session {shadowing.session_id} answered {status}")


def healthz(client: Client, _n: int) -> int:
    status, _, _ = client.request("GET", "/healthz", send_cookies=False)
    return status


# --------------------------------------------------------------------------- load phases


@dataclass
class PhaseResult:
    name: str
    clients: int
    elapsed: float
    samples: list[Sample] = field(default_factory=list)
    #: Connections each gunicorn worker held at a quarter, half and three quarters of the phase.
    splits: list[list[int]] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if 200 <= s.status < 300]

    @property
    def errors(self) -> int:
        return len(self.samples) - len(self.ok)

    @property
    def per_second(self) -> float:
        return len(self.ok) / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        return percentile([s.latency for s in self.samples], q) * 1000

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.samples:
            key = str(s.status) if s.status else "connection error"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        first, last = split_thirds(self.samples)
        return {
            "clients": self.clients,
            "elapsed_s": round(self.elapsed, 3),
            "requests": len(self.samples),
            "ok": len(self.ok),
            "errors": self.errors,
            "statuses": self.status_counts(),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p95_ms": round(self.percentile(0.95), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(max((s.latency for s in self.samples), default=0) * 1000, 2),
            # Does latency drift while the run goes on (e.g. as sessions grow)?
            "p50_first_third_ms": round(percentile([s.latency for s in first], 0.5) * 1000, 2),
            "p50_last_third_ms": round(percentile([s.latency for s in last], 0.5) * 1000, 2),
            "per_second_series": self.series(),
            "connections_per_worker": self.splits,
        }

    def series(self) -> list[dict[str, float]]:
        """Completed requests and p50 per whole second of the phase, by when they started."""
        buckets: dict[int, list[Sample]] = {}
        for s in self.samples:
            buckets.setdefault(int(s.started), []).append(s)
        return [
            {
                "second": second,
                "ok": sum(1 for s in bucket if 200 <= s.status < 300),
                "p50_ms": round(percentile([s.latency for s in bucket], 0.5) * 1000, 1),
            }
            for second, bucket in sorted(buckets.items())
        ]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


def split_thirds(samples: list[Sample]) -> tuple[list[Sample], list[Sample]]:
    if not samples:
        return [], []
    span = max(s.started for s in samples)
    return (
        [s for s in samples if s.started <= span / 3],
        [s for s in samples if s.started >= 2 * span / 3],
    )


def run_phase(
    name: str,
    targets: list[Any],
    call: Any,
    duration: float,
    reconnect: Any,
    between: Any = None,
    split: Any = None,
) -> PhaseResult:
    """Every target in its own thread calls `call(target, n)` in a loop for `duration` seconds.

    Only `call` is timed; `between(target)`, when given, runs untimed before each call (its
    time still counts in the phase's wall time, so in the rate). `split()`, when given, is
    called at a quarter, half and three quarters of the phase: the connections per worker.
    """
    barrier = threading.Barrier(len(targets) + 1)
    per_thread: list[list[Sample]] = [[] for _ in targets]
    finished: list[float] = [0.0] * len(targets)
    start_box: list[float] = []

    def worker(index: int, target: Any) -> None:
        samples = per_thread[index]
        reconnect(target)  # a fresh connection: no keep-alive left to expire while waiting
        barrier.wait()
        began = start_box[0]
        deadline = began + duration
        n = 0
        while True:
            if between is not None and time.perf_counter() < deadline:
                between(target)
            before = time.perf_counter()
            if before >= deadline:
                break
            try:
                status = call(target, n)
            except (OSError, http.client.HTTPException):
                status = 0
                reconnect(target)
            after = time.perf_counter()
            samples.append(Sample(before - began, after - before, status))
            n += 1
        finished[index] = time.perf_counter()

    threads = [
        threading.Thread(target=worker, args=(i, t), name=f"{name}-{i}", daemon=True)
        for i, t in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    start_box.append(time.perf_counter() + 0.05)
    barrier.wait()
    splits = []
    if split is not None:
        for quarter in (1, 2, 3):
            time.sleep(max(0.0, start_box[0] + duration * quarter / 4 - time.perf_counter()))
            splits.append(split())
    for thread in threads:
        thread.join(duration + REQUEST_TIMEOUT + 10)
    began = start_box[0]
    result = PhaseResult(name, len(targets), max(finished) - began if any(finished) else 0.0)
    result.splits = splits
    for samples in per_thread:
        result.samples.extend(samples)
    return result


# --------------------------------------------------------------------------- CPU accounting


class CpuMeter:
    """Who used the CPUs during a phase: the load generator, gunicorn, the benchmark's
    PostgreSQL backends, or anything else.

    The load generator shares the machine with the server, and other work on the machine skews
    the figures; "other" says how much. Linux /proc only; elsewhere it reports nothing.
    """

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _machine_busy() -> int:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4]  # everything but idle and iowait

    @staticmethod
    def _ticks(pid: int | str) -> tuple[int, int]:
        """(ppid, utime + stime) of one process, all its threads included."""
        raw = Path(f"/proc/{pid}/stat").read_text()
        fields = raw.rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[11]) + int(fields[12])

    def _server_and_database(self) -> tuple[int, int]:
        """Ticks of gunicorn (master and workers) and of PostgreSQL backends serving the bench."""
        server = self._ticks(self.server_pid)[1]
        database = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid, ticks = self._ticks(entry.name)
                if ppid == self.server_pid:
                    server += ticks
                elif f" {BENCH_DATABASE} " in (entry / "cmdline").read_bytes().decode(
                    "utf-8", "replace"
                ):
                    database += ticks  # "postgres: user coachapp_bench 127.0.0.1(port) idle"
            except (OSError, ValueError, IndexError):
                continue
        return server, database

    def snapshot(self) -> tuple[float, ...] | None:
        try:
            server, database = self._server_and_database()
            mine = self._ticks("self")[1]
            return (time.monotonic(), self._machine_busy(), mine, server, database)
        except (OSError, ValueError, IndexError):
            return None

    def since(self, before: tuple[float, ...] | None) -> dict[str, float]:
        after = self.snapshot()
        if before is None or after is None:
            return {}
        capacity = (after[0] - before[0]) * self.tick * (os.cpu_count() or 1) / 100
        machine, client, server, database = (after[i] - before[i] for i in (1, 2, 3, 4))
        other = max(0, machine - client - server - database)
        return {
            "server_cpu_s": round(server / self.tick, 3),
            "database_cpu_s": round(database / self.tick, 3),
            "machine_busy_pct": round(machine / capacity, 1),
            "load_generator_pct": round(client / capacity, 1),
            "server_pct": round(server / capacity, 1),
            "database_pct": round(database / capacity, 1),
            "other_pct": round(other / capacity, 1),
        }


def wait_until_quiet(meter: CpuMeter, limit: float, threshold: float = 15.0) -> dict[str, float]:
    """Wait (at most `limit` seconds) until other processes use under `threshold` % of the CPUs.

    The figures mean little while, say, a test suite runs beside the benchmark.
    """
    began = time.monotonic()
    other = -1.0
    while True:
        snap = meter.snapshot()
        time.sleep(1.0)
        other = meter.since(snap).get("other_pct", 0.0)
        waited = time.monotonic() - began
        if other < threshold or waited >= limit:
            return {"waited_s": round(waited, 1), "other_pct": other}


def connections_per_worker(server_pid: int, port: int) -> list[int]:
    """Established connections to `port` that each gunicorn worker holds, most first.

    A keep-alive connection stays with the worker that accepted it; an uneven split makes the
    clients of the fuller worker wait longer (benchmarks/README.md, "A socket per worker").
    Linux /proc only; elsewhere, or if a worker just left, an empty list.
    """
    try:
        established = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                established.add(fields[9])  # the socket's inode
    except (OSError, ValueError, IndexError):
        return []
    counts = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and CpuMeter._ticks(entry.name)[0] == server_pid:
                sockets = (os.readlink(fd) for fd in (entry / "fd").iterdir())
                counts.append(sum(1 for s in sockets if s[8:-1] in established))
        except (OSError, ValueError, IndexError):
            continue  # a process that ended while we looked
    return sorted(counts, reverse=True)


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def prepare_postgres(url: str) -> str:
    """Drop and recreate `coachapp_bench` on the server `url` names; returns its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    given = make_url(url)
    if not given.drivername.startswith("postgres"):
        raise BenchError(f"--database-url must be a PostgreSQL URL, not {given.drivername}")
    admin = given.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    except psycopg.Error as error:
        raise BenchError(f"could not recreate {BENCH_DATABASE}: {error}") from error
    bench = given.set(drivername="postgresql+psycopg", database=BENCH_DATABASE)
    return bench.render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def drop_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def revision(app_dir: Path) -> str:
    """The commit served, marked "+changes" when the working tree differs (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=app_dir,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"],
            cwd=app_dir,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def flask_command(app_dir: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


class Gunicorn:
    def __init__(
        self, app_dir: Path, env: dict[str, str], workers: int, threads: int, log: Path
    ) -> None:
        self.port = free_port()
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(workers),
                "-k",
                "gthread",
                "--threads",
                str(threads),
                "-b",
                f"{HOST}:{self.port}",
                "--graceful-timeout",
                "10",
                "app:app",
            ],
            cwd=app_dir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop it cleanly
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}; see log")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer /healthz within {timeout:.0f} s")

    def stop(self) -> int | None:
        """SIGTERM (graceful), then SIGKILL if it hangs; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()
        return self.process.returncode

    def log_findings(self) -> dict[str, int]:
        text = self.log_path.read_text(errors="replace")
        return {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "database_is_locked": text.count("database is locked"),
            "deadlock": text.lower().count("deadlock detected"),
            "worker_timeouts": text.count("WORKER TIMEOUT"),
        }


# --------------------------------------------------------------------------- the run


def manager_ids(port: int) -> list[int]:
    """The demo managers, read from the Managers section of the sign-in page."""
    client = Client(port)
    try:
        html = client.page("/signin")
    finally:
        client.close()
    section = MANAGERS_RE.split(html, maxsplit=1)
    if len(section) != 2:
        raise BenchError("no Managers section on the demo sign-in page (is COACHAPP_DEMO=1?)")
    ids = [int(i) for i in USER_ID_RE.findall(section[1].split("</section>", 1)[0])]
    if not ids:
        raise BenchError("no demo managers on the sign-in page")
    return ids


def run_level(
    port: int,
    managers: list[int],
    clients: int,
    duration: float,
    per_session: int,
    meter: CpuMeter,
    quiet_limit: float,
    kinds: list[str],
) -> dict[str, Any]:
    # Client i signs in as manager i mod 4 and takes that manager's (i div 4)-th agent, so no
    # two clients share a session (a second start for the same agent reopens the same one).
    shadowings = [
        sign_in_and_start(port, managers[i % len(managers)], i // len(managers))
        for i in range(clients)
    ]
    if len({s.session_id for s in shadowings}) != clients:
        raise BenchError("two clients ended up in the same shadowing session")
    quiet = wait_until_quiet(meter, quiet_limit) if quiet_limit > 0 else {}

    def roll_over(shadowing: Shadowing) -> None:
        if shadowing.sizes[-1] >= per_session:
            start_again(shadowing)

    def split() -> list[int]:
        return connections_per_worker(meter.server_pid, port)

    phases: dict[str, dict[str, Any]] = {}
    for kind in kinds:
        sender = SAVES[kind]

        def save(shadowing: Shadowing, n: int, sender: Any = sender) -> int:
            status = sender(shadowing, n)
            if 200 <= status < 300:
                shadowing.saves += 1
                shadowing.sizes[-1] += 1
            return status

        cpu = meter.snapshot()
        handed_back = sum(s.client.handed_back for s in shadowings)
        saves = run_phase(
            f"{kind}-saves-{clients}",
            shadowings,
            save,
            duration,
            lambda s: s.client.reconnect(),
            between=roll_over if per_session else None,
            split=split,
        )
        saves_cpu = meter.since(cpu)
        handed_back = sum(s.client.handed_back for s in shadowings) - handed_back
        phases[kind] = {"phase": saves, "cpu": saves_cpu, "handed_back": handed_back}
    for shadowing in shadowings:
        end_session(shadowing)
        shadowing.client.close()

    probes = [Client(port) for _ in range(clients)]
    cpu = meter.snapshot()
    health = run_phase(
        f"healthz-{clients}", probes, healthz, duration, Client.reconnect, split=split
    )
    health_cpu = meter.since(cpu)
    for probe in probes:
        probe.close()

    sizes = [size for s in shadowings for size in s.sizes]
    measured: dict[str, Any] = {}
    for kind, run in phases.items():
        phase, spent = run["phase"], run["cpu"]
        ratio = phase.per_second / health.per_second if health.per_second else 0.0
        key = "saves" if kind == "htmx" else f"{kind}_saves"
        measured[key] = {
            **phase.summary(),
            "cpu": spent,
            **cpu_cost(phase, spent),
            "ratio": round(ratio, 3),
            "connections_handed_back": run["handed_back"],
        }
    return {
        "clients": clients,
        **measured,
        "healthz": {**health.summary(), "cpu": health_cpu, **cpu_cost(health, health_cpu)},
        "ratio": measured.get("saves", next(iter(measured.values())))["ratio"],
        "quiet_wait": quiet,
        "entries_per_session": {
            "sessions": len(sizes),
            "min": min(sizes),
            "max": max(sizes),
            "total": sum(sizes),
        },
    }


def cpu_cost(phase: PhaseResult, cpu: dict[str, float]) -> dict[str, float]:
    """Server-side CPU (gunicorn plus PostgreSQL backends) per answered request.

    Unlike requests per second, this hardly moves when other work shares the CPUs.
    """
    if not cpu or not phase.ok:
        return {}
    spent = cpu["server_cpu_s"] + cpu["database_cpu_s"]
    return {"server_cpu_ms_per_request": round(spent * 1000 / len(phase.ok), 2)}


def markdown_table(levels: list[dict[str, Any]]) -> str:
    lines = [
        "| save | clients | saves/s | p50 ms | p95 ms | p99 ms | errors | healthz req/s "
        "| healthz p50 ms | healthz p95 ms | ratio | server CPU ms/req | other CPU % "
        "| connections per worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = [
        (name, level, level[key])
        for name, key in (("htmx", "saves"), ("json", "json_saves"))
        for level in levels
        if key in level
    ]
    for name, level, s in rows:
        h = level["healthz"]
        ratio = s.get("ratio", level["ratio"])
        errors = s["errors"] + h["errors"]
        shown = f"{errors}" if not h["errors"] else f"{s['errors']} (+{h['errors']} healthz)"
        # CPU taken by processes outside the benchmark, during the saves / the healthz phase.
        other = " / ".join(
            f"{phase['cpu']['other_pct']:.0f}" if phase.get("cpu") else "?" for phase in (s, h)
        )
        # Server CPU per save / per healthz answer: the cost, whatever else the CPUs did.
        cost = " / ".join(
            f"{phase['server_cpu_ms_per_request']:.2f}"
            if "server_cpu_ms_per_request" in phase
            else "?"
            for phase in (s, h)
        )
        lines.append(
            f"| {name} | {level['clients']} | {s['per_second']:.1f} | {s['p50_ms']:.1f} "
            f"| {s['p95_ms']:.1f} | {s.get('p99_ms', 0):.1f} | {shown} | {h['per_second']:.1f} "
            f"| {h['p50_ms']:.1f} | {h['p95_ms']:.1f} | {ratio:.3f} | {cost} | {other} "
            f"| {most_uneven(s.get('connections_per_worker', []))} |"
        )
    return "\n".join(lines)


def most_uneven(splits: list[list[int]]) -> str:
    """The split of a phase's three samples furthest from even, as "23/9"; "?" if none."""
    splits = [split for split in splits if split]
    if not splits:
        return "?"
    return "/".join(str(n) for n in max(splits, key=lambda split: split[0] - split[-1]))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per phase (8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--threads", type=int, default=2, help="threads per worker (2, gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--levels",
        default=",".join(str(n) for n in LEVELS),
        help="concurrent clients per level, comma-separated (1,8,32)",
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to use (database coachapp_bench is dropped and recreated); "
        "default: a fresh SQLite file in a temporary directory",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="leave coachapp_bench in place afterwards"
    )
    parser.add_argument(
        "--saves",
        default="htmx,json",
        help="which saves to measure, comma-separated: htmx, json (both)",
    )
    parser.add_argument(
        "--entries-per-session",
        type=int,
        default=0,
        metavar="N",
        help="end each session after N saves and start a fresh one (untimed); "
        "default 0: one session per client for the whole phase",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="before each level, wait up to this long for other processes to leave the CPUs "
        "(under 15%% busy); 0 to start at once (15)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="RESULT.json",
        help="only print the table of an earlier run from its JSON file",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="the checkout to serve (holds app.py); default: this repository",
    )
    args = parser.parse_args(argv)
    args.app_dir = args.app_dir.resolve()
    args.levels = [int(n) for n in args.levels.split(",") if n.strip()]
    args.saves = [k.strip() for k in args.saves.split(",") if k.strip()]
    if not args.saves or set(args.saves) - set(SAVES):
        parser.error("--saves takes htmx, json or both")
    if not args.levels or min(args.levels) < 1 or args.duration <= 0:
        parser.error("levels must be positive integers and the duration positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        print(markdown_table(json.loads(args.report.read_text())["levels"]))
        return 0
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="coachapp-bench-"))
    server: Gunicorn | None = None
    previous_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.database_url:
            database_url = prepare_postgres(args.database_url)
            backend = "postgresql"
        else:
            database_url = f"sqlite:///{workdir / 'coachapp.sqlite3'}"
            backend = "sqlite"
        env = {
            **os.environ,
            "COACHAPP_DATABASE_URL": database_url,
            "COACHAPP_SECRET_KEY": secrets.token_hex(32),
            "COACHAPP_DEMO": "1",
            "PYTHONUNBUFFERED": "1",
        }
        flask_command(args.app_dir, env, "init")
        print(flask_command(args.app_dir, env, "demo-data"), file=sys.stderr)
        server = Gunicorn(args.app_dir, env, args.workers, args.threads, workdir / "gunicorn.log")
        server.wait_ready()
        managers = manager_ids(server.port)
        print(
            f"gunicorn -w {args.workers} -k gthread --threads {args.threads} on "
            f"{HOST}:{server.port}, {backend}, {len(managers)} demo managers, "
            f"{args.duration:g} s per phase",
            file=sys.stderr,
        )
        load_before = os.getloadavg()
        levels = []
        for clients in args.levels:
            print(f"  {clients} client(s)...", file=sys.stderr)
            if args.wait_quiet > 0:
                print(f"    (waiting up to {args.wait_quiet:g} s for idle CPUs)", file=sys.stderr)
            levels.append(
                run_level(
                    server.port,
                    managers,
                    clients,
                    args.duration,
                    args.entries_per_session,
                    CpuMeter(server.process.pid),
                    args.wait_quiet,
                    args.saves,
                )
            )
        exit_code = server.stop()
        findings = server.log_findings()
        server_log = RESULTS / f"observation_saves-{stamp}.gunicorn.log"
        shutil.copyfile(server.log_path, server_log)
        server = None

        table = markdown_table(levels)
        result = {
            "benchmark": "observation_saves",
            "timestamp": stamp,
            "backend": backend,
            "database_url": shown_url(database_url) if backend == "postgresql" else "sqlite",
            "app_dir": str(args.app_dir),
            "app_revision": revision(args.app_dir),
            "workers": args.workers,
            "threads": args.threads,
            "duration_s": args.duration,
            "entries_per_session": args.entries_per_session or None,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                # Other work on the machine skews the figures: compare these two.
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            },
            "levels": levels,
            "server_log": {"path": str(server_log.relative_to(ROOT)), **findings},
            "gunicorn_exit_code": exit_code,
            "table": table,
        }
        out = RESULTS / f"observation_saves-{stamp}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(table)
        for level in levels:
            s, sizes = level.get("saves") or level["json_saves"], level["entries_per_session"]
            print(
                f"\n{level['clients']} client(s): statuses {s['statuses']}, "
                f"healthz {level['healthz']['statuses']}; p50 first/last third "
                f"{s['p50_first_third_ms']:.1f}/{s['p50_last_third_ms']:.1f} ms; "
                f"{sizes['sessions']} session(s) of {sizes['min']}-{sizes['max']} entries; "
                f"CPU during saves {s['cpu']}",
                end="",
            )
        print(f"\n\nserver log: {findings}; gunicorn exit code {exit_code}")
        print(
            f"load average before/after: {result['machine']['loadavg_before']} / "
            f"{result['machine']['loadavg_after']}"
        )
        print(f"results: {out.relative_to(ROOT)}")
        return 0
    except KeyboardInterrupt:
        print("interrupted; stopping gunicorn", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        if server is not None:
            print(f"gunicorn log: {server.log_path}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.stop()
            if server.log_path.exists():
                shutil.copyfile(
                    server.log_path, RESULTS / f"observation_saves-{stamp}.gunicorn.log"
                )
        signal.signal(signal.SIGTERM, previous_term)
        shutil.rmtree(workdir, ignore_errors=True)
        if args.database_url and not args.keep_database:
            try:
                drop_postgres(args.database_url)
            except Exception as error:  # noqa: BLE001 - cleanup must not hide the real outcome
                print(f"could not drop {BENCH_DATABASE}: {error}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

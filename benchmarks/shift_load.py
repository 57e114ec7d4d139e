"""A shift's mixed load against coachapp under gunicorn: managers, agents and trainers at once.

Starts coachapp with demo data in a fresh database, then for --duration seconds runs, all at the
same time, each client a thread with its own keep-alive connection and cookie:

- managers: shadowing (htmx saves of strengths and corrections, with a behaviour chip and now and
  then a note), recording outcomes of the checks due on Today, ending a session every
  --entries-per-session entries and starting the next;
- agents: reading their own log;
- trainers: opening the dashboard;
- probes: GET /healthz, the trivial endpoint, in the same run for the ratio.

On PostgreSQL (--database-url) two gunicorn servers on different ports share the database and
Redis (--redis-url), and clients are spread over both, as behind a proxy. On SQLite one gunicorn
with --workers (4). Reports requests per second, p50/p95/p99 per kind, errors (must be 0) and, from
gunicorn's log, tracebacks and `database is locked` (must be 0). Raw figures go to
benchmarks/results/ as JSON.

    .venv/bin/python benchmarks/shift_load.py [--duration 20]
    .venv/bin/python benchmarks/shift_load.py --redis-url redis://127.0.0.1:6379/5 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from observation_saves import (  # noqa: E402 - the sibling benchmark, found through sys.path
    AGENT_RE,
    CHIP_RE,
    HOST,
    REQUEST_TIMEOUT,
    RESULTS,
    ROOT,
    SESSION_PATH_RE,
    USER_ID_RE,
    BenchError,
    Client,
    Gunicorn,
    flask_command,
    percentile,
    revision,
    shown_url,
)

BENCH_DATABASE = "ops_shift_bench"
CHECK_RE = re.compile(r'href="/followups/(\d+)"')
#: Checks some client will record: two clients of one manager must not record the same one.
CLAIMED: set[int] = set()
CLAIMED_LOCK = threading.Lock()
KINDS = ("entry", "outcome", "end_session", "agent_log", "dashboard", "healthz")


@dataclass
class Sample:
    kind: str
    started: float
    latency: float
    status: int  # 0 when the connection failed


@dataclass
class Person:
    client: Client
    user_id: int
    session_id: int = 0
    agent_id: int = 0
    chips: list[int] = field(default_factory=list)
    due_checks: list[int] = field(default_factory=list)
    entries: int = 0


def demo_people(port: int) -> dict[str, list[int]]:
    """The demo people by role, read from the sign-in page's sections."""
    client = Client(port)
    try:
        html = client.page("/signin")
    finally:
        client.close()
    people: dict[str, list[int]] = {}
    for title in ("Managers", "Agents", "Trainers"):
        section = html.split(f"<h2>{title}</h2>", 1)
        if len(section) != 2:
            raise BenchError(f"no {title} on the demo sign-in page (is COACHAPP_DEMO=1?)")
        people[title.lower()] = [
            int(i) for i in USER_ID_RE.findall(section[1].split("</section>", 1)[0])
        ]
    return people


def sign_in(port: int, user_id: int) -> Client:
    client = Client(port)
    client.page("/signin")
    status, _, _ = client.request(
        "POST", "/signin/demo", form={"user_id": str(user_id), "csrf_token": client.csrf}
    )
    if status != 303:
        raise BenchError(f"demo sign-in as user {user_id} answered {status}")
    return client


def start_session(person: Person, slot: int) -> None:
    client = person.client
    today = client.page("/today")
    with CLAIMED_LOCK:
        person.due_checks = [
            int(c) for c in dict.fromkeys(CHECK_RE.findall(today)) if int(c) not in CLAIMED
        ]
        CLAIMED.update(person.due_checks)
    agents = list(dict.fromkeys(int(a) for a in AGENT_RE.findall(today)))
    if not agents:
        raise BenchError(f"manager {person.user_id} sees no agents on /today")
    person.agent_id = agents[slot % len(agents)]
    status, headers, _ = client.request(
        "POST",
        f"/agents/{person.agent_id}/sessions",
        form={"csrf_token": client.csrf, "client_uuid": str(uuid.uuid4())},
    )
    found = SESSION_PATH_RE.search(headers["location"])
    if status != 303 or not found:
        raise BenchError(f"starting a session with agent {person.agent_id} answered {status}")
    person.session_id = int(found.group(1))
    html = client.page(f"/sessions/{person.session_id}")
    person.chips = [int(b) for b in CHIP_RE.findall(html)]
    if not person.chips:
        raise BenchError(f"session {person.session_id} shows no behaviour chips")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def save_entry(person: Person, rng: random.Random) -> int:
    client = person.client
    kind = "correction" if rng.random() < 0.4 else "strength"
    status, _, _ = client.request(
        "POST",
        f"/sessions/{person.session_id}/observations",
        form={
            "kind": kind,
            "behaviour_id": str(rng.choice(person.chips)),
            "note": "Checked the account before answering." if rng.random() < 0.3 else "",
            "coached": "Ask for the account number first." if kind == "correction" else "",
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": now_iso(),
        },
        headers={"HX-Request": "true", "X-CSRFToken": client.csrf},
    )
    person.entries += 1
    return status


def check_is_open(person: Person) -> bool:
    status, _, html = person.client.request(
        "GET", f"/followups/{person.due_checks[-1]}", headers={"HX-Request": "true"}
    )
    return status == 200 and 'name="outcome"' in html


def record_outcome(person: Person, rng: random.Random) -> int:
    client = person.client
    check = person.due_checks.pop()
    status, _, _ = client.request(
        "POST",
        f"/followups/{check}",
        form={
            "outcome": rng.choice(["sustained", "sustained", "partly", "slipped"]),
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": now_iso(),
            "note": "",
            "coached": "",
        },
        headers={"HX-Request": "true", "X-CSRFToken": client.csrf},
    )
    return status


def end_session(person: Person) -> int:
    client = person.client
    status, _, _ = client.request(
        "POST",
        f"/sessions/{person.session_id}/end",
        form={"csrf_token": client.csrf, "summary_note": ""},
    )
    return 200 if status == 303 else status


def get(client: Client, path: str, cookies: bool = True) -> int:
    status, _, _ = client.request("GET", path, send_cookies=cookies)
    return status


# --------------------------------------------------------------------------- the run


def run_shift(
    ports: list[int],
    people: dict[str, list[int]],
    counts: dict[str, int],
    duration: float,
    entries_per_session: int,
) -> list[Sample]:
    """Every client in its own thread until the deadline; returns every timed request."""
    rng = random.Random(7)
    managers = []
    for i in range(counts["managers"]):
        manager_id = people["managers"][i % len(people["managers"])]
        person = Person(sign_in(ports[i % len(ports)], manager_id), manager_id)
        start_session(person, i // len(people["managers"]))  # no two share an agent
        managers.append(person)
    agents = [
        (sign_in(ports[i % len(ports)], people["agents"][i]), people["agents"][i])
        for i in range(counts["agents"])
    ]
    trainers = [
        sign_in(ports[i % len(ports)], people["trainers"][i % len(people["trainers"])])
        for i in range(counts["trainers"])
    ]
    probes = [Client(ports[i % len(ports)]) for i in range(counts["probes"])]
    samples: list[Sample] = []
    lock = threading.Lock()
    total = len(managers) + len(agents) + len(trainers) + len(probes)
    barrier = threading.Barrier(total + 1)
    start_box: list[float] = []

    def timed(kind: str, call: Any, mine: list[Sample], client: Client) -> None:
        before = time.perf_counter()
        try:
            status = call()
        except (OSError, ConnectionError, BenchError) as error:
            status = 0
            print(f"    {kind}: {error}", file=sys.stderr)
            client.reconnect()
        mine.append(Sample(kind, before - start_box[0], time.perf_counter() - before, status))

    def loop(step: Any, client: Client) -> None:
        mine: list[Sample] = []
        client.reconnect()
        barrier.wait()
        deadline = start_box[0] + duration
        while time.perf_counter() < deadline:
            step(mine)
        with lock:
            samples.extend(mine)

    def manager_step(person: Person, seed: int) -> Any:
        local = random.Random(seed)

        def step(mine: list[Sample]) -> None:
            if person.entries >= entries_per_session:
                timed("end_session", lambda: end_session(person), mine, person.client)
                try:
                    start_session(person, local.randrange(100))  # untimed: pages to get there
                except BenchError as error:
                    print(f"    restart: {error}", file=sys.stderr)
                person.entries = 0
            elif person.due_checks and local.random() < 0.15:
                # As a manager does: tap the row (the card opens, untimed), then an outcome. A
                # correction on the same behaviour may have replaced the check meanwhile.
                if check_is_open(person):
                    timed("outcome", lambda: record_outcome(person, local), mine, person.client)
                else:
                    person.due_checks.pop()
            else:
                timed("entry", lambda: save_entry(person, local), mine, person.client)

        return step

    threads = []
    for person in managers:
        threads.append(
            threading.Thread(target=loop, args=(manager_step(person, rng.random()), person.client))
        )
    for client, agent_id in agents:
        step = _reader("agent_log", client, f"/agents/{agent_id}", timed)
        threads.append(threading.Thread(target=loop, args=(step, client)))
    for client in trainers:
        step = _reader("dashboard", client, "/dashboard", timed)
        threads.append(threading.Thread(target=loop, args=(step, client)))
    for client in probes:
        step = _reader("healthz", client, "/healthz", timed, cookies=False)
        threads.append(threading.Thread(target=loop, args=(step, client)))
    for thread in threads:
        thread.daemon = True
        thread.start()
    start_box.append(time.perf_counter() + 0.05)
    barrier.wait()
    for thread in threads:
        thread.join(duration + REQUEST_TIMEOUT + 10)
    for person in managers:  # leave no session open (untimed)
        try:
            person.client.reconnect()
            end_session(person)
        except OSError:
            pass
    return samples


def _reader(kind: str, client: Client, path: str, timed: Any, cookies: bool = True) -> Any:
    def step(mine: list[Sample]) -> None:
        timed(kind, lambda: get(client, path, cookies), mine, client)

    return step


def summarise(samples: list[Sample], duration: float) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [s for s in samples if s.kind == kind]
        ok = [s for s in mine if 200 <= s.status < 300]
        statuses: dict[str, int] = {}
        for s in mine:
            key = str(s.status) if s.status else "connection error"
            statuses[key] = statuses.get(key, 0) + 1
        latencies = [s.latency for s in mine]
        kinds[kind] = {
            "requests": len(mine),
            "ok": len(ok),
            "errors": len(mine) - len(ok),
            "statuses": dict(sorted(statuses.items())),
            "per_second": round(len(ok) / duration, 1),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        }
    base = kinds["healthz"]["p50_ms"] or None
    for figures in kinds.values():
        figures["p50_vs_healthz"] = round(figures["p50_ms"] / base, 1) if base else None
    return kinds


def markdown_table(kinds: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | errors | p50 ÷ healthz p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, f in kinds.items():
        rows.append(
            f"| {kind} | {f['requests']} | {f['per_second']} | {f['p50_ms']} | {f['p95_ms']} "
            f"| {f['p99_ms']} | {f['errors']} | {f['p50_vs_healthz']} |"
        )
    return "\n".join(rows)


def prepare_postgres(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    given = make_url(url)
    if not given.drivername.startswith("postgres"):
        raise BenchError(f"--database-url must be a PostgreSQL URL, not {given.drivername}")
    admin = given.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DATABASE}")
    bench = given.set(drivername="postgresql+psycopg", database=BENCH_DATABASE)
    return bench.render_as_string(hide_password=False)


def drop_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load (20)")
    parser.add_argument("--database-url", help="a PostgreSQL server: two app servers on it")
    parser.add_argument("--redis-url", help="Redis for rate limits (flushed), with PostgreSQL")
    parser.add_argument("--workers", type=int, default=None, help="per server (SQLite 4, PG 2)")
    parser.add_argument("--threads", type=int, default=2)  # gunicorn.conf.py's
    parser.add_argument("--managers", type=int, default=8)
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--trainers", type=int, default=2)
    parser.add_argument("--probes", type=int, default=2, help="clients on /healthz")
    parser.add_argument("--entries-per-session", type=int, default=20)
    parser.add_argument("--app-dir", type=Path, default=ROOT, help="serve another checkout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="coachapp-shift-"))
    servers: list[Gunicorn] = []
    previous_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    postgres = bool(args.database_url)
    try:
        database_url = (
            prepare_postgres(args.database_url)
            if postgres
            else f"sqlite:///{workdir / 'coachapp.sqlite3'}"
        )
        env = {
            **os.environ,
            "COACHAPP_DATABASE_URL": database_url,
            "COACHAPP_SECRET_KEY": secrets.token_hex(32),
            "COACHAPP_DEMO": "1",
            "COACHAPP_LOG_FORMAT": "off",
            "PYTHONUNBUFFERED": "1",
        }
        if postgres and args.redis_url:
            import redis

            redis.Redis.from_url(args.redis_url).flushdb()
            env["COACHAPP_REDIS_URL"] = args.redis_url
        flask_command(args.app_dir, env, "init")
        print(flask_command(args.app_dir, env, "demo-data"), file=sys.stderr)
        workers = args.workers or (2 if postgres else 4)
        for n in range(2 if postgres else 1):
            log = workdir / f"gunicorn-{n}.log"
            servers.append(Gunicorn(args.app_dir, env, workers, args.threads, log))
        for server in servers:
            server.wait_ready()
        ports = [server.port for server in servers]
        people = demo_people(ports[0])
        counts = {
            "managers": args.managers,
            "agents": min(args.agents, len(people["agents"])),
            "trainers": args.trainers,
            "probes": args.probes,
        }
        print(
            f"{len(servers)} gunicorn server(s) -w {workers} -k gthread --threads "
            f"{args.threads} on {HOST}:{','.join(map(str, ports))}, "
            f"{'postgresql' if postgres else 'sqlite'}, clients {counts}, {args.duration:g} s",
            file=sys.stderr,
        )
        load_before = os.getloadavg()
        samples = run_shift(ports, people, counts, args.duration, args.entries_per_session)
        exit_codes = [server.stop() for server in servers]
        findings: dict[str, int] = {}
        for n, server in enumerate(servers):
            for key, value in server.log_findings().items():
                findings[key] = findings.get(key, 0) + value
            shutil.copyfile(server.log_path, RESULTS / f"shift_load-{stamp}.gunicorn-{n}.log")
        servers = []
        kinds = summarise(samples, args.duration)
        table = markdown_table(kinds)
        result = {
            "benchmark": "shift_load",
            "timestamp": stamp,
            "backend": "postgresql" if postgres else "sqlite",
            "database_url": shown_url(database_url) if postgres else "sqlite",
            "redis": bool(postgres and args.redis_url),
            "servers": len(exit_codes),
            "workers_per_server": workers,
            "threads": args.threads,
            "clients": counts,
            "duration_s": args.duration,
            "app_dir": str(args.app_dir),
            "app_revision": revision(args.app_dir),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            },
            "kinds": kinds,
            "server_logs": findings,
            "gunicorn_exit_codes": exit_codes,
            "table": table,
        }
        out = RESULTS / f"shift_load-{stamp}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(table)
        errors = sum(f["errors"] for f in kinds.values())
        print(f"\nerrors {errors}; server logs {findings}; exit codes {exit_codes}")
        print(
            f"load average before/after: {result['machine']['loadavg_before']} / "
            f"{result['machine']['loadavg_after']}"
        )
        print(f"results: {out.relative_to(ROOT)}")
        return 0 if errors == 0 and not findings.get("database_is_locked") else 1
    except BenchError as error:
        print(f"shift_load: {error}", file=sys.stderr)
        return 2
    finally:
        for server in servers:
            server.stop()
        if postgres:
            drop_postgres(args.database_url)
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous_term)


if __name__ == "__main__":
    sys.exit(main())

"""Follow-ups at scale: Today for a manager with 300 agents and 5,000 open focus items, and
send-reminders for 10,000 managers, each with its number of SQL statements.

Usage: .venv/bin/python benchmarks/followups_scale.py [--database-url URL] [--managers 10000]

Everything runs in this process against a fresh database (SQLite in a temporary folder unless a
URL is given); the push service is a local HTTP server on 127.0.0.1 that answers 201. Each
figure comes with a baseline measured in the same run: /healthz for Today, and plain HTTP POSTs
to the same local push service for send-reminders.
"""

import argparse
import base64
import http.server
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coachapp import create_app  # noqa: E402
from coachapp.auth.sessions import start_login_session  # noqa: E402
from coachapp.extensions import db  # noqa: E402
from coachapp.models import (  # noqa: E402
    Behaviour,
    Competency,
    CompetencyKind,
    FocusItem,
    FollowUp,
    Organisation,
    PushSubscription,
    Role,
    RoleProfile,
    Team,
    User,
    manager_teams,
)
from coachapp.reminders import daily  # noqa: E402

TODAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def make_app(database_url: str):
    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "TESTING": True,
            "VAPID_SUBJECT": "mailto:benchmark@example.org",
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


def profile_with(behaviours: int) -> RoleProfile:
    profile = RoleProfile(name=f"Profile {uuid.uuid4().hex[:6]}")
    competency = Competency(name="Handling", kind=CompetencyKind.SKILL, role_profile=profile)
    for position in range(behaviours):
        competency.behaviours.append(Behaviour(name=f"Behaviour {position}", position=position))
    db.session.add(profile)
    db.session.commit()
    return profile


def seed_today(agents: int, items: int, rng: random.Random) -> User:
    """One manager over `agents` agents with `items` open focus items, about half of them due."""
    db.session.add(Organisation(name="Bench"))
    behaviours_needed = -(-items // agents)
    profile = profile_with(max(behaviours_needed, 1))
    behaviour_ids = [b.id for c in profile.competencies for b in c.behaviours]
    teams = [Team(name=f"Team {n}") for n in range(max(1, agents // 30))]
    manager = User(name="Manager Bench", role=Role.MANAGER, managed_teams=teams)
    db.session.add_all([*teams, manager])
    db.session.commit()
    agent_rows = [
        {
            "name": f"Agent {n}",
            "role": Role.AGENT,
            "team_id": teams[n % len(teams)].id,
            "role_profile_id": profile.id,
            "active": True,
            "created_at": NOW,
        }
        for n in range(agents)
    ]
    db.session.execute(sa.insert(User), agent_rows)
    agent_ids = db.session.scalars(sa.select(User.id).where(User.role == Role.AGENT)).all()
    item_rows = []
    for n in range(items):
        opened = TODAY - timedelta(days=rng.randint(2, 80))
        item_rows.append(
            {
                "agent_id": agent_ids[n % len(agent_ids)],
                "behaviour_id": behaviour_ids[n // len(agent_ids)],
                "opened_by_id": manager.id,
                "opened_on": opened,
                "level": rng.randint(0, 4),
                "streak": 0,
                "lapses": 0,
                "last_coached_on": opened,
                "status": "active",
                "escalated": False,
                "due_on": TODAY + timedelta(days=rng.randint(-10, 10)),
                "due_gap": 7,
            }
        )
    db.session.execute(sa.insert(FocusItem), item_rows)
    items_by_id = db.session.execute(sa.select(FocusItem.id, FocusItem.due_on, FocusItem.level))
    db.session.execute(
        sa.insert(FollowUp),
        [
            {"focus_item_id": i, "sequence": 1, "due_on": due, "gap": 7, "level": level}
            for i, due, level in items_by_id
        ],
    )
    db.session.commit()
    return manager


def time_requests(client, path: str, rounds: int) -> tuple[list[float], list[int]]:
    for _ in range(3):  # warm up templates and connection pools
        assert client.get(path).status_code == 200
    times, queries = [], []
    for _ in range(rounds):
        with counted_statements() as statements:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        queries.append(len(statements))
    return times, queries


def measure_today(app, agents: int, items: int, rounds: int) -> dict[str, Any]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        manager = seed_today(agents, items, random.Random(1))
        client = app.test_client()
        with app.test_request_context():
            token = start_login_session(manager)
        with client.session_transaction() as session:
            session.update(token)
        import coachapp.clock as clock

        clock.now = lambda: NOW  # Today as of the seeded date
        due = db.session.scalar(
            sa.select(sa.func.count()).select_from(FollowUp).where(FollowUp.due_on <= TODAY)
        )
        today_ms, today_queries = time_requests(client, "/today", rounds)
        health_ms, _ = time_requests(client, "/healthz", rounds)
    return {
        "agents": agents,
        "open_items": items,
        "due_checks": due,
        "due_rows_shown": min(due, 50),
        "today_p50_ms": statistics.median(today_ms),
        "today_p95_ms": percentile(today_ms, 0.95),
        "today_sql_statements": sorted(set(today_queries)),
        "healthz_p50_ms": statistics.median(health_ms),
        "ratio_p50": statistics.median(today_ms) / statistics.median(health_ms),
    }


class PushService(http.server.BaseHTTPRequestHandler):
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with PushService.lock:
            PushService.received += 1
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def subscription_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return encode(point), encode(b"0123456789abcdef")


def seed_reminders(managers: int, endpoint: str) -> None:
    """`managers` managers, each with a team, an agent, a due check and a push subscription."""
    db.session.add(Organisation(name="Bench"))
    profile = profile_with(1)
    behaviour_id = profile.competencies[0].behaviours[0].id
    db.session.execute(sa.insert(Team), [{"name": f"Team {n}"} for n in range(managers)])
    team_ids = db.session.scalars(sa.select(Team.id).order_by(Team.id)).all()
    db.session.execute(
        sa.insert(User),
        [
            {"name": f"Manager {n}", "role": Role.MANAGER, "active": True, "created_at": NOW}
            for n in range(managers)
        ]
        + [
            {
                "name": f"Agent {n}",
                "role": Role.AGENT,
                "team_id": team_ids[n],
                "active": True,
                "role_profile_id": profile.id,
                "created_at": NOW,
            }
            for n in range(managers)
        ],
    )
    manager_ids = db.session.scalars(
        sa.select(User.id).where(User.role == Role.MANAGER).order_by(User.id)
    ).all()
    agent_ids = db.session.scalars(
        sa.select(User.id).where(User.role == Role.AGENT).order_by(User.id)
    ).all()
    db.session.execute(
        manager_teams.insert(),
        [{"manager_id": m, "team_id": t} for m, t in zip(manager_ids, team_ids, strict=True)],
    )
    opened = TODAY - timedelta(days=2)
    db.session.execute(
        sa.insert(FocusItem),
        [
            {
                "agent_id": a,
                "behaviour_id": behaviour_id,
                "opened_by_id": m,
                "opened_on": opened,
                "level": 0,
                "streak": 0,
                "lapses": 0,
                "last_coached_on": opened,
                "status": "active",
                "escalated": False,
                "due_on": TODAY,
                "due_gap": 2,
            }
            for m, a in zip(manager_ids, agent_ids, strict=True)
        ],
    )
    item_ids = db.session.scalars(sa.select(FocusItem.id)).all()
    db.session.execute(
        sa.insert(FollowUp),
        [
            {"focus_item_id": i, "sequence": 1, "due_on": TODAY, "gap": 2, "level": 0}
            for i in item_ids
        ],
    )
    p256dh, auth = subscription_keys()
    db.session.execute(
        sa.insert(PushSubscription),
        [
            {
                "user_id": m,
                "endpoint": f"{endpoint}/push/{m}",
                "p256dh": p256dh,
                "auth": auth,
                "created_at": NOW,
            }
            for m in manager_ids
        ],
    )
    db.session.commit()


def measure_reminders(app, managers: int, endpoint: str) -> dict[str, Any]:
    with app.app_context():
        db.drop_all()
        db.create_all()
        seed_reminders(managers, endpoint)
        PushService.received = 0
        with counted_statements() as statements:
            started = time.perf_counter()
            summary = daily.send_reminders(TODAY)
            seconds = time.perf_counter() - started
        second_run = daily.send_reminders(TODAY)
    received = PushService.received
    started = time.perf_counter()
    for n in range(min(managers, 2000)):
        request = urllib.request.Request(f"{endpoint}/push/{n}", data=b"x" * 200, method="POST")
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 (loopback only)
            pass
    plain_per_post = (time.perf_counter() - started) / min(managers, 2000)
    return {
        "managers": managers,
        "notified": summary.notified,
        "failures": summary.failures,
        "second_run_notified": second_run.notified,
        "pushes_received": received,
        "seconds": seconds,
        "ms_per_manager": seconds * 1000 / managers,
        "sql_statements": len(statements),
        "baseline_plain_post_ms": plain_per_post * 1000,
        "ratio_to_plain_post": (seconds / managers) / plain_per_post,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--managers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coachapp-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = make_app(url)

    results: dict[str, Any] = {"database": url.split(":")[0], "today": [], "reminders": []}
    for agents, items in [(30, 500), (300, 5000)]:
        results["today"].append(measure_today(app, agents, items, args.rounds))
        print(json.dumps(results["today"][-1]), flush=True)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for managers in sorted({min(1000, args.managers), args.managers}):
            results["reminders"].append(measure_reminders(app, managers, endpoint))
            print(json.dumps(results["reminders"][-1]), flush=True)
    finally:
        server.shutdown()
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"followups_scale-{stamp}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

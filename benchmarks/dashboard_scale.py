"""The trainer's dashboard at scale: 2,000 agents, 100 managers, 1,000,000 observations and
300,000 checks over two years, generated through a bulk path; the dashboard's server time and SQL
statements, unfiltered and with each filter, beside /healthz in the same run.

Usage: .venv/bin/python benchmarks/dashboard_scale.py [--database-url URL] [--scale 1.0]
       [--rounds 7] [--out benchmarks/results/dashboard_scale.json]

Everything runs in this process against a fresh database (SQLite in a temporary folder unless a
PostgreSQL URL is given: its tables are dropped and created again). `--scale 0.1` makes a tenth
of everything for a quick look.
"""

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coachapp import create_app  # noqa: E402
from coachapp.auth.sessions import start_login_session  # noqa: E402
from coachapp.dashboard import summaries  # noqa: E402
from coachapp.extensions import db  # noqa: E402
from coachapp.models import (  # noqa: E402
    Behaviour,
    Competency,
    CompetencyKind,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    Organisation,
    Role,
    RoleProfile,
    ShadowSession,
    Team,
    User,
    manager_teams,
)
from coachapp.scheduling import DEFAULT_GAPS, Outcome  # noqa: E402

TODAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DAYS = 730
CHUNK = 20_000
OUTCOMES = [Outcome.SUSTAINED, Outcome.PARTLY, Outcome.SLIPPED, Outcome.NO_CHANCE]
WEIGHTS = [65, 15, 10, 10]


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def insert(model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(model), rows[start : start + CHUNK])


def seed(scale: float, rng: random.Random) -> dict[str, int]:
    agents_n, managers_n = int(2000 * scale), max(2, int(50 * scale) * 2)  # two a team
    observations_n, checks_target = int(1_000_000 * scale), int(300_000 * scale)
    db.session.add(Organisation(name="Bench"))
    profile = RoleProfile(name="Contact centre")
    for c in range(5):
        competency = Competency(
            name=f"Competency {c}", kind=CompetencyKind.SKILL, position=c, role_profile=profile
        )
        for b in range(6):
            competency.behaviours.append(Behaviour(name=f"Behaviour {c}.{b}", position=b))
    db.session.add(profile)
    teams = [Team(name=f"Team {n:02d}") for n in range(managers_n // 2)]
    db.session.add_all(teams)
    db.session.flush()
    insert(User, [{"name": f"Manager {n:03d}", "role": Role.MANAGER, "active": True,
                   "created_at": NOW} for n in range(managers_n)])  # fmt: skip
    insert(User, [{"name": f"Agent {n:04d}", "role": Role.AGENT, "active": True,
                   "team_id": teams[n % len(teams)].id, "role_profile_id": profile.id,
                   "created_at": NOW} for n in range(agents_n)])  # fmt: skip
    managers = db.session.scalars(sa.select(User.id).where(User.role == Role.MANAGER)).all()
    agents = db.session.execute(
        sa.select(User.id, User.team_id).where(User.role == Role.AGENT)
    ).all()
    db.session.execute(
        sa.insert(manager_teams),
        [{"manager_id": m, "team_id": teams[i // 2].id} for i, m in enumerate(managers)],
    )
    manager_of = {teams[i // 2].id: m for i, m in enumerate(managers)}
    behaviours = db.session.scalars(sa.select(Behaviour.id).order_by(Behaviour.id)).all()

    # Shadowing: five observations a session, spread over two years.
    sessions_n = observations_n // 5
    session_rows, session_agents = [], []
    for n in range(sessions_n):
        agent_id, team_id = agents[n % len(agents)]
        started = datetime.combine(
            TODAY - timedelta(days=rng.randint(0, DAYS)), clock_time(9), tzinfo=UTC
        )
        ended = started + timedelta(hours=1)
        session_rows.append({"manager_id": manager_of[team_id], "agent_id": agent_id,
                             "client_uuid": uuid.uuid4(), "started_at": started,
                             "ended_at": ended, "summary_note": ""})  # fmt: skip
        session_agents.append((agent_id, manager_of[team_id], started))
    insert(ShadowSession, session_rows)
    session_ids = db.session.scalars(sa.select(ShadowSession.id).order_by(ShadowSession.id)).all()
    kinds = [ObservationKind.STRENGTH, ObservationKind.CORRECTION, ObservationKind.OBSTACLE]
    observation_rows = []
    for session_id, (agent_id, manager_id, started) in zip(
        session_ids, session_agents, strict=True
    ):
        for k in range(5):
            kind = rng.choices(kinds, weights=[5, 3, 1])[0]
            observation_rows.append({
                "session_id": session_id, "author_id": manager_id, "agent_id": agent_id,
                "kind": kind, "behaviour_id": rng.choice(behaviours), "note": "",
                "coached": "", "client_uuid": uuid.uuid4(),
                "occurred_at": started + timedelta(minutes=5 * k), "recorded_at": started,
            })  # fmt: skip
        if len(observation_rows) >= CHUNK:
            insert(Observation, observation_rows)
            observation_rows = []
    insert(Observation, observation_rows)

    # Focus items on the default ladder until about `checks_target` checks exist; each (agent,
    # behaviour) pair gets at most one item, so an open item never meets another.
    pairs = [(a, t, b) for a, t in agents for b in behaviours]
    rng.shuffle(pairs)
    item_rows, item_checks, checks = [], [], 0
    for agent_id, team_id, behaviour_id in pairs:
        if checks >= checks_target:
            break
        opened = TODAY - timedelta(days=rng.randint(1, DAYS))
        day, level, history, lapses, status = opened, 0, [], 0, "active"
        while True:
            gap = DEFAULT_GAPS[level]
            due = day + timedelta(days=gap)
            if due >= TODAY or len(history) >= 12:
                history.append((due, gap, None, None))
                break
            done = due + timedelta(days=rng.choice([0, 0, 0, 1, 2, 5]))
            outcome = rng.choices(OUTCOMES, weights=WEIGHTS)[0]
            if done >= TODAY:
                history.append((due, gap, None, None))
                break
            history.append((due, gap, done, outcome))
            day = done
            if outcome == Outcome.SLIPPED:
                level, lapses = 0, lapses + 1
            elif outcome == Outcome.SUSTAINED:
                level = min(level + 1, len(DEFAULT_GAPS) - 1)
                if level == len(DEFAULT_GAPS) - 1 and (done - opened).days >= 112:
                    status = "closed"
                    break
        checks += len(history)
        item_rows.append({"agent_id": agent_id, "behaviour_id": behaviour_id,
                          "opened_by_id": manager_of[team_id], "opened_on": opened,
                          "level": level, "streak": 0, "lapses": lapses,
                          "last_coached_on": opened, "status": status,
                          "escalated": lapses >= 3})  # fmt: skip
        item_checks.append(history)
    insert(FocusItem, item_rows)
    item_ids = db.session.scalars(sa.select(FocusItem.id).order_by(FocusItem.id)).all()
    check_rows = []
    for item_id, history in zip(item_ids, item_checks, strict=True):
        for sequence, (due, gap, done, outcome) in enumerate(history, start=1):
            check_rows.append({"focus_item_id": item_id, "sequence": sequence, "due_on": due,
                               "gap": gap, "level": 0, "observed_on": done,
                               "outcome": outcome, "note": "", "coached": ""})  # fmt: skip
        if len(check_rows) >= CHUNK:
            insert(FollowUp, check_rows)
            check_rows = []
    insert(FollowUp, check_rows)
    # The dashboard's summary rows, filled as the migration fills them (summaries.rebuild).
    summaries.rebuild()
    db.session.commit()
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    return {
        "agents": agents_n,
        "managers": managers_n,
        "teams": len(teams),
        "observations": count(Observation),
        "focus_items": count(FocusItem),
        "checks": count(FollowUp),
    }


def time_requests(client: Any, path: str, rounds: int) -> dict[str, Any]:
    client.get(path)  # warm up templates and the connection pool
    times, statements = [], set()
    for _ in range(rounds):
        db.session.remove()
        with counted_statements() as counted:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
        statements.add(len(counted))
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
            "statements": sorted(statements)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time against the database as it is when it was seeded before (keep its data)",
    )
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="dashboard-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    app = create_app({"SECRET_KEY": "benchmark", "SQLALCHEMY_DATABASE_URI": url,
                      "SERVER_NAME": "localhost", "TESTING": True})  # fmt: skip
    import coachapp.clock as clock

    # What gunicorn.conf.py does in the master before forking its workers (pre_fork): the app's
    # own objects out of the garbage collector's full collections.
    gc.freeze()

    clock.now = lambda: NOW
    with app.app_context():
        trainer = None
        if args.reuse:
            trainer = db.session.scalar(sa.select(User).where(User.role == Role.TRAINER))
            if trainer is not None and not sa.inspect(db.engine).has_table("dashboard_check_day"):
                # A database seeded before the summary rows existed: add and fill them, as the
                # migration does.
                db.create_all()
                for index in FollowUp.__table__.indexes:
                    index.create(db.engine, checkfirst=True)
                started = time.perf_counter()
                summaries.rebuild()
                db.session.commit()
                print(f"summary rows filled in {time.perf_counter() - started:.1f} s")
                if db.engine.dialect.name == "postgresql":
                    with db.engine.connect() as connection:
                        connection.exec_driver_sql("ANALYZE")
        if trainer is None:
            db.drop_all()
            db.create_all()
            started = time.perf_counter()
            sizes = seed(args.scale, random.Random(7))
            seeded_s = round(time.perf_counter() - started, 1)
            trainer = User(name="Trainer Bench", role=Role.TRAINER, active=True)
            db.session.add(trainer)
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # What autovacuum does a minute after a bulk load: the planner's statistics, and
                # the visibility map that lets the covering index of the checks not done answer
                # without visiting the table (an index-only scan).
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
        else:
            if db.engine.dialect.name == "postgresql":
                # The planner's statistics, as autovacuum keeps them (it may be off on a benchmark
                # server): without them a date range is guessed at 0.5% of the items, and a year's
                # 31,000 items meet their summary rows one index probe at a time. Under a second.
                with db.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                ) as connection:
                    connection.exec_driver_sql("ANALYZE")
            count = lambda m: db.session.scalar(sa.select(sa.func.count()).select_from(m))  # noqa: E731
            sizes = {"observations": count(Observation), "focus_items": count(FocusItem),
                     "checks": count(FollowUp)}  # fmt: skip
            seeded_s = None
        client = app.test_client()
        with app.test_request_context():
            token = start_login_session(trainer)
        with client.session_transaction() as session:
            session.update(token)
        first = lambda model: db.session.scalar(sa.select(model.id).limit(1))  # noqa: E731
        manager = db.session.scalar(sa.select(User.id).where(User.role == Role.MANAGER))
        filters = {
            "unfiltered": "",
            "period=364": "period=364",
            "team": f"team={first(Team)}",
            "manager": f"manager={manager}",
            "profile": f"profile={first(RoleProfile)}",
            "competency": f"competency={first(Competency)}",
            "behaviour": f"behaviour={first(Behaviour)}",
        }
        results = {name: time_requests(client, f"/dashboard?{query}", args.rounds)
                   for name, query in filters.items()}  # fmt: skip
        healthz = time_requests(client, "/healthz", args.rounds)
    report = {
        "backend": sa.make_url(url).get_backend_name(),
        "scale": args.scale,
        "sizes": sizes,
        "seed_seconds": seeded_s,
        "dashboard": results,
        "healthz": healthz,
        "ratio_unfiltered_p50": round(results["unfiltered"]["p50_ms"] / healthz["p50_ms"], 1),
    }
    print(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Shared fixtures: the app on each database backend, a clean database per test, and personas.

The suite runs on SQLite always and on PostgreSQL when COACHAPP_TEST_POSTGRES_URL is set (CI
sets it, and under CI a missing PostgreSQL fails the run instead of skipping).
"""

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g, request, request_started, request_tearing_down
from flask.testing import FlaskClient

from coachapp import create_app
from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    Competency,
    CompetencyKind,
    Observation,
    ObservationKind,
    Organisation,
    Role,
    RoleProfile,
    ShadowSession,
    Team,
    User,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker empties its tables between tests, so each needs a PostgreSQL
    database of its own: `test` becomes `test_gw0`, `test_gw1`, ... created when missing. The
    environment variable is rewritten too, for tests that read it themselves."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not exists:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    os.environ["COACHAPP_TEST_POSTGRES_URL"] = own
    return own


POSTGRES_URL = _database_of_this_worker(os.environ.get("COACHAPP_TEST_POSTGRES_URL"))

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError(
            "CI=true needs COACHAPP_TEST_POSTGRES_URL: PostgreSQL may not be skipped"
        )


#: The files that take a minute or more, run first: with parallel workers (`--dist loadfile`
#: hands out files in the order they were collected) one of them at the end kept one worker busy
#: alone for two minutes.
SLOWEST_FIRST = ("test_kill.py", "test_several_servers.py", "test_demo_data.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file, and of the other files, stays


def _database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "postgresql":
        assert POSTGRES_URL
        return POSTGRES_URL
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def make_app(database_url: str, **overrides: object) -> Flask:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "DEMO_MODE": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session", params=BACKENDS)
def backend_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One app per database backend, its schema created once for the whole run."""
    app = make_app(_database_url(request.param, tmp_path_factory))
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo organisation in an SQLite file that no app serves, loaded once for the run (it
    takes seconds): each demo server of the run works on a copy of it."""
    from tests.e2e.harness import demo_database as load

    return load(tmp_path_factory.mktemp("demo-loaded") / "coachapp.sqlite3")


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory, demo_database: Path) -> Flask:
    """The demo organisation as `flask demo` serves it, on its own SQLite file (a copy of
    demo_database): the browser tests serve it, the HTML validity check reads it."""
    from tests.e2e.harness import demo_app

    return demo_app(tmp_path_factory.mktemp("demo") / "coachapp.sqlite3", copy_of=demo_database)


@pytest.fixture
def app(backend_app: Flask) -> Iterator[Flask]:
    """The app with an empty database; every table is emptied after the test.

    The test holds one app context open, and Flask reuses it for every request the test makes,
    so `g` would outlive a request: what a request caches there (Flask-Login's current user)
    is dropped when it ends, as it would be between two real visits.
    """
    request_tearing_down.connect(_forget_request_globals, backend_app)
    with backend_app.app_context():
        yield backend_app
        db.session.remove()
        _empty_all_tables()
        backend_app.extensions["coachapp.refusals"].forget()  # refusals counted in this test
    request_tearing_down.disconnect(_forget_request_globals, backend_app)


def _forget_request_globals(_sender: Flask, **_extra: object) -> None:
    for name in ("_login_user", "demo_org", "_organisation", "_flask_babel"):
        g.pop(name, None)


def _empty_all_tables() -> None:
    """Delete every row, children first, and start ids at 1 again.

    On PostgreSQL this is a DELETE per table and one statement that rewinds every sequence:
    TRUNCATE of ~30 tiny tables costs about 100 ms a test there, DELETE under 10 ms.
    """
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        for table in tables:
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
                )
            )


# --- one commit per request (STYLE.md habit 10) -----------------------------------------------

_request_commits = threading.local()
#: Requests of the running test that committed more than once: "METHOD rule (n commits)".
_committed_twice: list[str] = []


def _request_begins(_sender: Flask, **_extra: object) -> None:
    _request_commits.count = 0


def _session_committed(session: sa.orm.Session) -> None:
    # Commits outside a request (fixtures, factories, CLI commands) have no count and are free;
    # releasing a savepoint commits nothing yet.
    if session.in_nested_transaction():
        return
    if getattr(_request_commits, "count", None) is not None:
        _request_commits.count += 1


def _request_ends(_sender: Flask, **_extra: object) -> None:
    count = getattr(_request_commits, "count", None)
    _request_commits.count = None
    # POST /api/batch is many writes in one request: one unit of work, one commit, per item.
    allowed = max(1, g.pop("units_of_work", 1))
    if count is not None and count > allowed:
        rule = request.url_rule.rule if request.url_rule else request.path
        _committed_twice.append(f"{request.method} {rule} ({count} commits)")


request_started.connect(_request_begins)
request_tearing_down.connect(_request_ends)
sa.event.listen(sa.orm.Session, "after_commit", _session_committed)


@pytest.fixture(autouse=True)
def one_commit_per_request() -> Iterator[None]:
    """Fails any test in which a request committed twice: a write and its consequences commit
    together, or a failure between two commits would leave them half-done."""
    _committed_twice.clear()
    yield
    assert not _committed_twice, f"requests that committed more than once: {_committed_twice}"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


# --- the people of the tests -------------------------------------------------------------


@dataclass
class World:
    """A small organisation: two teams, one role profile, a person of every kind."""

    org: Organisation
    team_a: Team
    team_b: Team
    profile: RoleProfile
    other_profile: RoleProfile
    behaviours: list[Behaviour]
    foreign_behaviour: Behaviour
    manager_maria: User
    manager_mo: User
    agent_alex: User
    agent_bo: User
    trainer_tara: User
    admin_ada: User


def _profile(name: str, behaviour_names: list[str]) -> RoleProfile:
    profile = RoleProfile(name=name)
    competency = Competency(name=f"{name} skills", kind=CompetencyKind.SKILL, role_profile=profile)
    for position, behaviour_name in enumerate(behaviour_names):
        competency.behaviours.append(Behaviour(name=behaviour_name, position=position))
    db.session.add(profile)
    return profile


@pytest.fixture
def world(app: Flask) -> World:
    """Northwind with team A (Maria's) and team B (Mo's), each with one agent."""
    org = Organisation(name="Northwind")
    team_a, team_b = Team(name="Phones"), Team(name="Desk")
    profile = _profile("Contact-centre agent", ["Greets by name", "Confirms next steps"])
    other = _profile("Field technician", ["Calls ahead"])

    def person(name: str, role: Role, **kwargs: object) -> User:
        user = User(name=name, role=role, email=f"{name.split()[0].lower()}@example.org", **kwargs)
        db.session.add(user)
        return user

    maria = person("Maria Santos", Role.MANAGER)
    mo = person("Mo Mensah", Role.MANAGER)
    maria.managed_teams = [team_a]
    mo.managed_teams = [team_b]
    alex = person("Alex Adams", Role.AGENT, team=team_a, role_profile=profile)
    bo = person("Bo Berg", Role.AGENT, team=team_b, role_profile=profile)
    tara = person("Tara Lindqvist", Role.TRAINER)
    ada = person("Ada Okonkwo", Role.ADMIN)
    db.session.add_all([org, team_a, team_b])
    db.session.commit()
    behaviours = list(profile.competencies[0].behaviours)
    return World(
        org,
        team_a,
        team_b,
        profile,
        other,
        behaviours,
        other.competencies[0].behaviours[0],
        maria,
        mo,
        alex,
        bo,
        tara,
        ada,
    )


@pytest.fixture
def manager_maria(world: World) -> User:
    """A manager of team A (Phones), where agent Alex works."""
    return world.manager_maria


@pytest.fixture
def manager_mo(world: World) -> User:
    """A manager of team B (Desk): Alex is outside his teams."""
    return world.manager_mo


@pytest.fixture
def agent_alex(world: World) -> User:
    """An agent of team A, coached against the contact-centre profile."""
    return world.agent_alex


@pytest.fixture
def trainer_tara(world: World) -> User:
    """A trainer: follows every agent's follow-ups, writes no observations."""
    return world.trainer_tara


@pytest.fixture
def admin_ada(world: World) -> User:
    """An admin: runs the organisation's set-up, reads no coaching records."""
    return world.admin_ada


class Auth:
    """Signs a test client in as a person, the way a finished sign-in leaves the session."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User) -> None:
        from coachapp.auth.sessions import start_login_session

        with self.client.application.test_request_context():
            token = start_login_session(user)
            db.session.commit()
        with self.client.session_transaction() as session:
            session.clear()
            session.update(token)

    def logout(self) -> None:
        with self.client.session_transaction() as session:
            session.clear()


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


# --- factories ---------------------------------------------------------------------------


def make_session(manager: User, agent: User, **overrides: object) -> ShadowSession:
    values: dict[str, object] = {
        "manager_id": manager.id,
        "agent_id": agent.id,
        "client_uuid": uuid.uuid4(),
        "started_at": datetime.now(UTC),
    }
    values.update(overrides)
    if values.get("ended_at") is None:
        # One open session per manager and agent (a partial unique index): join the open one.
        existing = db.session.scalar(
            sa.select(ShadowSession).where(
                ShadowSession.manager_id == values["manager_id"],
                ShadowSession.agent_id == values["agent_id"],
                ShadowSession.ended_at.is_(None),
            )
        )
        if existing is not None:
            return existing
    shadow = ShadowSession(**values)
    db.session.add(shadow)
    db.session.commit()
    return shadow


def make_observation(shadow: ShadowSession, **overrides: object) -> Observation:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "session_id": shadow.id,
        "author_id": shadow.manager_id,
        "agent_id": shadow.agent_id,
        "kind": ObservationKind.STRENGTH,
        "note": "Clear and warm greeting.",
        "client_uuid": uuid.uuid4(),
        "occurred_at": now,
        "recorded_at": now,
    }
    values.update(overrides)
    observation = Observation(**values)
    db.session.add(observation)
    db.session.commit()
    return observation


SCREENSHOTS = Path(__file__).parent / "e2e" / "screenshots"


class FrozenClock:
    """The app's clock held at one moment; `advance(days=...)` moves it on."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.moment += timedelta(**delta)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """Monday 2 March 2026, 10:00 UTC, until the test moves it."""
    from coachapp import clock

    frozen = FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    monkeypatch.setattr(clock, "now", frozen.now)
    return frozen

"""Pooled PostgreSQL connections: replaced when the server ended them, not pinged in steady use
(coachapp.pool_checks). On the real server: its own pg_terminate_backend ends a connection."""

import select
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp import pool_checks
from coachapp.extensions import db
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL")


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    """One pooled connection, checked as the app's are."""
    pool_checks.install()
    assert POSTGRES_URL
    engine = sa.create_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def admin() -> Iterator[sa.Connection]:
    assert POSTGRES_URL
    engine = sa.create_engine(POSTGRES_URL, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _backend_pid(connection: sa.Connection) -> int:
    """The server process of a connection, known to the driver without asking the server."""
    return int(connection.connection.driver_connection.info.backend_pid)  # type: ignore[union-attr]


def _last_statement(admin: sa.Connection, pid: int) -> str:
    query = sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid")
    return str(admin.execute(query, {"pid": pid}).scalar_one())


def _ended_by_the_server(admin: sa.Connection, pids: list[int], sockets: list[int]) -> None:
    """pg_terminate_backend, then wait until the server's goodbye has reached each socket."""
    for pid in pids:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + 5
    for fd in sockets:
        while not select.select([fd], [], [], 0.05)[0]:
            assert time.monotonic() < deadline, "the server did not end the connection"


def test_a_connection_in_steady_use_is_taken_from_the_pool_without_a_round_trip(
    engine: sa.Engine, admin: sa.Connection
) -> None:
    with engine.connect() as connection:
        pid = _backend_pid(connection)
        connection.execute(sa.text("SELECT 'the request before'"))
    with engine.connect() as connection:
        assert _backend_pid(connection) == pid  # the same pooled connection
        # Its last statement is still the first request's end (its rollback on return to the
        # pool): nothing was sent when the second took it.
        assert _last_statement(admin, pid) == "ROLLBACK"


def test_a_connection_idle_for_long_is_pinged_before_use(
    engine: sa.Engine, admin: sa.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine.connect() as connection:
        pid = _backend_pid(connection)
        connection.execute(sa.text("SELECT 'the request before'"))
    monkeypatch.setattr(pool_checks, "IDLE_PING_SECONDS", 0.0)
    time.sleep(0.01)
    with engine.connect() as connection:
        assert _backend_pid(connection) == pid
        assert _last_statement(admin, pid) == "SELECT 1"


def test_a_connection_the_server_ended_is_replaced_before_use(
    engine: sa.Engine, admin: sa.Connection
) -> None:
    with engine.connect() as connection:
        pid = _backend_pid(connection)
        socket = connection.connection.driver_connection.fileno()  # type: ignore[union-attr]
    _ended_by_the_server(admin, [pid], [socket])
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 'still here'")).scalar_one() == "still here"
        assert _backend_pid(connection) != pid


def test_a_request_after_the_server_ended_every_pooled_connection_is_served(
    app: Flask, client: FlaskClient, admin: sa.Connection
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a file has no server to end its connections")
    assert client.get(url_for("core.readyz")).status_code == 200
    db.session.remove()
    pool = db.engine.pool
    idle = [record for record in pool._pool.queue]  # type: ignore[attr-defined]
    assert idle, "the request left its connection in the pool"
    pids = [record.dbapi_connection.info.backend_pid for record in idle]
    sockets = [record.dbapi_connection.fileno() for record in idle]
    _ended_by_the_server(admin, pids, sockets)

    answer = client.get(url_for("core.readyz"))

    assert answer.status_code == 200, answer.get_json()

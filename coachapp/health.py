"""Is this process fit to serve? The start-up check and the readiness probe behind /readyz."""

import contextlib

import sqlalchemy as sa
from flask import Flask

from coachapp.extensions import db, limiter
from coachapp.ratelimits import RedisWithFallback


class StartupError(RuntimeError):
    """The app cannot run as configured; the message says what is wrong and how to put it right."""


def _first_line(error: BaseException) -> str:
    # Driver messages can run over several lines (SQL, hints); the first says what happened.
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


def _safe_url(url: str) -> str:
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def _probe_write(connection: sa.Connection) -> None:
    """Take the write lock and give it back, touching no row: fails on a read-only database."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.exec_driver_sql("ROLLBACK")
    else:
        with connection.begin() as transaction:
            # A temporary table lives in this session only; creating it needs a writable server
            # (a hot standby or a read-only transaction refuses it).
            connection.exec_driver_sql("CREATE TEMPORARY TABLE coachapp_ready_probe (x int)")
            transaction.rollback()


def check_database_url(url: str) -> None:
    """A URL SQLAlchemy cannot even read stops the start before anything is built on it."""
    try:
        sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise StartupError(
            f"coachapp cannot use its database: COACHAPP_DATABASE_URL is not a database URL "
            f"({error}); e.g. postgresql://user:password@host/coachapp or sqlite:////srv/coach.db"
        ) from error


def check_database_at_start(app: Flask) -> None:
    """Open the database once before serving: a bad URL, a missing database or a read-only
    SQLite file stops the start with the driver's message instead of 500s later."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        try:
            engine = db.engine
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
                connection.commit()
                if connection.dialect.name == "sqlite":
                    _probe_write(connection)
        except Exception as error:
            raise StartupError(
                f"coachapp cannot use its database {_safe_url(url)}: {_first_line(error)}"
            ) from error
        finally:
            # Nothing opened here may be inherited by the workers gunicorn forks.
            with contextlib.suppress(Exception):  # the original error matters, not this one
                db.engine.dispose()


#: How long the readiness probe waits for SQLite's write lock before taking "busy" as an answer.
PROBE_BUSY_MS = 200


def database_problem() -> str | None:
    """Why the database cannot be read and written now, or None when it can."""
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.commit()
            if connection.dialect.name == "sqlite":
                _probe_sqlite_write(connection)
            else:
                _probe_write(connection)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", said as such
        return "database: " + _first_line(error)
    return None


def _probe_sqlite_write(connection: sa.Connection) -> None:
    """Another request holding the write lock proves the file takes writes: "locked" is ready;
    a read-only file or folder, a full disk or an I/O error is not."""
    connection.exec_driver_sql(f"PRAGMA busy_timeout={PROBE_BUSY_MS}")
    try:
        _probe_write(connection)
    except sa.exc.OperationalError as error:
        if "database is locked" not in str(error.orig):
            raise
    finally:
        connection.exec_driver_sql("PRAGMA busy_timeout=5000")  # the pool's setting, back


def redis_problem() -> str | None:
    """Why the configured Redis does not answer, or None (also when no Redis is configured)."""
    storage = limiter.storage
    if not isinstance(storage, RedisWithFallback):
        return None
    try:
        if storage.check_redis():
            return None
    except Exception as error:  # noqa: BLE001
        return "redis: " + _first_line(error)
    return "redis: does not answer"


def readiness() -> list[str]:
    """Every reason this process is not ready; empty when it is."""
    return [problem for problem in (database_problem(), redis_problem()) if problem]

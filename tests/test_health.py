"""Health that tells the truth: /healthz is liveness, /readyz readiness, a bad start is loud."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from flask.testing import FlaskClient

from coachapp import create_app
from coachapp.health import StartupError
from tests.conftest import POSTGRES_URL, make_app

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_stays_trivial(client: FlaskClient):
    assert client.get(url_for("core.healthz")).get_json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_reads_and_writes(client: FlaskClient):
    answer = client.get(url_for("core.readyz"))
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready"}


def test_readyz_is_503_with_the_reason_when_the_database_is_read_only(tmp_path: Path):
    path = tmp_path / "ro.sqlite3"
    sqlite3.connect(path).close()
    app = make_app(f"sqlite:///file:{path}?mode=ro&uri=true", STARTUP_CHECK=False)
    answer = app.test_client().get("/readyz", base_url="http://localhost")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["status"] == "unavailable"
    assert body["reasons"] == ["database: attempt to write a readonly database"]


def test_readyz_names_the_database_without_its_password(tmp_path: Path):
    url = "postgresql+psycopg://coach:s3cret-pass@127.0.0.1:1/coach"
    app = make_app(url, STARTUP_CHECK=False)
    answer = app.test_client().get("/readyz", base_url="http://localhost")
    assert answer.status_code == 503
    [reason] = answer.get_json()["reasons"]
    assert reason.startswith("database: ")
    assert "s3cret-pass" not in answer.get_data(as_text=True)


def test_readyz_is_503_when_the_configured_redis_does_not_answer(tmp_path: Path):
    app = make_app(
        "sqlite:///" + str(tmp_path / "r.sqlite3"),
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
    )
    try:
        answer = app.test_client().get("/readyz", base_url="http://localhost")
    finally:
        # The limiter is one object for every app: leave it counting in memory for later tests.
        make_app("sqlite:///" + str(tmp_path / "after.sqlite3"), STARTUP_CHECK=False)
    assert answer.status_code == 503
    [reason] = answer.get_json()["reasons"]
    assert reason.startswith("redis: ")


# --- the start fails loudly ---------------------------------------------------------------


def _start(url: str) -> Flask:
    return create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url, "DEMO_MODE": False})


def test_a_database_url_that_cannot_work_stops_the_start():
    with pytest.raises(StartupError, match="cannot use its database"):
        _start("postgresql+psycopg://coach:hidden-pass@127.0.0.1:1/coach")


def test_the_message_hides_the_password():
    with pytest.raises(StartupError) as raised:
        _start("postgresql+psycopg://coach:hidden-pass@127.0.0.1:1/coach")
    assert "hidden-pass" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_a_url_that_is_no_database_url_stops_the_start():
    with pytest.raises(StartupError, match="not a database URL"):
        _start("no-such-thing")


def test_a_missing_postgresql_database_stops_the_start_with_the_drivers_message():
    if not POSTGRES_URL:
        pytest.skip("COACHAPP_TEST_POSTGRES_URL is not set")
    missing = sa.make_url(POSTGRES_URL).set(database="ops_no_such_database_here")
    with pytest.raises(StartupError, match='database "ops_no_such_database_here" does not exist'):
        _start(missing.render_as_string(hide_password=False))


def test_a_read_only_sqlite_file_stops_the_start(tmp_path: Path):
    path = tmp_path / "ro.sqlite3"
    sqlite3.connect(path).close()
    with pytest.raises(StartupError, match="readonly database"):
        _start(f"sqlite:///file:{path}?mode=ro&uri=true")


def test_an_sqlite_file_in_a_folder_that_does_not_exist_stops_the_start(tmp_path: Path):
    with pytest.raises(StartupError, match="unable to open database file"):
        _start("sqlite:///" + str(tmp_path / "gone" / "app.sqlite3"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_sqlite_file_in_a_read_only_folder_stops_the_start(tmp_path: Path):
    folder = tmp_path / "locked"
    folder.mkdir()
    sqlite3.connect(folder / "app.sqlite3").close()
    folder.chmod(0o555)
    try:
        with pytest.raises(StartupError, match="cannot use its database"):
            _start("sqlite:///" + str(folder / "app.sqlite3"))
    finally:
        folder.chmod(0o755)


def test_the_check_can_be_skipped_by_a_test_that_needs_a_broken_app():
    app = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://coach@127.0.0.1:1/coach",
            "STARTUP_CHECK": False,
        }
    )
    assert app.test_client().get("/healthz").status_code == 200


def test_gunicorn_refuses_to_start_on_a_database_it_cannot_use(tmp_path: Path):
    """What an operator sees: gunicorn exits with the driver's message, it does not serve."""
    if shutil.which("gunicorn", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("gunicorn is not installed")
    env = {
        **os.environ,
        "COACHAPP_DATABASE_URL": "sqlite:///" + str(tmp_path / "gone" / "app.sqlite3"),
        "COACHAPP_SECRET_KEY": "x",
    }
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0", "--preload", "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert started.returncode != 0
    assert "unable to open database file" in started.stderr


def test_readyz_is_ready_while_another_request_holds_the_sqlite_write_lock(app: Flask):
    """A writer holding the lock proves the file takes writes: busy is not "unavailable"."""
    from coachapp.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    holder = sqlite3.connect(db.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer = app.test_client().get("/readyz", base_url="http://localhost")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 200

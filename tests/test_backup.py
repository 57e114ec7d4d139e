"""Backups of a live database, restores into an empty one, and moving SQLite to PostgreSQL."""

import gzip
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from coachapp import backup
from coachapp.extensions import db
from coachapp.models import AuditEvent, Observation, ObservationKind, User
from tests.conftest import POSTGRES_URL, World, make_app, make_observation, make_session


@pytest.fixture
def empty_engine(app: Flask, tmp_path: Path) -> Iterator[sa.Engine]:
    """A new database on the same backend as the test's, with the schema and no rows."""
    if db.engine.dialect.name == "sqlite":
        engine = sa.create_engine("sqlite:///" + str(tmp_path / "restored.sqlite3"))
        db.metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    with _throwaway_postgres() as url:
        engine = sa.create_engine(url)
        db.metadata.create_all(engine)
        yield engine
        engine.dispose()


class _throwaway_postgres:  # noqa: N801 - used as a context manager, named like one
    """A PostgreSQL database of its own, dropped on the way out."""

    def __enter__(self) -> str:
        assert POSTGRES_URL
        self.name = f"coachapp_backup_test_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {self.name}")
        url = sa.make_url(POSTGRES_URL).set(database=self.name)
        return url.render_as_string(hide_password=False)

    def __exit__(self, *_exc: object) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin.dispose()


def _coaching(world: World) -> None:
    """A session with entries of every kind, so enums, dates, UUIDs and texts all travel."""
    shadow = make_session(world.manager_maria, world.agent_alex, ended_at=datetime.now(UTC))
    for kind in ObservationKind:
        make_observation(shadow, kind=kind, note=f"Note «{kind.value}» with ünïcode")
    db.session.add_all(
        AuditEvent(action="test.preload", actor_id=world.admin_ada.id) for _ in range(2000)
    )
    db.session.commit()


class Writer(threading.Thread):
    """Commits one audit row after another, noting when each commit was acknowledged."""

    def __init__(self, app: Flask, actor_id: int) -> None:
        super().__init__(daemon=True)
        self.app, self.actor_id = app, actor_id
        self.acknowledged: list[tuple[float, int]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        with self.app.app_context():
            try:
                while not self.stop.is_set():
                    event = AuditEvent(action="test.live", actor_id=self.actor_id)
                    db.session.add(event)
                    db.session.commit()
                    self.acknowledged.append((time.monotonic(), event.id))
            except BaseException as error:  # reported in the test's thread
                self.error = error
            finally:
                db.session.remove()


def _ids(engine: sa.Engine, action: str) -> set[int]:
    with engine.connect() as connection:
        query = sa.select(AuditEvent.id).where(AuditEvent.action == action)
        return set(connection.scalars(query))


def test_a_backup_during_writes_holds_every_write_acknowledged_before_it_began(
    app: Flask, world: World, empty_engine: sa.Engine, tmp_path: Path
):
    _coaching(world)
    admin_id = world.admin_ada.id
    db.session.remove()
    writer = Writer(app, admin_id)
    writer.start()
    while len(writer.acknowledged) < 20 and writer.is_alive():
        time.sleep(0.01)
    began = time.monotonic()
    summary = backup.backup(db.engine, tmp_path / "live.jsonl.gz")
    ended = time.monotonic()
    time.sleep(0.05)
    writer.stop.set()
    writer.join(timeout=10)
    assert writer.error is None

    restored = backup.restore(empty_engine, tmp_path / "live.jsonl.gz")

    before = {row_id for at, row_id in writer.acknowledged if at < began}
    after = {row_id for at, row_id in writer.acknowledged if at > ended}
    live = _ids(empty_engine, "test.live")
    assert writer.is_alive() is False and len(after) > 0  # it wrote on, around the backup
    assert before <= live
    assert not (after & live)  # one snapshot: nothing from after the backup ended
    assert restored.rows == summary.rows
    assert len(_ids(empty_engine, "test.preload")) == 2000
    with empty_engine.connect() as connection:
        notes = set(connection.scalars(sa.select(Observation.note)))
        kinds = set(connection.scalars(sa.select(Observation.kind)))
    assert "Note «strength» with ünïcode" in notes
    assert kinds == set(ObservationKind)
    assert backup.checksums(empty_engine.connect()).tables.keys() == summary.tables.keys()


def test_restore_refuses_a_database_that_holds_rows(
    app: Flask, world: World, empty_engine: sa.Engine, tmp_path: Path
):
    path = tmp_path / "b.jsonl.gz"
    backup.backup(db.engine, path)
    backup.restore(empty_engine, path)

    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(empty_engine, path)


def test_a_cut_short_backup_restores_nothing(
    app: Flask, world: World, empty_engine: sa.Engine, tmp_path: Path
):
    path = tmp_path / "whole.jsonl.gz"
    backup.backup(db.engine, path)
    with gzip.open(path, "rt", encoding="utf-8") as whole:
        lines = whole.read().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl.gz"
    with gzip.open(cut, "wt", encoding="utf-8") as out:
        out.writelines(lines[:-3])

    with pytest.raises(backup.BackupError, match="cut short"):
        backup.restore(empty_engine, cut)
    with empty_engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_restore_refuses_a_file_that_is_no_backup(
    app: Flask, empty_engine: sa.Engine, tmp_path: Path
):
    path = tmp_path / "notes.txt"
    path.write_text("not a backup")
    with pytest.raises(backup.BackupError, match="not a whole coachapp backup"):
        backup.restore(empty_engine, path)


# --- the commands, on databases `flask init` made -------------------------------------------


def _initialised(url: str) -> Flask:
    app = make_app(url)
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    return app


def _people(app: Flask, count: int) -> None:
    with app.app_context():
        from coachapp.models import Role

        db.session.add_all(User(name=f"Agent {n}", role=Role.AGENT) for n in range(count))
        db.session.add(AuditEvent(action="test.cli"))
        db.session.commit()
        db.session.remove()


def test_backup_and_restore_commands(tmp_path: Path):
    source = _initialised("sqlite:///" + str(tmp_path / "source.sqlite3"))
    _people(source, 30)
    file = tmp_path / "coachapp-backup.jsonl.gz"

    made = source.test_cli_runner().invoke(args=["backup", str(file)])
    assert made.exit_code == 0, made.output
    assert "31 rows" in made.output

    target = _initialised("sqlite:///" + str(tmp_path / "target.sqlite3"))
    restored = target.test_cli_runner().invoke(args=["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert "Restored 31 rows" in restored.output
    again = target.test_cli_runner().invoke(args=["restore", str(file)])
    assert again.exit_code == 1
    assert "not empty" in again.output


def test_copy_to_moves_an_sqlite_installation_to_postgresql(tmp_path: Path):
    if not POSTGRES_URL:
        pytest.skip("COACHAPP_TEST_POSTGRES_URL is not set")
    source = _initialised("sqlite:///" + str(tmp_path / "source.sqlite3"))
    _people(source, 25)
    with _throwaway_postgres() as url:
        target = _initialised(url)
        with target.app_context():
            db.engine.dispose()

        copied = source.test_cli_runner().invoke(args=["copy-to", url])

        assert copied.exit_code == 0, copied.output
        assert "Copied and verified 26 rows" in copied.output
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            assert connection.scalar(sa.select(sa.func.count()).select_from(User)) == 25
            # The id sequences moved past the copied ids: a new row does not collide.
            new_id = connection.scalar(
                sa.insert(AuditEvent).values(action="test.after").returning(AuditEvent.id)
            )
            assert new_id == 2
        engine.dispose()
        again = source.test_cli_runner().invoke(args=["copy-to", url])
        assert again.exit_code == 1
        assert "not empty" in again.output

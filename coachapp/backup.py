"""Backups that restore on any backend, and the move from SQLite to PostgreSQL.

A backup is one gzip file of JSON lines: a header (format, schema revision, the columns of every
table), then each table's rows, then a trailer with the row count and a checksum per table, so a
cut-short file is refused instead of half-restored. It is read from one consistent snapshot of a
live database: SQLite's online backup API copies the file first; PostgreSQL reads every table in
one REPEATABLE READ transaction. A restore goes into an empty database that `flask init` made,
in one transaction, tables in dependency order, then moves PostgreSQL's id sequences past the
restored ids.
"""

import base64
import enum
import gzip
import hashlib
import json
import sqlite3
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from coachapp.extensions import db

FORMAT = "coachapp-backup"
VERSION = 1
BATCH = 500
MODULUS = 2**256

#: Each table with its rows as JSON lines, as a backup file holds them.
Sections = Iterator[tuple[sa.Table, Iterator[str]]]


class BackupError(Exception):
    """A backup, restore or copy refused; the message says why."""


# --- values as JSON and back ---------------------------------------------------------------


def encode(value: Any) -> Any:
    """A column value as plain JSON; types JSON lacks get a one-key tag."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return {"$dt": value.astimezone(UTC).isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return {"$u": str(value)}
    if isinstance(value, bytes | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def decode(value: Any, column: sa.Column[Any]) -> Any:
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        match tag:
            case "$dt":
                return datetime.fromisoformat(text)
            case "$d":
                return date.fromisoformat(text)
            case "$u":
                return uuid.UUID(text)
            case "$b":
                return base64.b64decode(text)
        raise BackupError(f"unknown value tag {tag!r} in {column.table.name}.{column.name}")
    enum_class = getattr(column.type, "enum_class", None)
    if value is not None and enum_class is not None:
        return enum_class(value)
    return value


def _row_line(values: Iterable[Any]) -> str:
    return json.dumps([encode(v) for v in values], separators=(",", ":"), ensure_ascii=False)


@dataclass
class TableSum:
    """Row count and an order-free checksum (the sum of every row's SHA-256) of one table."""

    rows: int = 0
    total: int = 0

    def add(self, line: str) -> None:
        self.rows += 1
        self.total = (self.total + int(hashlib.sha256(line.encode()).hexdigest(), 16)) % MODULUS

    @property
    def checksum(self) -> str:
        return f"{self.total:064x}"


@dataclass
class Summary:
    tables: dict[str, TableSum] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


def tables(connection: sa.Connection | None = None) -> list[sa.Table]:
    """Every table of the models, parents before children; with a connection, only those its
    database has (a table whose migration has not run yet holds nothing to back up)."""
    every = list(db.metadata.sorted_tables)
    if connection is None:
        return every
    present = set(sa.inspect(connection).get_table_names())
    return [table for table in every if table.name in present]


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))


def read_tables(connection: sa.Connection) -> Sections:
    """Each table with its rows as JSON lines, read on `connection` (one snapshot)."""
    for table in tables(connection):
        query = sa.select(*table.columns).order_by(*table.primary_key.columns)
        result = connection.execute(query)
        yield table, (_row_line(row) for row in result)


def checksums(connection: sa.Connection) -> Summary:
    summary = Summary()
    for table, lines in read_tables(connection):
        total = summary.tables[table.name] = TableSum()
        for line in lines:
            total.add(line)
    return summary


# --- backup --------------------------------------------------------------------------------


def _write(connection: sa.Connection, out: IO[str]) -> Summary:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "revision": _revision(connection),
        "dialect": connection.dialect.name,
        "created_at": datetime.now(UTC).isoformat(),
        "tables": {t.name: [c.name for c in t.columns] for t in tables(connection)},
    }
    out.write(json.dumps(header) + "\n")
    summary = Summary()
    for table, lines in read_tables(connection):
        out.write(json.dumps({"table": table.name}) + "\n")
        total = summary.tables[table.name] = TableSum()
        for line in lines:
            total.add(line)
            out.write(line + "\n")
    trailer = {
        "end": True,
        "tables": {n: {"rows": t.rows, "checksum": t.checksum} for n, t in summary.tables.items()},
    }
    out.write(json.dumps(trailer) + "\n")
    return summary


def backup(engine: sa.Engine, path: Path) -> Summary:
    """Write a consistent backup of the live database behind `engine` to `path`."""
    partial = path.with_name(path.name + ".partial")
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        if engine.dialect.name == "sqlite":
            summary = _backup_sqlite(engine, out)
        else:
            with engine.connect().execution_options(
                isolation_level="REPEATABLE READ"
            ) as connection:
                if engine.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                summary = _write(connection, out)
                connection.rollback()
    partial.replace(path)  # a backup file that exists is a whole one
    return summary


def _backup_sqlite(engine: sa.Engine, out: IO[str]) -> Summary:
    with tempfile.TemporaryDirectory() as folder:
        snapshot_path = Path(folder) / "snapshot.sqlite3"
        source = engine.raw_connection()
        try:
            with sqlite3.connect(snapshot_path) as snapshot:
                source.driver_connection.backup(snapshot)  # type: ignore[union-attr]
            snapshot.close()
        finally:
            source.close()
        snapshot_engine = sa.create_engine(f"sqlite:///{snapshot_path}")
        try:
            with snapshot_engine.connect() as connection:
                return _write(connection, out)
        finally:
            snapshot_engine.dispose()


# --- restore -------------------------------------------------------------------------------


def check_empty(connection: sa.Connection, needed: Iterable[str]) -> None:
    """Refuse a database without the tables `needed`, or one that holds any row."""
    names = set(sa.inspect(connection).get_table_names())
    missing = [name for name in needed if name not in names]
    if missing:
        raise BackupError(
            "the database has no coachapp schema (missing: "
            + ", ".join(missing[:5])
            + "); run `flask --app app init` against it first"
        )
    for table in tables(connection):
        if connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1)):
            raise BackupError(
                f"the database is not empty (table {table.name} has rows); "
                "restore only into a new database that `flask --app app init` made"
            )


def _insert_all(
    connection: sa.Connection, tables_rows: Iterable[tuple[sa.Table, Iterable[str]]]
) -> Summary:
    summary = Summary()
    if connection.dialect.name == "sqlite":
        # Rows arrive parents first, but a row may point at a later row of its own table.
        connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    for table, lines in tables_rows:
        columns = list(table.columns)
        total = summary.tables[table.name] = TableSum()
        batch: list[dict[str, Any]] = []
        for line in lines:
            total.add(line)
            values = json.loads(line)
            batch.append({c.name: decode(v, c) for c, v in zip(columns, values, strict=True)})
            if len(batch) >= BATCH:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    if connection.dialect.name == "postgresql":
        reset_sequences(connection)
    return summary


def reset_sequences(connection: sa.Connection) -> None:
    """Move each id sequence past the highest id restored, so new rows do not collide."""
    for table in tables(connection):
        for column in table.primary_key.columns:
            if not (column.autoincrement is True or column.autoincrement == "auto"):
                continue
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = connection.scalar(
                sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": f'"{table.name}"', "column": column.name},
            )
            if sequence is None:
                continue
            highest = connection.scalar(sa.select(sa.func.max(column)))
            connection.execute(
                sa.text("SELECT setval(:sequence, :value, :called)"),
                {"sequence": sequence, "value": highest or 1, "called": highest is not None},
            )


def _read_backup(source: IO[str]) -> tuple[dict[str, Any], Sections]:
    header = json.loads(source.readline() or "{}")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise BackupError("this file is not a coachapp backup")
    known = {t.name: t for t in tables()}
    for name, columns in header["tables"].items():
        if name not in known or columns != [c.name for c in known[name].columns]:
            raise BackupError(
                f"the backup's table {name} does not match this version of coachapp; "
                "restore it with the version that wrote it, then upgrade"
            )
    trailer: dict[str, Any] = {}

    def sections() -> Sections:
        line = source.readline()
        while line:
            marker = json.loads(line)
            if marker.get("end"):
                trailer.update(marker)
                return
            table = known[marker["table"]]

            def rows() -> Iterator[str]:
                nonlocal line
                while True:
                    line = source.readline()
                    if not line or line.startswith("{"):
                        return
                    yield line.rstrip("\n")

            yield table, rows()
        raise BackupError("the backup file is cut short (no end marker): it cannot be restored")

    header["_trailer"] = trailer
    return header, sections()


def restore(engine: sa.Engine, path: Path) -> Summary:
    """Load the backup at `path` into the empty database behind `engine`, all or nothing."""
    if not path.is_file():
        raise BackupError(f"there is no file {path}")
    with gzip.open(path, "rt", encoding="utf-8") as source, engine.connect() as connection:
        try:
            header, sections = _read_backup(source)
            revision = _revision(connection)
            if header["revision"] != revision:
                raise BackupError(
                    f"the backup is of schema revision {header['revision']}, the database is "
                    f"at {revision}: restore with the coachapp version that made the backup"
                )
            check_empty(connection, header["tables"])
            summary = _insert_all(connection, sections)
            _verify(header["_trailer"].get("tables", {}), summary)
        except (OSError, EOFError, json.JSONDecodeError, KeyError) as error:
            # Leaving the block without a commit rolls every row back.
            raise BackupError(f"this file is not a whole coachapp backup ({error})") from error
        connection.commit()
    return summary


def _verify(expected: dict[str, dict[str, Any]], got: Summary) -> None:
    for name, total in got.tables.items():
        want = expected.get(name)
        if want is None or want["rows"] != total.rows or want["checksum"] != total.checksum:
            raise BackupError(f"table {name} does not match the backup's own checksum")


# --- moving up: SQLite to PostgreSQL ---------------------------------------------------------


def copy_to(source: sa.Engine, target: sa.Engine) -> Summary:
    """Copy every table into the empty target, then compare row counts and checksums."""
    with tempfile.TemporaryDirectory() as folder:
        # Through a backup of a snapshot, so the copy is consistent even while the app runs.
        path = Path(folder) / "copy.jsonl.gz"
        written = backup(source, path)
        copied = restore(target, path)
    with target.connect() as connection:
        found = checksums(connection)
    for name, total in written.tables.items():
        again = found.tables[name]
        if (again.rows, again.checksum) != (total.rows, total.checksum):
            raise BackupError(
                f"table {name}: {total.rows} rows copied but {again.rows} found, "
                "or their checksums differ"
            )
    return copied


# --- the flask commands --------------------------------------------------------------------


def register(app: Any) -> None:
    import click

    def _report(verb: str, summary: Summary) -> None:
        click.echo(f"{verb} {summary.rows} rows in {len(summary.tables)} tables.")

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(file: Path) -> None:
        """Write a consistent backup of the live database to FILE (gzip, JSON lines)."""
        _report(f"Backed up to {file}:", backup(db.engine, file))

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    def restore_command(file: Path) -> None:
        """Restore FILE into this empty database (run `flask init` on it first)."""
        try:
            _report("Restored", restore(db.engine, file))
        except BackupError as error:
            raise click.ClickException(str(error)) from None

    @app.cli.command("copy-to")
    @click.argument("url")
    def copy_to_command(url: str) -> None:
        """Copy this database into the empty database at URL (e.g. SQLite to PostgreSQL),
        then check every table's row count and checksum."""
        if url.startswith(("postgres://", "postgresql://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        target = sa.create_engine(url)
        try:
            summary = copy_to(db.engine, target)
        except (BackupError, sa.exc.SQLAlchemyError) as error:
            raise click.ClickException(str(error).splitlines()[0]) from None
        finally:
            target.dispose()
        _report("Copied and verified", summary)
        click.echo("Point COACHAPP_DATABASE_URL at the new database and restart the app.")

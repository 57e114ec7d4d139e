"""The migrations build, on an empty database, exactly the schema the models describe."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from coachapp.extensions import db
from tests.conftest import POSTGRES_URL, make_app

# One name per run: several test runs may share the PostgreSQL server.
THROWAWAY_DATABASE = f"coachapp_migrations_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    return "sqlite:///" + str(tmp_path / "migrated.sqlite3")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database of its own, created for the test and dropped after it."""
    if not POSTGRES_URL:
        pytest.skip("COACHAPP_TEST_POSTGRES_URL is not set")
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    drop = f"DROP DATABASE IF EXISTS {THROWAWAY_DATABASE} WITH (FORCE)"
    with admin.connect() as connection:
        connection.exec_driver_sql(drop)
        connection.exec_driver_sql(f"CREATE DATABASE {THROWAWAY_DATABASE}")
    try:
        yield (
            sa.make_url(POSTGRES_URL)
            .set(database=THROWAWAY_DATABASE)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(drop)
        admin.dispose()


def migrate_and_compare(app: Flask) -> list[object]:
    """Run `flask init` and return what autogenerate would still want to change."""
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "Database is up to date." in result.output
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "compare_server_default": True}
                )
                return compare_metadata(context, db.metadata)
        finally:
            db.engine.dispose()


def test_migrations_match_the_models_on_sqlite(sqlite_url: str):
    assert migrate_and_compare(make_app(sqlite_url)) == []


def test_migrations_match_the_models_on_postgresql(postgres_url: str):
    assert migrate_and_compare(make_app(postgres_url)) == []


def test_init_twice_changes_nothing(sqlite_url: str):
    app = make_app(sqlite_url)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    with app.app_context():
        tables = sa.inspect(db.engine).get_table_names()
        version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        db.session.remove()

    again = runner.invoke(args=["init"])

    assert again.exit_code == 0, again.output
    with app.app_context():
        assert sa.inspect(db.engine).get_table_names() == tables
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == version
        assert set(db.metadata.tables) <= set(tables)
        db.engine.dispose()

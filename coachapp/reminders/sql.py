"""INSERT ... ON CONFLICT in the dialect of the bound database (SQLite or PostgreSQL)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from coachapp.extensions import db


def upsert(table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An insert that supports on_conflict_do_nothing / on_conflict_do_update and RETURNING."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"no ON CONFLICT support written for {dialect}")

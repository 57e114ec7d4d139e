"""One unit of work per request: services add and flush, the view that changes state commits once.

A write and all its consequences (the ladder step, the inbox items, the audit row) land in one
commit when the view has answered, or not at all when anything on the way raises: the request's
session is then rolled back whole, so a replay of it finds nothing half-done and does it all.
"""

import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from coachapp.extensions import db

P = ParamSpec("P")
R = TypeVar("R")
RowT = TypeVar("RowT")


class DrawnAfterCommit(Generic[R]):
    """What a `commits` view whose writes are all done returns instead of its answer: the commit
    comes first, and `draw` builds the answer after it.

    SQLite has one write lock for the whole database, held from a request's first write to its
    commit, and every other save waits for it in sleeps of 1, 2, 5, 10 ms and more: drawing the
    capture screen's answer was 1.1 ms of the 1.4 ms its save held the lock. What the request
    loaded stays loaded, so the answer costs no statement more, as long as `draw` reaches it:
    the ORM session holds objects only weakly, and the view's own names are gone by then. A
    failure while drawing answers 500 with the write stored, as when an answer is lost on the
    way: the form keeps the entry's id, so sending it again is a replay, answered as the first
    time."""

    def __init__(self, draw: Callable[[], R]) -> None:
        self.draw = draw


def commits(view: Callable[P, R | DrawnAfterCommit[R]]) -> Callable[P, R]:
    """Commit what the view did once it has built its answer (a refusal it answers with, such as
    a failed sign-in's audit row, is kept too); an exception rolls all of it back at once, so
    that the error page is drawn from the database as it was. A `DrawnAfterCommit` answer is
    drawn after the commit instead; a row it changes raises rather than go unsaved."""

    @functools.wraps(view)
    def committing(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            answer = view(*args, **kwargs)
            _commit(keep_loaded=isinstance(answer, DrawnAfterCommit))
            if not isinstance(answer, DrawnAfterCommit):
                return answer
            drawn = answer.draw()
            if db.session.new or db.session.dirty or db.session.deleted:
                raise RuntimeError("the answer changed rows after the unit of work was committed")
            return drawn
        except BaseException:
            db.session.rollback()
            raise

    return committing


def _commit(keep_loaded: bool) -> None:
    """The request's one commit; `keep_loaded` keeps what it loaded for drawing the answer."""
    session = db.session()
    expire_on_commit = session.expire_on_commit
    session.expire_on_commit = expire_on_commit and not keep_loaded
    try:
        db.session.commit()
    finally:
        session.expire_on_commit = expire_on_commit


def insert_once(row: RowT, find_existing: Callable[[], RowT | None]) -> RowT:
    """Insert `row` as the first write of the request; if a concurrent request stored the same
    UUID first, return that one instead. That request committed its whole unit, so rolling this
    one back loses nothing: only call this before anything else was written."""
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = find_existing()
        if existing is None:
            raise
        return existing
    return row


def insert_new(
    model: type,
    values: dict[str, object],
    unique: list[str],
    *,
    only_if: Callable[[], sa.ColumnElement[bool]] | None = None,
    rows: Callable[[], sa.Select[Any]] | None = None,
    params: dict[str, object] | None = None,
) -> int | None:
    """INSERT ... ON CONFLICT (unique) DO NOTHING RETURNING id, on SQLite and PostgreSQL alike:
    the id of the new row, or None when a row with the same unique key exists (a replay, or a
    concurrent request that stored it first). One statement, and nothing to roll back when it
    loses: the unit of work goes on.

    `only_if` (a module-level function, so that the statement is built once) gives a condition
    the insert checks itself, INSERT ... SELECT ... WHERE it: None comes back too when it does
    not hold, and the caller tells the two apart. `values` then names every column but the key;
    the condition's own bind parameters come in `params`.

    `rows` (module-level too) gives the whole SELECT the row is taken from, INSERT ... SELECT
    it, for a row part of which comes from other tables: its columns are labelled with the
    table's column names, and `values` holds its bind parameters. None comes back too when it
    finds no row."""
    statement = _insert_once_statement(
        db.session.get_bind().dialect.name,
        model.__table__,  # type: ignore[attr-defined]
        tuple(unique),
        only_if,
        rows,
    )
    # Flushed first, as the session's own execute would (the row may refer to pending ones);
    # then on the session's connection: a Core statement needs none of the ORM's result handling.
    db.session.flush()
    return db.session.connection().execute(statement, {**values, **(params or {})}).scalar()


@functools.cache
def _insert_once_statement(
    dialect: str,
    table: sa.Table,
    unique: tuple[str, ...],
    only_if: Callable[[], sa.ColumnElement[bool]] | None,
    rows: Callable[[], sa.Select[Any]] | None,
) -> sa.Insert:
    """Built once per table (and condition): the values come as parameters, so the statement
    (and its place in SQLAlchemy's compiled cache) is the same for every save."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    if only_if is not None:
        names = [column.name for column in table.c if not column.primary_key]
        row = sa.select(*(sa.bindparam(name, type_=table.c[name].type) for name in names))
        statement = statement.from_select(names, row.where(only_if()))
    elif rows is not None:
        selected = rows()
        statement = statement.from_select(list(selected.selected_columns.keys()), selected)
    return statement.on_conflict_do_nothing(index_elements=list(unique)).returning(table.c.id)

"""The dashboard's summary rows, kept in the same unit of work as the write that changes them.

Three tables (coachapp.dashboard.models): dashboard_check_day (done checks counted per team, role
profile and day), dashboard_counted_check (what each done check added there, so it can be taken
back exactly) and dashboard_item_summary (per item, what R28, S56 and the curve read of its
checks). The dashboard sums those instead of reading every check; coachapp.dashboard.figures
reads the checks not done (few) from the checks themselves.

One entry point for the write path: **item_changed(item)**, called by coachapp.followups.service
wherever a check or an item changes (outcome recorded, slip recorded by a correction, correction
withdrawn, undo or change of an outcome, item deleted). It flushes, then recomputes the item's
rows from its checks and applies the difference: exact whatever the change was.

The same code fills everything from scratch (rebuild): the migration's backfill, a change of the
organisation's working days (the on-time windows depend on them), the benchmark's bulk load.
An agent moving team is noticed by a session hook (agents_moved), as every team move goes
through the ORM.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy import event

from coachapp.dashboard.models import CheckDay, CountedCheck, ItemSummary
from coachapp.extensions import db
from coachapp.models import Behaviour, Competency, FocusItem, FollowUp, Organisation, User
from coachapp.scheduling import Ladder, Outcome

COUNTS = ("due_done", "due_in_window", "late_closes", "late_done",
          "done", "observed", "partly", "no_chance")  # fmt: skip
OBSERVED = frozenset({Outcome.SUSTAINED.value, Outcome.PARTLY.value, Outcome.SLIPPED.value})
S56_START, S56_END = 49, 70
OUTCOME_DIGITS = {Outcome.SUSTAINED.value: 1, Outcome.PARTLY.value: 2, Outcome.SLIPPED.value: 3}
CHUNK = 5_000
#: session.info key: the items changed inside a deferred() block.
DEFERRED = "dashboard_deferred_items"


# --- the write path's one call ---------------------------------------------------------------


def item_changed(item: FocusItem, session: so.Session | None = None) -> None:
    """Bring the dashboard's summary rows of this item up to date, in the current transaction.

    EVERY change of a check's or an item's state must call this after making it: an outcome
    recorded (by a tap or by a correction's slip), a correction withdrawn, an outcome undone or
    changed, checks removed, the item deleted. It flushes first and recomputes the item's rows
    from its checks as stored, so calling it once after several changes is enough, and calling
    it when nothing changed costs two reads and writes nothing.
    """
    session = session or db.session()
    waiting = session.info.get(DEFERRED)
    if waiting is not None:
        waiting.add(item.id)
        return
    session.flush()
    _refresh(session, items=[item.id])


@contextmanager
def deferred(session: so.Session | None = None) -> Iterator[None]:
    """Refresh the items changed inside the block once, at its end, in the same transaction.

    For bulk writers (the demo data walks three months of checks): each item is recomputed from
    its final state in a few statements per thousand items instead of a few per change. The rows
    are as exact as after item_changed calls, since each refresh reads the checks as stored.
    """
    session = session or db.session()
    if DEFERRED in session.info:  # already deferred by an outer block
        yield
        return
    waiting: set[int] = set()
    session.info[DEFERRED] = waiting
    try:
        yield
        session.flush()
        items = sorted(waiting)
        for start in range(0, len(items), CHUNK):
            _refresh(session, items=items[start : start + CHUNK])
    finally:
        session.info.pop(DEFERRED, None)


def agents_moved(agent_ids: Iterable[int], session: so.Session | None = None) -> None:
    """The agents' team changed: move their checks' counts to their new team."""
    ids = sorted(set(agent_ids))
    if ids:
        _refresh(session or db.session(), agents=ids)


def rebuild(session: so.Session | None = None) -> None:
    """Fill all three tables from the checks (migration, working-days change, bulk loads).

    Three INSERT ... SELECT statements, so the database does the work whatever the number of
    checks: the counted checks (each one's window from the working days, as in figures), the
    day rows summed from those, the items' summaries from their done checks. `expected` is the
    same in Python, row by row; tests/test_dashboard_summaries.py compares the two.
    """
    from coachapp.dashboard.figures import _Sql, _window

    session = session or db.session()
    for table in (CheckDay, CountedCheck, ItemSummary):
        session.execute(sa.delete(table))
    sql = _Sql(session.get_bind().dialect.name)
    window = _window(_ladder(session), sql)
    done = _done_checks_query([])
    lateness = sql.days(FollowUp.observed_on, FollowUp.due_on)
    closes = window.late + 1
    if sql.sqlite:
        closes_on = sa.func.date(FollowUp.due_on, "+" + sa.cast(closes, sa.String) + " days")
    else:
        closes_on = FollowUp.due_on + closes
    counted = done.with_only_columns(
        FollowUp.id, FollowUp.focus_item_id, FocusItem.agent_id, User.team_id,
        Competency.role_profile_id, FollowUp.due_on, FollowUp.observed_on, closes_on,
        sa.and_(lateness >= -window.early, lateness <= window.late), FollowUp.outcome,
    ).order_by(None)  # fmt: skip
    c = CountedCheck.__table__.c
    session.execute(
        sa.insert(CountedCheck).from_select(
            [
                "followup_id",
                "focus_item_id",
                "agent_id",
                "team_id",
                "role_profile_id",
                "due_on",
                "done_on",
                "closes_on",
                "in_window",
                "outcome",
            ],
            counted,
        )  # fmt: skip
    )

    def flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.case((condition, 1), else_=0)

    def cell(day: Any, **values: Any) -> sa.Select:  # type: ignore[type-arg]
        # Every count labelled: a select keeps one copy of a repeated expression.
        counts = [sa.literal(values.get(name, 0)).label(name) if isinstance(values.get(name, 0),
                  int) else values[name].label(name) for name in COUNTS]  # fmt: skip
        return sa.select(c.team_id, c.role_profile_id, day.label("day"), *counts)

    late = c.done_on >= c.closes_on
    by_due = cell(c.due_on, due_done=1, due_in_window=flag(c.in_window))
    by_done = cell(
        c.done_on, late_done=flag(late), done=1, observed=flag(c.outcome.in_(OBSERVED)),
        partly=flag(c.outcome == Outcome.PARTLY.value),
        no_chance=flag(c.outcome == Outcome.NO_CHANCE.value),
    )  # fmt: skip
    by_close = cell(c.closes_on, late_closes=1).where(late)
    parts = sa.union_all(
        *(part.where(c.team_id.is_not(None)) for part in (by_due, by_done, by_close))
    )
    cells = parts.subquery()
    sums = [sa.func.sum(column) for column in list(cells.c)[3:]]
    session.execute(
        sa.insert(CheckDay).from_select(
            ["team_id", "role_profile_id", "day", *COUNTS],
            sa.select(*list(cells.c)[:3], *sums).group_by(*list(cells.c)[:3]),
        )
    )
    t = sql.days(FollowUp.observed_on, FocusItem.opened_on)
    observed = FollowUp.outcome.in_(OBSERVED)
    digit = sa.case(*((FollowUp.outcome == value, n) for value, n in OUTCOME_DIGITS.items()))
    key = sa.cast(t, sa.BigInteger) * 10_000_000 + FollowUp.sequence * 10 + digit
    slipped = FollowUp.outcome == Outcome.SLIPPED.value
    summary = (
        done.with_only_columns(
            FollowUp.focus_item_id,
            sa.func.min(sa.case((sa.and_(observed, t > 0), t))),
            sa.func.min(sa.case((sa.and_(slipped, t > 0), t))),
            sa.func.max(sa.case((sa.and_(observed, t > 0), t))),
            sa.func.max(sa.case((sa.and_(observed, t.between(S56_START, S56_END)), key))),
            sa.func.max(t),
            sa.func.sum(flag(slipped)),
        )
        .order_by(None)
        .group_by(FollowUp.focus_item_id)
    )
    session.execute(
        sa.insert(ItemSummary).from_select(
            [
                "focus_item_id",
                "first_observed",
                "first_slip",
                "last_observed",
                "s56_key",
                "last_done",
                "slips",
            ],
            summary,
        )  # fmt: skip
    )


def expected(session: so.Session | None = None) -> dict[str, set[tuple[Any, ...]]]:
    """What rebuild would store, as sets of rows (tests compare the tables with it)."""
    session = session or db.session()
    windows = _Windows(_ladder(session))
    cells: dict[tuple[int, int, date], Counter[str]] = defaultdict(Counter)
    counted, summaries = set(), set()
    for item_id, rows in _done_checks_by_item(session, None):
        for row in rows:
            check = _counted(row, windows)
            counted.add(tuple(sorted(check.items())))
            for key, name, n in _contributions(check):
                cells[key][name] += n
        summaries.add(tuple(sorted(_summary(item_id, rows).items())))
    days = {tuple(sorted(_cell_row(k, v).items())) for k, v in cells.items() if any(v.values())}
    return {"check_day": days, "counted_check": counted, "item_summary": summaries}


def stored(session: so.Session | None = None) -> dict[str, set[tuple[Any, ...]]]:
    """The three tables as sets of rows, zero cells left out (the shape of `expected`)."""
    session = session or db.session()

    def rows(model: Any) -> list[dict[str, Any]]:
        columns = [c.name for c in model.__table__.columns]
        return [
            dict(zip(columns, r, strict=True)) for r in session.execute(sa.select(model.__table__))
        ]

    days = {tuple(sorted(r.items())) for r in rows(CheckDay) if any(r[n] for n in COUNTS)}
    return {
        "check_day": days,
        "counted_check": {tuple(sorted(r.items())) for r in rows(CountedCheck)},
        "item_summary": {tuple(sorted(r.items())) for r in rows(ItemSummary)},
    }


# --- computing the rows ----------------------------------------------------------------------


class _Windows:
    """A check's on-time window (scheduling.on_time) as calendar days around its due date, per
    weekday and gap: working days repeat every week."""

    def __init__(self, ladder: Ladder) -> None:
        self.ladder = ladder
        self.cache: dict[tuple[int, int], tuple[int, int]] = {}

    def of(self, due_on: date, gap: int) -> tuple[int, int]:
        key = (due_on.weekday(), gap)
        found = self.cache.get(key)
        if found is None:
            early, late = gap // 10, max(1, -(-gap // 4))
            first = self.ladder.add_working_days(due_on, -early) if early else due_on
            last = self.ladder.add_working_days(due_on, late)
            found = self.cache[key] = ((due_on - first).days, (last - due_on).days)
        return found


def _ladder(session: so.Session) -> Ladder:
    """The organisation's ladder: the request's (loaded once) on the app's session."""
    if session is db.session():
        from coachapp.followups.service import current_ladder

        return current_ladder()
    days = session.scalar(sa.select(Organisation.working_days).limit(1))
    if days is None:
        return Ladder()
    return Ladder(working_days=frozenset(int(p) for p in days.split(",") if p.strip()))


@dataclass(frozen=True)
class _Check:
    id: int
    focus_item_id: int
    agent_id: int
    team_id: int | None
    role_profile_id: int
    opened_on: date
    sequence: int
    due_on: date
    gap: int
    done_on: date
    outcome: str


def _done_checks_query(where: list[sa.ColumnElement[bool]]) -> sa.Select:  # type: ignore[type-arg]
    return (
        sa.select(
            FollowUp.id,
            FollowUp.focus_item_id,
            FocusItem.agent_id,
            User.team_id,
            Competency.role_profile_id,
            FocusItem.opened_on,
            FollowUp.sequence,
            FollowUp.due_on,
            FollowUp.gap,
            FollowUp.observed_on,
            FollowUp.outcome,
        )
        .select_from(FollowUp)
        .join(FocusItem, FocusItem.id == FollowUp.focus_item_id)
        .join(User, User.id == FocusItem.agent_id)
        .join(Behaviour, Behaviour.id == FocusItem.behaviour_id)
        .join(Competency, Competency.id == Behaviour.competency_id)
        # Done, as the dashboard counts it: an outcome with its date.
        .where(FollowUp.outcome.is_not(None), FollowUp.observed_on.is_not(None), *where)
        .order_by(FollowUp.focus_item_id, FollowUp.sequence)
    )


def _done_checks_by_item(
    session: so.Session, where: list[sa.ColumnElement[bool]] | None
) -> Iterator[tuple[int, list[_Check]]]:
    result = session.execute(_done_checks_query(where or []).execution_options(yield_per=CHUNK))
    current: list[_Check] = []
    for row in result:
        outcome = row[10]
        check = _Check(*row[:10], outcome=getattr(outcome, "value", outcome))
        if current and current[0].focus_item_id != check.focus_item_id:
            yield current[0].focus_item_id, current
            current = []
        current.append(check)
    if current:
        yield current[0].focus_item_id, current


def _counted(check: _Check, windows: _Windows) -> dict[str, Any]:
    early, late = windows.of(check.due_on, check.gap)
    lateness = (check.done_on - check.due_on).days
    return {
        "followup_id": check.id,
        "focus_item_id": check.focus_item_id,
        "agent_id": check.agent_id,
        "team_id": check.team_id,
        "role_profile_id": check.role_profile_id,
        "due_on": check.due_on,
        "done_on": check.done_on,
        "closes_on": check.due_on + timedelta(days=late + 1),
        "in_window": -early <= lateness <= late,
        "outcome": check.outcome,
    }


def _contributions(counted: dict[str, Any]) -> Iterator[tuple[tuple[int, int, date], str, int]]:
    """What one counted check adds to dashboard_check_day: ((team, profile, day), column, n)."""
    team = counted["team_id"]
    if team is None:  # an agent without a team is in no one's scope
        return
    profile = counted["role_profile_id"]
    due, done, outcome = counted["due_on"], counted["done_on"], counted["outcome"]
    yield (team, profile, due), "due_done", 1
    if counted["in_window"]:
        yield (team, profile, due), "due_in_window", 1
    yield (team, profile, done), "done", 1
    if outcome in OBSERVED:
        yield (team, profile, done), "observed", 1
    if outcome == Outcome.PARTLY.value:
        yield (team, profile, done), "partly", 1
    if outcome == Outcome.NO_CHANCE.value:
        yield (team, profile, done), "no_chance", 1
    if done >= counted["closes_on"]:
        yield (team, profile, counted["closes_on"]), "late_closes", 1
        yield (team, profile, done), "late_done", 1


def _cell_row(key: tuple[int, int, date], values: Counter[str]) -> dict[str, Any]:
    team, profile, day = key
    return {"team_id": team, "role_profile_id": profile, "day": day,
            **{name: values.get(name, 0) for name in COUNTS}}  # fmt: skip


def _summary(item_id: int, checks: list[_Check]) -> dict[str, Any]:
    """What coachapp.dashboard.figures reads of an item's done checks (as its SQL did)."""
    first = first_slip = last = key = last_done = None
    slips = 0
    for check in checks:
        t = (check.done_on - check.opened_on).days
        last_done = t if last_done is None else max(last_done, t)
        slipped = check.outcome == Outcome.SLIPPED.value
        slips += slipped
        if check.outcome not in OBSERVED:
            continue
        if t > 0:
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
            if slipped:
                first_slip = t if first_slip is None else min(first_slip, t)
        if S56_START <= t <= S56_END:
            k = t * 10_000_000 + check.sequence * 10 + OUTCOME_DIGITS[check.outcome]
            key = k if key is None else max(key, k)
    return {
        "focus_item_id": item_id,
        "first_observed": first,
        "first_slip": first_slip,
        "last_observed": last,
        "s56_key": key,
        "last_done": last_done,
        "slips": slips,
    }


# --- applying a difference -------------------------------------------------------------------


def _refresh(session: so.Session, *, items: list[int] | None = None,
             agents: list[int] | None = None) -> None:  # fmt: skip
    """Recompute the rows of some items (or of all items of some agents) and apply the change."""
    if items is not None:
        where, old_where = (
            [FollowUp.focus_item_id.in_(items)],
            CountedCheck.focus_item_id.in_(items),
        )
    else:
        assert agents is not None
        where, old_where = [FocusItem.agent_id.in_(agents)], CountedCheck.agent_id.in_(agents)
    windows = _windows(session)
    new: dict[int, dict[str, Any]] = {}
    summaries: dict[int, dict[str, Any]] = {}
    for item_id, rows in _done_checks_by_item(session, where):
        for row in rows:
            new[row.id] = _counted(row, windows)
        summaries[item_id] = _summary(item_id, rows)
    columns = [c.name for c in CountedCheck.__table__.columns]
    old = {
        r[0]: dict(zip(columns, r, strict=True))
        for r in session.execute(sa.select(CountedCheck.__table__).where(old_where))
    }
    delta: dict[tuple[int, int, date], Counter[str]] = defaultdict(Counter)
    gone = [i for i, row in old.items() if new.get(i) != row]
    added = [row for i, row in new.items() if old.get(i) != row]
    for i in gone:
        for key, name, n in _contributions(old[i]):
            delta[key][name] -= n
    for row in added:
        for key, name, n in _contributions(row):
            delta[key][name] += n
    changes = [_cell_row(k, v) for k, v in delta.items() if any(v.values())]
    if changes:
        _add_to_days(session, changes)
    if gone:
        session.execute(sa.delete(CountedCheck).where(CountedCheck.followup_id.in_(gone)))
    if added:
        session.execute(sa.insert(CountedCheck), added)
    # The items' summaries: upserted when they have done checks, removed when no longer.
    item_ids = set(items) if items is not None else {r["focus_item_id"] for r in old.values()}
    item_ids |= set(summaries)
    if summaries:
        _upsert(session, ItemSummary, list(summaries.values()), ["focus_item_id"],
                [c for c in summaries[next(iter(summaries))] if c != "focus_item_id"])  # fmt: skip
    emptied = sorted(item_ids - set(summaries))
    if emptied and (old or items is None):
        session.execute(sa.delete(ItemSummary).where(ItemSummary.focus_item_id.in_(emptied)))


def _windows(session: so.Session) -> _Windows:
    """The window table of the request's ladder, kept on the session for its transaction."""
    ladder = _ladder(session)
    found = session.info.get("dashboard_windows")
    if found is None or found.ladder != ladder:
        found = session.info["dashboard_windows"] = _Windows(ladder)
    return found  # type: ignore[no-any-return]


def _upsert(session: so.Session, model: Any, rows: list[dict[str, Any]], keys: list[str],
            columns: list[str], *, add: bool = False) -> None:  # fmt: skip
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(model).values(rows)
    table = model.__table__
    values = {
        c: (table.c[c] + statement.excluded[c]) if add else statement.excluded[c] for c in columns
    }
    session.execute(statement.on_conflict_do_update(index_elements=keys, set_=values))


def _add_to_days(session: so.Session, rows: list[dict[str, Any]]) -> None:
    _upsert(session, CheckDay, rows, ["team_id", "role_profile_id", "day"], list(COUNTS), add=True)


# --- team moves ------------------------------------------------------------------------------


@event.listens_for(so.Session, "before_flush")
def _note_team_moves(session: so.Session, context: Any, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, User) and obj.id is not None:
            state = sa.inspect(obj)
            if state.attrs.team_id.history.has_changes() or state.attrs.team.history.has_changes():
                session.info.setdefault("dashboard_moved", set()).add(obj.id)


@event.listens_for(so.Session, "after_flush_postexec")
def _apply_team_moves(session: so.Session, context: Any) -> None:
    moved = session.info.pop("dashboard_moved", None)
    if moved:
        with session.no_autoflush:
            agents_moved(moved, session)


__all__ = ["agents_moved", "deferred", "expected", "item_changed", "rebuild", "stored"]

"""The dashboard's headline figures aggregated in SQL: a fixed number of statements whose answers
do not grow with the checks (per team, per item opened in the two periods, per due date).

Exactly the figures of coachapp.metrics, from the same definitions:

- A check's on-time window (scheduling.on_time) is computed in SQL from its due date, gap and
  the organisation's current working days. A window spans whole working days, and working days
  repeat every week, so its first and last day lie a fixed number of calendar days from the due
  date for each weekday of the due date and working-day count: a table of 56 digits worked
  out here from scheduling.Ladder.add_working_days and read in SQL with substr(). No stored
  copy that could go stale when the organisation changes its working days.
- Escalations read the item's lapse count (FocusItem.lapses, one per slip) and its checks done
  after the previous period, for how it stood then.
- Kaplan-Meier (R28, the curve), S56, time to graduation and the lapses read per item only its
  summary row (first observed day, first slip, last observed day, latest outcome on days
  49..70, closing day, slips) and its age: SQL groups the items by what each figure reads of
  them (R28: its time up to day 28; the curve: up to day 112; graduation: its closing day or
  age), and Python runs metrics.relapse_counted / curve_counted / sustained_counted /
  graduation_counted / lapses_counted over one representative per group with its count (the
  same integers into the same arithmetic as one entry per item): a few thousand rows for a
  year, not one per item, and Kaplan-Meier over (t, events, censored) counts.

tests/test_dashboard_figures.py checks every figure against coachapp.metrics over the full
records on both backends.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coachapp import metrics, scheduling
from coachapp.dashboard.models import CheckDay, ItemSummary
from coachapp.dashboard.service import (
    Filters,
    More,
    Options,
    Periods,
    Row,
    Tile,
    _item_filter,
    _median_detail,
    _obstacles,
    teams_in_scope,
)
from coachapp.extensions import db
from coachapp.metrics import SlipTime
from coachapp.models import (
    Behaviour,
    Competency,
    FocusItem,
    FollowUp,
    Role,
    SelfCheck,
    User,
    manager_teams,
)
from coachapp.scheduling import Ladder, Outcome

OBSERVED = tuple(o.value for o in metrics.OBSERVED)
WEEKS = 6
#: S56's window, as metrics.sustained_at's defaults.
S56_START, S56_END = 49, 70
#: Time to graduation's "closed by day" (metrics.time_to_graduation's default).
BY_DAY = 140
_OUTCOME_DIGITS = {Outcome.SUSTAINED.value: 1, Outcome.PARTLY.value: 2, Outcome.SLIPPED.value: 3}
_DIGIT_OUTCOMES = {digit: Outcome(value) for value, digit in _OUTCOME_DIGITS.items()}


# --- SQL building blocks ---------------------------------------------------------------------


class _Sql:
    """Date arithmetic for the backend in use (SQLite or PostgreSQL)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def day(self, value: date) -> sa.ColumnElement[Any]:
        return sa.literal(value, sa.Date)

    def days(self, a: sa.ColumnElement[Any], b: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """a - b in whole days."""
        if self.sqlite:
            return sa.cast(sa.func.julianday(a) - sa.func.julianday(b), sa.Integer)
        return sa.cast(a - b, sa.Integer)

    def days_since(self, a: sa.ColumnElement[Any], day: date) -> sa.ColumnElement[int]:
        """a - day in whole days (on SQLite against the day's Julian number, parsed once)."""
        if self.sqlite:
            julian = sa.literal_column(repr(day.toordinal() + 1721424.5))
            return sa.cast(sa.func.julianday(a) - julian, sa.Integer)
        return sa.cast(a - self.day(day), sa.Integer)

    def sunday_based_weekday(self, value: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """0 for Sunday .. 6 for Saturday, on both backends."""
        if self.sqlite:
            # From the Julian day (noon-based, so x.5 at midnight): cheaper than strftime.
            return sa.cast(sa.func.julianday(value) + 1.5, sa.Integer) % 7
        return sa.cast(sa.extract("dow", value), sa.Integer)

    def narrow(self, column: sa.ColumnElement[int], filters: Filters,
               viewer: User) -> sa.ColumnElement[int]:  # fmt: skip
        """On SQLite, `column + 0` when the filters keep most agents: it keeps SQLite from
        walking every agent's items through an index, so it scans the checks once instead
        (three times faster at two years' size). PostgreSQL plans that on its own."""
        from coachapp.models import Role

        broad = viewer.role != Role.MANAGER and all(
            getattr(filters, name) is None for name in ("team", "manager", "cohort", "behaviour")
        )
        return column + 0 if self.sqlite and broad else column


def _calendar_days(ladder: Ladder, steps: sa.ColumnElement[int], weekday: sa.ColumnElement[int],
                   forward: bool) -> sa.ColumnElement[int]:  # fmt: skip
    """Calendar days from a due date to `steps` (>= 1) working days after (or before) it.

    With w working days a week, that is 7 * ((steps - 1) // w) days plus the days to the r-th
    working day, r = (steps - 1) % w + 1, from the due date's weekday: at most 7, one digit of a
    table read off Ladder.add_working_days and indexed by 8 * weekday + r.
    """
    w = len(ladder.working_days)
    monday = date(2024, 1, 1)  # any Monday: the table depends on the weekday only
    digits = ["0"] * 56
    for python_weekday in range(7):
        start = monday + timedelta(days=python_weekday)
        sunday_based = (python_weekday + 1) % 7
        for r in range(1, w + 1):
            end = ladder.add_working_days(start, r if forward else -r)
            digits[sunday_based * 8 + r] = str(abs((end - start).days))
    table = sa.literal_column("'" + "".join(digits) + "'")  # digits only: no quoting needed
    position = weekday * 8 + (steps - 1) % w + 2  # substr counts from 1
    return 7 * ((steps - 1) // w) + sa.cast(sa.func.substr(table, position, 1), sa.Integer)


@dataclass(frozen=True)
class _Window:
    """A check's on-time window in SQL: days before and after its due date."""

    early: sa.ColumnElement[int]
    late: sa.ColumnElement[int]


def _window(ladder: Ladder, sql: _Sql) -> _Window:
    # scheduling.on_time: early = gap // 10 and late = max(1, ceil(gap / 4)) working days; a
    # gap is at least 1 day, so (gap + 3) // 4 is at least 1.
    weekday = sql.sunday_based_weekday(FollowUp.due_on)
    early_steps = FollowUp.gap // 10
    late_steps = (FollowUp.gap + 3) // 4
    early = sa.case(
        (early_steps == 0, 0),
        else_=_calendar_days(ladder, early_steps, weekday, forward=False),
    )
    return _Window(early=early, late=_calendar_days(ladder, late_steps, weekday, forward=True))


def _rows(query: sa.Executable) -> list[Any]:
    """A statement's rows through the session's connection (Core): the ORM's result handling
    costs a few microseconds a row, and 31,000 rows come back for a year."""
    return db.session.connection().execute(query).all()  # type: ignore[return-value]


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard page shows, in the shapes its template reads."""

    tiles: list[Tile]
    curve: metrics.Curve
    by_manager: list[Row]
    by_team: list[Row]
    by_competency: list[Row]
    by_behaviour: list[Row]
    load: metrics.Load
    more: More
    obstacles_raised: tuple[int, int]


def figures(viewer: User, filters: Filters, options: Options, periods: Periods,
            ladder: Ladder) -> Figures:  # fmt: skip
    """Five statements, whatever the size of the data (obstacles included)."""
    sql = _Sql(db.session.get_bind().dialect.name)
    teams, overdue_days = _per_team(viewer, filters, periods, ladder, sql)
    competency_of = {b.id: b.parent for b in options.behaviours if b.parent is not None}
    items = _recent_items(viewer, filters, periods, sql, competency_of)
    escalated_now, escalated_then = _escalations(viewer, filters, periods)
    waiting, raised_now, raised_before = _obstacles(viewer, filters, periods)

    total = _Sums()
    for sums in teams.values():
        total.add(sums)
    now = _on_time(total.now_counted, total.now_on_time, total.backlog, overdue_days)
    before = _on_time(total.before_counted, total.before_on_time, 0, [])
    current, previous = items.relapse[1], items.relapse[0]
    r28 = metrics.relapse_counted(((i.slip, n) for i, n in current), R28_DAYS)
    r28_before = metrics.relapse_counted(((i.slip, n) for i, n in previous), R28_DAYS)
    s56 = metrics.sustained_counted(items.sustained[1], as_of=periods.end, end=S56_END)
    s56_before = metrics.sustained_counted(items.sustained[0], as_of=periods.end, end=S56_END)
    tiles = [
        Tile("on_time", _l("Follow-ups on time"), now.value, before.value, now.counted,
             before.counted, True),
        Tile("backlog", _l("Overdue backlog"), now.backlog, total.backlog_then, None,
             None, False, detail=_median_detail(now.median_days_overdue)),
        Tile("r28", _l("Relapse by 4 weeks (R28)"), r28.value, r28_before.value,
             r28.included, r28_before.included, True),
        Tile("s56", _l("Sustained at 8 weeks (S56)"), s56.value, s56_before.value,
             s56.eligible, s56_before.eligible, True),
        Tile("escalated", _l("Escalations open"), escalated_now, escalated_then, None,
             None, False),
        Tile("obstacles", _l("Obstacles waiting"), waiting, None, None, None, False),
    ]  # fmt: skip
    more = More(
        graduation=metrics.graduation_counted(items.graduation, as_of=periods.end, by_day=BY_DAY),
        lapses=metrics.lapses_counted(items.lapses),
        outcomes=metrics.OutcomeRates(
            done=total.done,
            observed=total.observed,
            partly=total.partly,
            no_chance=total.no_chance,
            partly_rate=total.partly / total.observed if total.observed else None,
            no_chance_rate=total.no_chance / total.done if total.done else None,
        ),
        agreement=_agreement(viewer, filters, periods),
    )
    return Figures(
        tiles=tiles,
        curve=metrics.curve_counted(items.curve, horizon=HORIZON),
        by_manager=_on_time_rows(teams, options, "manager"),
        by_team=_on_time_rows(teams, options, "team"),
        by_competency=_relapse_rows(current, options, "competency"),
        by_behaviour=_relapse_rows(current, options, "behaviour"),
        load=_load(teams, options, periods.end),
        more=more,
        obstacles_raised=(raised_now, raised_before),
    )


def _on_time(counted: int, on_time: int, backlog: int, overdue: list[int]) -> metrics.OnTime:
    import statistics

    return metrics.OnTime(
        value=on_time / counted if counted else None,
        counted=counted,
        on_time=on_time,
        backlog=backlog,
        median_days_overdue=statistics.median(overdue) if overdue else None,
    )


# --- per team: the checks' counts ----------------------------------------------------------

_SUMS = (
    "now_counted", "now_on_time", "before_counted", "before_on_time", "backlog", "backlog_then",
    "done", "observed", "partly", "no_chance", "late",
    *(f"week{w}" for w in range(WEEKS)),
)  # fmt: skip


class _Sums:
    def __init__(self, values: tuple[int, ...] | None = None) -> None:
        for name, value in zip(_SUMS, values or (0,) * len(_SUMS), strict=True):
            setattr(self, name, int(value))

    def add(self, other: "_Sums") -> None:
        for name in _SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _scope(viewer: User, filters: Filters) -> list[sa.ColumnElement[bool]]:
    """_item_filter, where the viewer's scope is every team (trainers and admins) written as
    "has a team": the same agents (a team id always names a team), without a look-up per row."""
    conditions = _item_filter(viewer, filters)
    if viewer.role != Role.MANAGER:
        conditions[0] = User.team_id.is_not(None)
    return conditions


def _agreement(viewer: User, filters: Filters, periods: Periods) -> metrics.Agreement:
    """Self-check agreement over the observed checks done in the period: from the self-checks
    (few), so the checks' own statement need not join them."""
    query = (
        sa.select(sa.func.count(), _count(SelfCheck.rating == FollowUp.outcome))
        .select_from(SelfCheck)
        # "+ 0": read from the self-checks (few) first, never from the checks.
        .join(FollowUp, FollowUp.id == SelfCheck.followup_id + 0)
        .join(FocusItem, FocusItem.id == FollowUp.focus_item_id)
    )
    compared, matched = db.session.execute(
        _item_joins(query, filters).where(
            *_scope(viewer, filters),
            FollowUp.outcome.in_(OBSERVED),
            FollowUp.observed_on.between(periods.start, periods.end),
        )
    ).one()
    return metrics.Agreement(
        compared=compared, matched=matched, value=matched / compared if compared else None
    )


def _item_joins(query: sa.Select, filters: Filters) -> sa.Select:  # type: ignore[type-arg]
    """The joins _item_filter needs, and no more (query selects from FocusItem)."""
    query = query.join(User, User.id == FocusItem.agent_id)
    if filters.profile is not None or filters.competency is not None:
        query = query.join(Behaviour, Behaviour.id == FocusItem.behaviour_id)
    if filters.profile is not None:
        query = query.join(Competency, Competency.id == Behaviour.competency_id)
    return query


def _check_rows(viewer: User, filters: Filters, periods: Periods, ladder: Ladder,
                sql: _Sql) -> sa.CTE:  # fmt: skip
    """One row per check that a figure can count, its dates as days from today (negative in the
    past) and its window's reach, worked out once per row (a materialised CTE).

    Counted are the checks due since the previous period began, those not done and those done
    since the previous period ended: no figure reads any other check.
    """
    window = _window(ladder, sql)
    today = periods.end
    done = sa.and_(FollowUp.outcome.is_not(None), FollowUp.observed_on.is_not(None))
    query = sa.select(
        User.team_id.label("team_id"),
        sql.days_since(FollowUp.due_on, today).label("due"),
        sa.case((done, sql.days_since(FollowUp.observed_on, today))).label("done"),
        window.early.label("early"),
        window.late.label("late"),
        FollowUp.outcome.label("outcome"),
        sa.case((FocusItem.status != scheduling.CLOSED, 1), else_=0).label("open"),
    ).select_from(FollowUp)
    item_id = sql.narrow(FollowUp.focus_item_id, filters, viewer)
    query = _item_joins(query.join(FocusItem, FocusItem.id == item_id), filters)
    query = query.where(
        *_scope(viewer, filters),
        sa.or_(
            FollowUp.due_on >= sql.day(periods.previous_start),
            FollowUp.outcome.is_(None),
            FollowUp.observed_on > sql.day(periods.previous_end),
        ),
    )
    if summarised(filters):
        # The done checks are counted from the summary rows: here only those not done, through
        # the partial index of them (the same condition, word for word).
        query = query.where(sa.or_(FollowUp.outcome.is_(None), FollowUp.observed_on.is_(None)))
    return query.cte("checks").prefix_with("MATERIALIZED")


def summarised(filters: Filters) -> bool:
    """Whether the done checks' counts come from dashboard_check_day (per team, role profile and
    day): for every filter but a competency, a behaviour or a cohort, which read the checks
    themselves (they keep few)."""
    return filters.competency is None and filters.behaviour is None and filters.cohort is None


def _conditions(c: Any, periods: Periods) -> dict[str, sa.ColumnElement[bool]]:
    """The on-time, backlog, outcome and forward-load conditions of one check row."""
    today = periods.end

    def offset(day: date) -> int:
        return (day - today).days

    def done_by(day: date) -> sa.ColumnElement[bool]:
        return c.done <= offset(day)

    def not_done_by(day: date) -> sa.ColumnElement[bool]:
        return sa.or_(c.done.is_(None), c.done > offset(day))

    def closed(day: date) -> sa.ColumnElement[bool]:
        return c.due < offset(day) - c.late

    def due_in(start: date, end: date) -> sa.ColumnElement[bool]:
        return c.due.between(offset(start), offset(end))

    in_window = sa.and_(c.done - c.due >= -c.early, c.done - c.due <= c.late)
    done_now = c.done.between(offset(periods.start), 0)
    observed = c.outcome.in_(OBSERVED)
    pending = sa.and_(c.done.is_(None), c.open == 1)
    out = {
        "now_counted": sa.and_(due_in(periods.start, today), sa.or_(done_by(today), closed(today))),
        "now_on_time": sa.and_(due_in(periods.start, today), done_by(today), in_window),
        "before_counted": sa.and_(
            due_in(periods.previous_start, periods.previous_end),
            sa.or_(done_by(today), closed(today)),
        ),
        "before_on_time": sa.and_(
            due_in(periods.previous_start, periods.previous_end), done_by(today), in_window
        ),
        "backlog": sa.and_(not_done_by(today), closed(today)),
        "backlog_then": sa.and_(not_done_by(periods.previous_end), closed(periods.previous_end)),
        "done": done_now,
        "observed": sa.and_(done_now, observed),
        "partly": sa.and_(done_now, c.outcome == Outcome.PARTLY.value),
        "no_chance": sa.and_(done_now, c.outcome == Outcome.NO_CHANCE.value),
        "late": sa.and_(pending, c.due < 0),
    }
    for w in range(WEEKS):
        out[f"week{w}"] = sa.and_(pending, c.due.between(7 * w, 7 * w + 6))
    return out


#: The parts of the per-team statement: which sums each computes over which rows.
_PARTS: tuple[tuple[str, ...], ...] = (
    # Checks due in the two periods, by team: counted and on time in each period.
    ("now_counted", "now_on_time", "before_counted", "before_on_time"),
    # Checks not done, or done after the previous period: backlogs and the forward load.
    ("backlog", "backlog_then", "late", *(f"week{w}" for w in range(WEEKS))),
    # Checks done in the period, all teams together: outcomes and self-check agreement.
    ("done", "observed", "partly", "no_chance"),
)
#: The summary rows' parts (numbers 4 to 6): the done checks' share of each figure, from the
#: days in the current period, in the previous one, and after today.
_DAY_PARTS: dict[int, tuple[str, ...]] = {
    4: ("now_counted", "now_on_time", "done", "observed", "partly", "no_chance", "backlog_then"),
    5: ("before_counted", "before_on_time"),
    6: ("backlog_then",),
}
_NAMES = {**dict(enumerate(_PARTS)), **_DAY_PARTS}
_WIDTH = max(len(part) for part in _NAMES.values())


def _check_days(viewer: User, filters: Filters, periods: Periods) -> list[sa.Select]:  # type: ignore[type-arg]
    """The done checks' counts per team from dashboard_check_day (see CheckDay): on time and
    counted by due day, done and outcomes by the day done, and the done checks that were in the
    backlog at the end of the previous period (window closed by then, done after it).

    One part per range of days, each summing plain columns over the rows its WHERE keeps: a sum
    of CASEs per figure over every row read cost twice as much (SQLite, 36,000 rows for 52
    weeks).
    """
    d = CheckDay
    # The backlog then: late checks whose window had closed by then (late_closes on or before
    # it) not done by then (late_done after it). Every late check adds one to each, in its own
    # team and profile, so the sum up to that day equals the one after it, negated: the days
    # after the previous period are enough (those of the current period, and any after today).
    backlog_then = sa.func.sum(d.late_done - d.late_closes)
    now = [sa.func.sum(c) for c in (d.due_done, d.due_in_window, d.done, d.observed, d.partly,
                                    d.no_chance)] + [backlog_then]  # fmt: skip
    before = [sa.func.sum(d.due_done), sa.func.sum(d.due_in_window)]
    ranges = {
        4: (d.day.between(periods.start, periods.end), now),
        5: (d.day.between(periods.previous_start, periods.previous_end), before),
        6: (d.day > periods.end, [backlog_then]),
    }
    parts = []
    for number, (days, sums) in ranges.items():
        query = sa.select(sa.literal(number), d.team_id, sa.literal(0), *sums,
                          *[sa.literal(0)] * (_WIDTH - len(sums))).where(days)  # fmt: skip
        parts.append(_day_scope(query, viewer, filters).group_by(d.team_id))
    return parts


def _day_scope(query: sa.Select, viewer: User, filters: Filters) -> sa.Select:  # type: ignore[type-arg]
    """The viewer's scope and the filters, on dashboard_check_day."""
    d = CheckDay
    if viewer.role == Role.MANAGER:
        query = query.where(d.team_id.in_(teams_in_scope(viewer)))
    if filters.team is not None:
        query = query.where(d.team_id == filters.team)
    if filters.manager is not None:
        query = query.where(
            d.team_id.in_(
                sa.select(manager_teams.c.team_id).where(
                    manager_teams.c.manager_id == filters.manager
                )
            )
        )
    if filters.profile is not None:
        query = query.where(d.role_profile_id == filters.profile)
    return query


def _per_team(viewer: User, filters: Filters, periods: Periods, ladder: Ladder,
              sql: _Sql) -> tuple[dict[int | None, _Sums], list[int]]:  # fmt: skip
    """The checks' counts per team, and the days overdue of every check in the backlog (for its
    median, grouped by due date): one statement, its parts each reading only the check rows
    they count (each row's window is worked out once, in the materialised CTE)."""
    c = _check_rows(viewer, filters, periods, ladder, sql).c
    conditions = _conditions(c, periods)
    today = periods.end

    def offset(day: date) -> int:
        return (day - today).days

    def part(number: int, team: Any, names: tuple[str, ...]) -> sa.Select:  # type: ignore[type-arg]
        sums = [_count(conditions[name]) for name in names]
        padding = [sa.literal(0)] * (_WIDTH - len(sums))
        return sa.select(sa.literal(number), team, sa.literal(0), *sums, *padding)

    counted = (
        part(0, c.team_id, _PARTS[0])
        .where(c.due.between(offset(periods.previous_start), 0))
        .group_by(c.team_id)
    )
    open_rows = (
        part(1, c.team_id, _PARTS[1])
        .where(sa.or_(c.done.is_(None), c.done > offset(periods.previous_end)))
        .group_by(c.team_id)
    )
    parts = [counted, open_rows]
    if summarised(filters):
        parts.extend(_check_days(viewer, filters, periods))
    else:
        # All teams together (team None): only the totals show these.
        parts.append(part(2, sa.null(), _PARTS[2]).where(c.done.between(offset(periods.start), 0)))
    backlog = (
        sa.select(
            sa.literal(3), sa.literal(0), c.due, sa.func.count(), *[sa.literal(0)] * (_WIDTH - 1)
        )  # fmt: skip
        .where(conditions["backlog"])
        .group_by(c.due)
    )
    teams: dict[int | None, _Sums] = defaultdict(_Sums)
    overdue: list[int] = []
    for number, team_id, key, *values in _rows(sa.union_all(*parts, backlog)):
        if number == 3:
            overdue.extend([-key] * values[0])
            continue
        sums = teams[team_id]
        for name, value in zip(_NAMES[number], values, strict=False):
            setattr(sums, name, getattr(sums, name) + int(value))
    return dict(teams), sorted(overdue)


def _on_time_rows(teams: dict[int | None, _Sums], options: Options, by: str) -> list[Row]:
    """Follow-up completion per manager (the process they own) or per team; nothing per agent."""
    teams_of: dict[int, set[int]] = defaultdict(set)
    for manager_id, team_id in options.manages:
        teams_of[manager_id].add(team_id)
    groups = options.managers if by == "manager" else options.teams
    rows = []
    for group in groups:
        sums = _Sums()
        for team in teams_of[group.id] if by == "manager" else {group.id}:
            if team in teams:
                sums.add(teams[team])
        rate = _on_time(sums.now_counted, sums.now_on_time, sums.backlog, [])
        if rate.counted or rate.backlog:
            rows.append(Row(group.id, group.name, rate.value, rate.counted, str(rate.backlog)))
    return rows


def _load(teams: dict[int | None, _Sums], options: Options, today: date) -> metrics.Load:
    """Checks still to do per manager and week, for the coming six weeks (metrics.forward_load)."""
    teams_of: dict[int, set[int]] = defaultdict(set)
    for manager_id, team_id in options.manages:
        teams_of[manager_id].add(team_id)
    overdue: dict[object, int] = {}
    per_week: dict[object, tuple[int, ...]] = {}
    totals = [0] * WEEKS
    for manager in options.managers:
        sums = _Sums()
        for team in teams_of[manager.id]:
            if team in teams:
                sums.add(teams[team])
        overdue[manager.id] = sums.late
        per_week[manager.id] = tuple(getattr(sums, f"week{w}") for w in range(WEEKS))
        for w in range(WEEKS):
            totals[w] += per_week[manager.id][w]
    return metrics.Load(
        weeks=tuple(today + timedelta(days=7 * w) for w in range(WEEKS)),
        overdue=overdue,
        per_week=per_week,
        totals=tuple(totals),
    )


# --- per item opened in the two periods ----------------------------------------------------


class _Recent(NamedTuple):
    """What a relapse figure reads of an item opened in the two periods."""

    behaviour_id: int
    competency_id: int
    slip: SlipTime | None


class _Span(NamedTuple):
    """What time to graduation and the lapse counts read of an item (a metrics.ItemSpan)."""

    opened_on: date
    closed_on: date | None
    lapses: int

    @property
    def escalated(self) -> bool:
        return self.lapses >= scheduling.ESCALATION_LAPSES


@dataclass
class _Items:
    """The items opened in the two periods, as (representative, how many) pairs: items that
    every figure reading that part sees alike are one SQL group, and coachapp.metrics' counted
    functions (relapse_counted, curve_counted, ...) over the pairs equal its plain ones over
    the items themselves, in time proportional to the groups."""

    #: By period (1: current, 0: previous): R28 per behaviour and competency and in all.
    relapse: dict[int, list[tuple[_Recent, int]]]
    #: The current period's times to the first slip, up to the curve's horizon.
    curve: list[tuple[SlipTime | None, int]]
    #: By period: (opened_on, latest outcome on days 49..70) of the items old enough for S56.
    sustained: dict[int, list[tuple[tuple[date, Outcome | None], int]]]
    graduation: list[tuple[_Span, int]]
    lapses: list[tuple[_Span, int]]


#: R28's days and the curve's horizon: later times count alike (at risk then censored).
R28_DAYS, HORIZON = 28, 112


def _recent_items(viewer: User, filters: Filters, periods: Periods, sql: _Sql,
                  competency_of: dict[int, int]) -> _Items:  # fmt: skip
    """The items opened since the previous period began, grouped in SQL by what each figure
    reads of them: their summary row (coachapp.dashboard.summaries), kept as checks are
    recorded (none for an item without a done check). One statement; its rows do not grow
    with the items (at most a few hundred per behaviour and part).

    A behaviour's competency comes from the viewer's options (`competency_of`, the same
    behaviour-to-competency tree): joining the behaviours for it cost a look-up per item."""
    summary = ItemSummary
    age = -sql.days_since(FocusItem.opened_on, periods.end)
    time = sa.func.coalesce(summary.first_slip, summary.last_observed)
    event = sa.case((summary.first_slip.is_not(None), 1), else_=0)
    slips = sa.func.coalesce(summary.slips, 0)
    closed = sa.and_(FocusItem.status == scheduling.CLOSED, summary.last_done.is_not(None))
    query = (
        sa.select(
            sa.case(
                (FocusItem.opened_on >= sql.day(periods.start), 1),
                (FocusItem.opened_on <= sql.day(periods.previous_end), 0),
            ).label("current"),
            FocusItem.behaviour_id.label("behaviour_id"),
            age.label("age"),
            summary.first_observed.label("first"),
            time.label("time"),
            event.label("event"),
            (summary.s56_key % 10).label("digit"),
            sa.case((closed, summary.last_done)).label("closed"),
            sa.case((FocusItem.lapses >= slips, FocusItem.lapses), else_=slips).label("lapses"),
        )
        .select_from(FocusItem)
        .join(summary, summary.focus_item_id == FocusItem.id, isouter=True)
    )
    query = _item_joins(query, filters).where(
        *_scope(viewer, filters),
        FocusItem.opened_on.between(sql.day(periods.previous_start), sql.day(periods.end)),
    )
    i = query.cte("items").prefix_with("MATERIALIZED").c
    none = sa.literal(None, sa.Integer)

    def part(number: int, *keys: Any) -> sa.Select:  # type: ignore[type-arg]
        keys = keys + (none,) * (4 - len(keys))
        return sa.select(sa.literal(number), *keys, sa.func.count())

    def capped(days: int, value: Any, beyond: Any) -> Any:
        return sa.case((i.time > days, beyond), else_=value)

    # R28: an item first observed after day 28 is not re-observed (code -2), one never
    # observed after day 0 neither (code -1); times after day 28 are at risk alike (29).
    relapse_time = sa.case(
        (i.first.is_(None), -1), (i.first > R28_DAYS, -2), else_=capped(R28_DAYS, i.time, 29)
    )
    relapse_event = sa.case((i.first <= R28_DAYS, capped(R28_DAYS, i.event, 0)))
    relapse = part(0, i.current, i.behaviour_id, relapse_time, relapse_event)
    # The curve: times after its horizon are censored there (113 stands for any of them).
    curve_time = sa.case((i.first.is_(None), -1), else_=capped(HORIZON, i.time, HORIZON + 1))
    curve_event = sa.case((i.first.is_not(None), capped(HORIZON, i.event, 0)))
    curve = part(1, i.current, curve_time, curve_event).where(i.current == 1)
    sustained = part(2, i.current, i.digit).where(i.age >= S56_END)
    # Graduation: closed by today (closing day, from opening), else open at its age; and
    # whether old enough for the share closed by day 140 (which reads the closing day then).
    closed_by_today = sa.and_(i.closed.is_not(None), i.closed <= i.age)
    graduation = part(
        3,
        i.current,
        sa.case((closed_by_today, 1), else_=0),
        sa.case((closed_by_today, i.closed), else_=i.age),
        sa.case((i.age >= BY_DAY, 1), else_=0),
    ).where(i.current == 1)
    lapses = part(4, i.current, i.lapses, sa.case((i.closed.is_not(None), 1), else_=0)).where(
        i.current == 1
    )
    parts = [
        relapse.group_by(*relapse.selected_columns[1:5]),
        curve.group_by(*curve.selected_columns[1:4]),
        sustained.group_by(*sustained.selected_columns[1:3]),
        graduation.group_by(*graduation.selected_columns[1:5]),
        lapses.group_by(*lapses.selected_columns[1:4]),
    ]
    end = periods.end
    items = _Items(relapse={0: [], 1: []}, curve=[], sustained={0: [], 1: []}, graduation=[],
                   lapses=[])  # fmt: skip
    for number, current, a, b, c, count in _rows(sa.union_all(*parts)):
        if current is None:
            continue
        if number == 0:
            slip = _slip(b, c, far=SlipTime(R28_DAYS + 1, R28_DAYS + 1, False))
            items.relapse[current].append((_Recent(a, competency_of.get(a, 0), slip), count))
        elif number == 1:
            items.curve.append((_slip(a, b), count))
        elif number == 2:
            outcome = None if a is None else _DIGIT_OUTCOMES[a]
            items.sustained[current].append(((end - timedelta(days=S56_END), outcome), count))
        elif number == 3:
            if a:  # closed by today, b days after opening: old enough or not as it was
                opened = end - timedelta(days=max(b, BY_DAY) if c else max(b, 0))
                span = _Span(opened, opened + timedelta(days=b), 0)
            else:  # open today (or closed later, after day 140 when old enough), b days old
                span = _Span(end - timedelta(days=b), None, 0)
            items.graduation.append((span, count))
        else:
            items.lapses.append((_Span(end, end if b else None, a), count))
    return items


def _slip(time: int, event: int | None, far: SlipTime | None = None) -> SlipTime | None:
    """A group's SlipTime: -1 never observed after day 0, -2 first observed after day 28."""
    if time == -1:
        return None
    if time == -2:
        return far
    return SlipTime(1, time, bool(event))


def _relapse_rows(items: list[tuple[_Recent, int]], options: Options, by: str) -> list[Row]:
    """R28 per behaviour or competency, for the items opened in the period."""
    attribute = "behaviour_id" if by == "behaviour" else "competency_id"
    groups = options.behaviours if by == "behaviour" else options.competencies
    grouped: dict[int, list[tuple[SlipTime | None, int]]] = defaultdict(list)
    for item, count in items:
        grouped[getattr(item, attribute)].append((item.slip, count))
    rows = []
    for group in groups:
        if group.id not in grouped:
            continue
        result = metrics.relapse_counted(grouped[group.id], R28_DAYS)
        rows.append(Row(group.id, group.name, result.value, result.included,
                        str(result.not_reobserved)))  # fmt: skip
    return rows


# --- escalations ---------------------------------------------------------------------------


def _escalations(viewer: User, filters: Filters, periods: Periods) -> tuple[int, int]:
    """Escalated items still open now, and as they stood at the end of the previous period.

    Per item with three lapses or more (the item's lapse count, which the scheduler keeps: one
    per slip), its checks done after that day: its slips then were its lapses less those, and
    it was closed then when it is closed now and its closing check (its last check done) was
    not done after that day. Counted in SQL: two numbers come back, not a row per item (about
    3,000 at two years' size).
    """
    end = periods.previous_end
    later = sa.and_(
        FollowUp.focus_item_id == FocusItem.id,
        FollowUp.outcome.is_not(None),
        FollowUp.observed_on > end,
    )
    query = (
        sa.select(
            FocusItem.opened_on,
            FocusItem.status,
            FocusItem.lapses,
            _count(FollowUp.outcome == Outcome.SLIPPED.value),
            sa.func.count(FollowUp.id),
        )
        .select_from(FocusItem)
        .join(FollowUp, later, isouter=True)
    )
    query = _item_joins(query, filters).where(
        *_scope(viewer, filters), FocusItem.lapses >= scheduling.ESCALATION_LAPSES
    )
    e = query.group_by(FocusItem.id).subquery().c
    opened_on, status, lapses, later_slips, later_done = list(e)
    closed = status == scheduling.CLOSED
    closed_then = sa.and_(closed, later_done == 0)
    escalated_then = sa.and_(
        opened_on <= sa.literal(end, sa.Date),
        lapses - later_slips >= scheduling.ESCALATION_LAPSES,
        sa.not_(closed_then),
    )
    now, then = _rows(sa.select(_count(sa.not_(closed)), _count(escalated_then)))[0]
    return int(now), int(then)


__all__ = ["Figures", "figures"]

"""The dashboard's data: a few SQL statements whatever the size, turned into metrics records.

Scope: trainers and admins see the whole organisation, a manager the teams they manage. Filters
narrow the agents and items in SQL; the figures themselves come from coachapp.metrics.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coachapp import metrics, scheduling
from coachapp.dashboard.models import TrainingCohort, cohort_participant
from coachapp.extensions import db
from coachapp.metrics import CheckRecord, ItemRecord
from coachapp.models import (
    Behaviour,
    Competency,
    FocusItem,
    FollowUp,
    Role,
    RoleProfile,
    SelfCheck,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    Team,
    User,
    manager_teams,
)
from coachapp.parsing import parse_id, parse_int
from coachapp.scheduling import Ladder, Outcome

#: The periods a trainer can choose, in days; the previous period is the same length before it.
PERIODS: dict[int, object] = {
    28: _l("4 weeks"),
    91: _l("13 weeks"),
    182: _l("26 weeks"),
    364: _l("52 weeks"),
}
DEFAULT_PERIOD = 91
OPEN_SUGGESTIONS = (
    SuggestionStatus.NEW,
    SuggestionStatus.ACKNOWLEDGED,
    SuggestionStatus.BEING_FIXED,
)
FILTER_NAMES = ("team", "manager", "profile", "competency", "behaviour", "cohort")


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    id: int
    name: str
    #: For a competency its profile, for a behaviour its competency: what it narrows within.
    parent: int | None = None


@dataclass(frozen=True)
class Options:
    """What the viewer may filter by: only what lies in their scope."""

    teams: tuple[Option, ...]
    managers: tuple[Option, ...]
    profiles: tuple[Option, ...]
    competencies: tuple[Option, ...]
    behaviours: tuple[Option, ...]
    #: (manager id, team id) for every team in scope.
    manages: tuple[tuple[int, int], ...]
    #: Training cohorts (trainers and admins only).
    cohorts: tuple[Option, ...] = ()

    def of(self, kind: str) -> tuple[Option, ...]:
        """The choices of one filter, by its name in the URL."""
        return {
            "team": self.teams,
            "manager": self.managers,
            "profile": self.profiles,
            "competency": self.competencies,
            "behaviour": self.behaviours,
            "cohort": self.cohorts,
        }[kind]

    def ids(self, kind: str) -> set[int]:
        return {o.id for o in self.of(kind)}

    def name(self, kind: str, key: int) -> str:
        return next((o.name for o in self.of(kind) if o.id == key), "")


@dataclass(frozen=True)
class Filters:
    period: int = DEFAULT_PERIOD
    team: int | None = None
    manager: int | None = None
    profile: int | None = None
    competency: int | None = None
    behaviour: int | None = None
    cohort: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str], options: Options) -> "Filters":
        """Read the URL; a value that is not a choice the viewer has is dropped, never used."""
        values: dict[str, int | None] = {}
        for name in FILTER_NAMES:
            chosen = parse_id((args.get(name) or "").strip())
            values[name] = chosen if chosen in options.ids(name) else None
        period = parse_int((args.get("period") or "").strip())
        return cls(period=period if period in PERIODS else DEFAULT_PERIOD, **values)

    def args(self, **changes: int | None) -> dict[str, int]:
        """The filters as URL arguments, with `changes` applied (None removes one)."""
        values = {name: getattr(self, name) for name in FILTER_NAMES}
        values.update(changes)
        out = {name: value for name, value in values.items() if value is not None}
        if self.period != DEFAULT_PERIOD:
            out["period"] = self.period
        return out

    @property
    def active(self) -> bool:
        return any(getattr(self, name) is not None for name in FILTER_NAMES)


@dataclass(frozen=True)
class Periods:
    start: date
    end: date
    previous_start: date
    previous_end: date

    @classmethod
    def ending(cls, today: date, days: int) -> "Periods":
        start = today - timedelta(days=days - 1)
        previous_end = start - timedelta(days=1)
        return cls(start, today, previous_end - timedelta(days=days - 1), previous_end)


def teams_in_scope(viewer: User) -> sa.Select[tuple[int]]:
    query = sa.select(Team.id)
    if viewer.role == Role.MANAGER:
        query = query.join(manager_teams, manager_teams.c.team_id == Team.id).where(
            manager_teams.c.manager_id == viewer.id
        )
    return query


def options_for(viewer: User) -> Options:
    """Two statements (three for trainers and admins): the teams with their managers, the
    profiles down to behaviours, the training cohorts."""
    teams = teams_in_scope(viewer).subquery()
    rows = db.session.execute(
        sa.select(Team.id, Team.name, User.id, User.name)
        .join(manager_teams, manager_teams.c.team_id == Team.id, isouter=True)
        .join(User, User.id == manager_teams.c.manager_id, isouter=True)
        .where(Team.id.in_(sa.select(teams.c.id)), Team.archived_at.is_(None))
        .order_by(Team.name, User.name)
    ).all()
    team_options = {team_id: Option(team_id, name) for team_id, name, _, _ in rows}
    managers = {mid: Option(mid, mname) for _, _, mid, mname in rows if mid is not None}
    manages = tuple((mid, tid) for tid, _, mid, _ in rows if mid is not None)
    tree = db.session.execute(
        sa.select(
            RoleProfile.id,
            RoleProfile.name,
            Competency.id,
            Competency.name,
            Behaviour.id,
            Behaviour.name,
        )
        .join(Competency, Competency.role_profile_id == RoleProfile.id)
        .join(Behaviour, Behaviour.competency_id == Competency.id)
        .order_by(RoleProfile.name, Competency.position, Behaviour.position, Behaviour.id)
    ).all()
    profiles = {p: Option(p, pn) for p, pn, *_ in tree}
    competencies = {c: Option(c, cn, p) for p, _, c, cn, *_ in tree}
    behaviours = {b: Option(b, bn, c) for _, _, c, _, b, bn in tree}
    cohorts: tuple[Option, ...] = ()
    if viewer.role in (Role.TRAINER, Role.ADMIN):
        cohorts = tuple(
            Option(i, n)
            for i, n in db.session.execute(
                sa.select(TrainingCohort.id, TrainingCohort.name).order_by(
                    TrainingCohort.trained_on.desc(), TrainingCohort.id.desc()
                )
            )
        )
    return Options(
        teams=tuple(team_options.values()),
        managers=tuple(sorted(managers.values(), key=lambda o: o.name)),
        profiles=tuple(profiles.values()),
        competencies=tuple(competencies.values()),
        behaviours=tuple(behaviours.values()),
        manages=manages,
        cohorts=cohorts,
    )


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Item:
    """A focus item as the dashboard needs it: its record for the metrics and what groups it."""

    id: int
    agent_id: int
    agent_name: str
    team_id: int | None
    behaviour_id: int
    competency_id: int
    status: str
    record: ItemRecord
    #: The FollowUp ids of its checks, in the order of record.checks.
    check_ids: tuple[int, ...] = ()


@dataclass
class Data:
    items: list[Item]
    options: Options
    obstacles_waiting: int
    obstacles_raised: tuple[int, int]
    by_id: dict[int, Item] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {i.id: i for i in self.items}


def _item_filter(viewer: User, filters: Filters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [User.team_id.in_(teams_in_scope(viewer))]
    if filters.team is not None:
        conditions.append(User.team_id == filters.team)
    if filters.manager is not None:
        conditions.append(
            User.team_id.in_(
                sa.select(manager_teams.c.team_id).where(
                    manager_teams.c.manager_id == filters.manager
                )
            )
        )
    if filters.profile is not None:
        conditions.append(Competency.role_profile_id == filters.profile)
    if filters.competency is not None:
        conditions.append(Behaviour.competency_id == filters.competency)
    if filters.behaviour is not None:
        conditions.append(FocusItem.behaviour_id == filters.behaviour)
    if filters.cohort is not None:
        conditions.append(
            FocusItem.agent_id.in_(
                sa.select(cohort_participant.c.user_id).where(
                    cohort_participant.c.cohort_id == filters.cohort
                )
            )
        )
    return conditions


def _joined(query: sa.Select) -> sa.Select:  # type: ignore[type-arg]
    return (
        query.join(User, User.id == FocusItem.agent_id)
        .join(Behaviour, Behaviour.id == FocusItem.behaviour_id)
        .join(Competency, Competency.id == Behaviour.competency_id)
    )


def load(viewer: User, filters: Filters, options: Options, periods: Periods) -> Data:
    """Two statements for the items and their checks, one for the obstacles; the number does
    not grow with the data.

    Loaded: items opened since the previous period began, with all their checks; every item not
    closed and every item with a check due since then, with its pending check and the checks
    due or done since then (what the on-time rate and the backlogs read).
    """
    since = periods.previous_start
    relevant = sa.or_(
        FocusItem.opened_on >= since,
        FocusItem.status != scheduling.CLOSED,
        FocusItem.id.in_(sa.select(FollowUp.focus_item_id).where(FollowUp.due_on >= since)),
    )
    conditions = [*_item_filter(viewer, filters), relevant]
    item_rows = db.session.execute(
        _joined(
            sa.select(
                FocusItem.id,
                FocusItem.agent_id,
                User.name,
                User.team_id,
                FocusItem.behaviour_id,
                Behaviour.competency_id,
                FocusItem.opened_on,
                FocusItem.status,
                FocusItem.lapses,
            ).select_from(FocusItem)
        )
        .where(*conditions)
        .order_by(FocusItem.id)
    ).all()
    item_ids = _joined(sa.select(FocusItem.id).select_from(FocusItem)).where(*conditions)
    check_rows = db.session.execute(
        sa.select(
            FollowUp.focus_item_id,
            FollowUp.id,
            FollowUp.due_on,
            FollowUp.gap,
            FollowUp.observed_on,
            FollowUp.outcome,
            SelfCheck.rating,
        )
        .join(SelfCheck, SelfCheck.followup_id == FollowUp.id, isouter=True)
        .join(FocusItem, FocusItem.id == FollowUp.focus_item_id)
        .where(
            FollowUp.focus_item_id.in_(item_ids),
            # An older open item brings its pending check and its recent history only; its
            # earlier slips come with the item's lapse count.
            sa.or_(
                FocusItem.opened_on >= since,
                FollowUp.due_on >= since,
                FollowUp.observed_on >= since,
                FollowUp.outcome.is_(None),
            ),
        )
        .order_by(FollowUp.focus_item_id, FollowUp.sequence)
    ).all()
    checks: dict[int, list[tuple[int, CheckRecord]]] = defaultdict(list)
    for item_id, check_id, due_on, gap, observed_on, outcome, rating in check_rows:
        done = observed_on if outcome is not None else None
        checks[item_id].append(
            (
                check_id,
                CheckRecord(
                    due_on=due_on,
                    gap=gap,
                    done_on=done,
                    outcome=Outcome(outcome) if outcome is not None else None,
                    self_rating=Outcome(rating) if rating is not None else None,
                ),
            )
        )
    items = []
    for row in item_rows:
        item_id, agent_id, name, team_id, behaviour_id, competency_id, opened, status, lapses = row
        own = checks.get(item_id, [])
        done = [c.done_on for _, c in own if c.done_on is not None]
        closed_on = max(done) if status == scheduling.CLOSED and done else None
        slips = sum(1 for _, c in own if c.done_on is not None and c.outcome == Outcome.SLIPPED)
        record = ItemRecord(
            opened_on=opened,
            checks=tuple(c for _, c in own),
            closed_on=closed_on,
            earlier_slips=max(0, lapses - slips),
        )
        items.append(
            Item(
                id=item_id,
                agent_id=agent_id,
                agent_name=name,
                team_id=team_id,
                behaviour_id=behaviour_id,
                competency_id=competency_id,
                status=status,
                record=record,
                check_ids=tuple(i for i, _ in own),
            )
        )
    waiting, this, before = _obstacles(viewer, filters, periods)
    return Data(
        items=items, options=options, obstacles_waiting=waiting, obstacles_raised=(this, before)
    )


def _obstacles(viewer: User, filters: Filters, periods: Periods) -> tuple[int, int, int]:
    """Obstacles still open, and raised this period and the one before: one statement."""
    query = sa.select(
        sa.func.count().filter(Suggestion.status.in_(OPEN_SUGGESTIONS)),
        sa.func.count().filter(sa.func.date(Suggestion.created_at) >= periods.start),
        sa.func.count().filter(
            sa.func.date(Suggestion.created_at).between(
                periods.previous_start, periods.previous_end
            )
        ),
    ).where(Suggestion.kind == SuggestionKind.OBSTACLE)
    if viewer.role == Role.MANAGER or filters.team is not None or filters.manager is not None:
        # An obstacle belongs to the team of the agent who raised it, or to its manager's teams.
        authors = sa.select(User.id).where(
            sa.or_(
                User.team_id.in_(_team_filter(viewer, filters)),
                User.id.in_(
                    sa.select(manager_teams.c.manager_id).where(
                        manager_teams.c.team_id.in_(_team_filter(viewer, filters))
                    )
                ),
            )
        )
        query = query.where(Suggestion.author_id.in_(authors))
    waiting, this, before = db.session.execute(query).one()
    return waiting or 0, this or 0, before or 0


def _team_filter(viewer: User, filters: Filters) -> sa.Select[tuple[int]]:
    query = teams_in_scope(viewer)
    if filters.team is not None:
        query = query.where(Team.id == filters.team)
    if filters.manager is not None:
        query = query.where(
            Team.id.in_(
                sa.select(manager_teams.c.team_id).where(
                    manager_teams.c.manager_id == filters.manager
                )
            )
        )
    return query


# --- figures -------------------------------------------------------------------------------


def as_of(record: ItemRecord, day: date) -> ItemRecord | None:
    """The record as it stood at the end of `day`: later checks pending, a later closing undone."""
    if record.opened_on > day:
        return None
    checks = tuple(
        c if c.done_on is None or c.done_on <= day else replace(c, done_on=None, outcome=None)
        for c in record.checks
        if c.due_on <= day or c.done_on is None or c.done_on <= day
    )
    closed = record.closed_on if record.closed_on is not None and record.closed_on <= day else None
    return replace(record, checks=checks, closed_on=closed)


def opened_between(items: Iterable[Item], start: date, end: date) -> list[Item]:
    return [i for i in items if start <= i.record.opened_on <= end]


def all_checks(items: Iterable[Item]) -> list[CheckRecord]:
    return [c for i in items for c in i.record.checks]


@dataclass(frozen=True)
class Tile:
    key: str
    label: object
    #: A share (0..1) or a count, and the same for the previous period.
    value: float | int | None
    previous: float | int | None
    #: The count the figure rests on (None for plain counts).
    n: int | None
    previous_n: int | None
    is_rate: bool
    detail: str = ""

    @property
    def enough(self) -> bool:
        return not self.is_rate or (self.n is not None and metrics.enough(self.n))

    @property
    def previous_enough(self) -> bool:
        return not self.is_rate or (self.previous_n is not None and metrics.enough(self.previous_n))


def tiles(data: Data, ladder: Ladder, periods: Periods) -> list[Tile]:
    items = data.items
    checks = all_checks(items)
    now = metrics.on_time_rate(
        checks, ladder, start=periods.start, end=periods.end, as_of=periods.end
    )
    before = metrics.on_time_rate(
        checks,
        ladder,
        start=periods.previous_start,
        end=periods.previous_end,
        as_of=periods.end,
    )
    backlog_then = metrics.on_time_rate(
        checks, ladder, start=periods.end, end=periods.end, as_of=periods.previous_end
    )
    current = [i.record for i in opened_between(items, periods.start, periods.end)]
    previous = [
        i.record for i in opened_between(items, periods.previous_start, periods.previous_end)
    ]
    r28, r28_before = metrics.relapse_at(current), metrics.relapse_at(previous)
    s56 = metrics.sustained_at(current, as_of=periods.end)
    s56_before = metrics.sustained_at(previous, as_of=periods.end)
    escalated = metrics.lapses([i.record for i in items])
    then = [r for i in items if (r := as_of(i.record, periods.previous_end)) is not None]
    escalated_then = metrics.lapses(then)
    return [
        Tile("on_time", _l("Follow-ups on time"), now.value, before.value, now.counted,
             before.counted, True),
        Tile("backlog", _l("Overdue backlog"), now.backlog, backlog_then.backlog, None, None,
             False, detail=_median_detail(now.median_days_overdue)),
        Tile("r28", _l("Relapse by 4 weeks (R28)"), r28.value, r28_before.value, r28.included,
             r28_before.included, True),
        Tile("s56", _l("Sustained at 8 weeks (S56)"), s56.value, s56_before.value, s56.eligible,
             s56_before.eligible, True),
        Tile("escalated", _l("Escalations open"), escalated.escalated_open,
             escalated_then.escalated_open, None, None, False),
        Tile("obstacles", _l("Obstacles waiting"), data.obstacles_waiting, None, None, None,
             False),
    ]  # fmt: skip


def _median_detail(days: float | None) -> str:
    from flask_babel import gettext

    if days is None:
        return ""
    return gettext("median %(days)s days overdue", days=f"{days:g}")


@dataclass(frozen=True)
class Row:
    """One bar of a chart: a share with the count it rests on, and where it drills down to."""

    key: int
    label: str
    value: float | None
    n: int
    detail: str = ""

    @property
    def enough(self) -> bool:
        return metrics.enough(self.n)


def _checks_by_team(items: Iterable[Item]) -> dict[int | None, list[CheckRecord]]:
    grouped: dict[int | None, list[CheckRecord]] = defaultdict(list)
    for item in items:
        grouped[item.team_id].extend(item.record.checks)
    return grouped


def on_time_by(data: Data, ladder: Ladder, periods: Periods, by: str) -> list[Row]:
    """Follow-up completion per manager (the process they own) or per team; nothing per agent."""
    teams_of: dict[int, set[int]] = defaultdict(set)
    for manager_id, team_id in data.options.manages:
        teams_of[manager_id].add(team_id)
    by_team = _checks_by_team(data.items)
    groups = data.options.managers if by == "manager" else data.options.teams
    rows = []
    for group in groups:
        teams = teams_of[group.id] if by == "manager" else {group.id}
        checks = [c for team in teams for c in by_team.get(team, [])]
        rate = metrics.on_time_rate(
            checks, ladder, start=periods.start, end=periods.end, as_of=periods.end
        )
        if rate.counted or rate.backlog:
            rows.append(Row(group.id, group.name, rate.value, rate.counted, str(rate.backlog)))
    return rows


def relapse_by(data: Data, periods: Periods, by: str) -> list[Row]:
    """R28 per behaviour or competency, for the items opened in the period."""
    attribute = "behaviour_id" if by == "behaviour" else "competency_id"
    groups = data.options.behaviours if by == "behaviour" else data.options.competencies
    grouped: dict[int, list[ItemRecord]] = defaultdict(list)
    for item in opened_between(data.items, periods.start, periods.end):
        grouped[getattr(item, attribute)].append(item.record)
    rows = []
    for group in groups:
        if group.id not in grouped:
            continue
        result = metrics.relapse_at(grouped[group.id])
        rows.append(Row(group.id, group.name, result.value, result.included,
                        str(result.not_reobserved)))  # fmt: skip
    return rows


def forward_load(data: Data, today: date) -> tuple[metrics.Load, list[Option]]:
    """Checks still to do per manager and week, for the coming six weeks."""
    teams_of: dict[int, set[int]] = defaultdict(set)
    for manager_id, team_id in data.options.manages:
        teams_of[manager_id].add(team_id)
    by_team = _checks_by_team(i for i in data.items if i.status != scheduling.CLOSED)
    by_manager = {
        m.id: [c for team in teams_of[m.id] for c in by_team.get(team, [])]
        for m in data.options.managers
    }
    return metrics.forward_load(by_manager, as_of=today), list(data.options.managers)


@dataclass(frozen=True)
class More:
    graduation: metrics.Graduation
    lapses: metrics.Lapses
    outcomes: metrics.OutcomeRates
    agreement: metrics.Agreement


def more_figures(data: Data, periods: Periods) -> More:
    current = opened_between(data.items, periods.start, periods.end)
    in_period = [
        c
        for i in data.items
        for c in i.record.checks
        if c.done_on is not None and periods.start <= c.done_on <= periods.end
    ]
    return More(
        graduation=metrics.time_to_graduation([i.record for i in current], as_of=periods.end),
        lapses=metrics.lapses([i.record for i in current]),
        outcomes=metrics.outcome_rates(in_period),
        agreement=metrics.self_check_agreement(in_period),
    )


def curve(data: Data, periods: Periods) -> metrics.Curve:
    records = [i.record for i in opened_between(data.items, periods.start, periods.end)]
    return metrics.survival_curve(records, horizon=112)


# --- drill-down ----------------------------------------------------------------------------

FIGURES: dict[str, object] = {
    "on_time": _l("Follow-ups due in the period"),
    "backlog": _l("Follow-ups overdue past their window"),
    "r28": _l("Items opened in the period: relapse by 4 weeks"),
    "s56": _l("Items opened in the period: sustained at 8 weeks"),
    "escalated": _l("Escalated items still open"),
}


@dataclass(frozen=True)
class DrillRow:
    item: Item
    detail: str
    #: The check the row is about, for check figures.
    check: CheckRecord | None = None


def drill(data: Data, ladder: Ladder, periods: Periods, figure: str) -> list[DrillRow]:
    """The items (or checks) behind a figure, by agent name then date: never by a score."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    rows: list[DrillRow] = []
    for item in data.items:
        record = item.record
        if figure in ("on_time", "backlog"):
            for check in record.checks:
                row = _check_row(item, check, ladder, periods, figure)
                if row is not None:
                    rows.append(row)
            continue
        if not periods.start <= record.opened_on <= periods.end and figure in ("r28", "s56"):
            continue
        if figure == "r28":
            result = metrics.relapse_at([record])
            if result.events:
                detail = _("slipped by day 28")
            elif result.censored:
                detail = _("no slip while observed (last seen before day 28)")
            elif result.at_risk:
                detail = _("holding on day 28")
            else:
                detail = _("not re-observed in days 1 to 28")
            rows.append(DrillRow(item, detail))
        elif figure == "s56":
            result = metrics.sustained_at([record], as_of=periods.end)
            if result.sustained:
                rows.append(DrillRow(item, _("sustained at 8 weeks")))
            elif result.eligible:
                rows.append(DrillRow(item, _("not sustained at 8 weeks")))
            elif result.not_reobserved:
                rows.append(DrillRow(item, _("not re-observed in days 49 to 70")))
        elif figure == "escalated" and record.escalated and record.closed_on is None:
            rows.append(DrillRow(item, ngettext("%(num)d slip", "%(num)d slips", record.lapses)))
    return sorted(rows, key=lambda r: (r.item.agent_name, r.item.record.opened_on, r.item.id))


def _check_row(
    item: Item, check: CheckRecord, ladder: Ladder, periods: Periods, figure: str
) -> DrillRow | None:
    from flask_babel import gettext as _
    from flask_babel import ngettext

    if figure == "backlog":
        if metrics.overdue(ladder, check, periods.end):
            days = (periods.end - check.due_on).days
            late = ngettext("%(num)d day overdue", "%(num)d days overdue", days)
            return DrillRow(item, late, check)
        return None
    if not periods.start <= check.due_on <= periods.end:
        return None
    result = metrics.on_time_rate([check], ladder, start=check.due_on, end=check.due_on,
                                  as_of=periods.end)  # fmt: skip
    if not result.counted:
        return None
    return DrillRow(item, _("on time") if result.on_time else _("not on time"), check)

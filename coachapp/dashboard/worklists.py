"""Worklists: escalated items, follow-ups overdue past their window, and coverage gaps.

Each entry can be marked handled with a note; the agent's managers read it on the same page.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort

from coachapp import metrics, scheduling
from coachapp.clock import zone
from coachapp.dashboard.models import COVERAGE, ESCALATED, OVERDUE, WorklistMark
from coachapp.dashboard.service import Options, teams_in_scope
from coachapp.dates import format_date
from coachapp.extensions import db
from coachapp.metrics import CheckRecord
from coachapp.models import (
    Behaviour,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    Role,
    ShadowSession,
    User,
)
from coachapp.scheduling import Ladder

#: Obstacles shown beside an escalated item, newest first.
OBSTACLES_SHOWN = 3


@dataclass
class Entry:
    worklist: str
    agent_id: int
    agent_name: str
    team_id: int | None
    focus_item_id: int | None = None
    behaviour_name: str = ""
    detail: str = ""
    behaviour_id: int | None = None
    marks: list[WorklistMark] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.worklist}-{self.focus_item_id or 'a'}-{self.agent_id}"


@dataclass
class Worklists:
    escalated: list[Entry]
    #: Per manager (id, name): the overdue entries of their teams.
    overdue: list[tuple[str, list[Entry]]]
    #: Distinct overdue entries (a team with two managers lists its entries under both).
    overdue_total: int
    not_shadowed: list[Entry]
    no_checks: list[Entry]
    obstacles: dict[int, list[Observation]]
    obstacle_counts: dict[int, int]
    coverage_days: int


def _agents(viewer: User) -> sa.Select[tuple[int]]:
    return sa.select(User.id).where(
        User.role == Role.AGENT, User.active.is_(True), User.team_id.in_(teams_in_scope(viewer))
    )


def build(
    viewer: User, options: Options, *, today: date, ladder: Ladder, coverage_days: int
) -> Worklists:
    """Five statements: open items with their pending check, obstacles, shadowing, marks."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    rows = db.session.execute(
        sa.select(
            FocusItem.id,
            FocusItem.agent_id,
            User.name,
            User.team_id,
            FocusItem.behaviour_id,
            Behaviour.name,
            FocusItem.escalated,
            FocusItem.lapses,
            FollowUp.due_on,
            FollowUp.gap,
        )
        .join(User, User.id == FocusItem.agent_id)
        .join(Behaviour, Behaviour.id == FocusItem.behaviour_id)
        .join(
            FollowUp,
            sa.and_(FollowUp.focus_item_id == FocusItem.id, FollowUp.outcome.is_(None)),
            isouter=True,
        )
        .where(FocusItem.status != scheduling.CLOSED, FocusItem.agent_id.in_(_agents(viewer)))
        .order_by(User.name, FocusItem.opened_on, FocusItem.id)
    ).all()
    escalated: list[Entry] = []
    overdue: list[Entry] = []
    stale: dict[int, Entry] = {}
    behaviours: set[int] = set()
    open_agents: set[int] = set()
    for (
        item_id,
        agent_id,
        name,
        team_id,
        behaviour_id,
        behaviour,
        is_escalated,
        lapses,
        due,
        gap,
    ) in rows:
        open_agents.add(agent_id)
        if is_escalated:
            behaviours.add(behaviour_id)
            escalated.append(
                Entry(ESCALATED, agent_id, name, team_id, item_id, behaviour,
                      ngettext("%(num)d slip", "%(num)d slips", lapses), behaviour_id)
            )  # fmt: skip
        if due is None:
            continue
        check = CheckRecord(due_on=due, gap=gap)
        if metrics.overdue(ladder, check, today):
            days = (today - due).days
            overdue.append(
                Entry(OVERDUE, agent_id, name, team_id, item_id, behaviour,
                      ngettext("due %(day)s, %(num)d day ago",
                               "due %(day)s, %(num)d days ago", days, day=format_date(due)))
            )  # fmt: skip
            # Two ladder gaps past the due date with no check: coverage has a gap.
            if days > 2 * gap and agent_id not in stale:
                stale[agent_id] = Entry(
                    COVERAGE, agent_id, name, team_id, None, "",
                    _("no check since a follow-up fell due on %(day)s", day=format_date(due)),
                )  # fmt: skip

    obstacles, counts = _obstacles(viewer, behaviours)
    not_shadowed = _not_shadowed(viewer, today, coverage_days)
    entries = escalated + overdue + not_shadowed + list(stale.values())
    _attach_marks(entries)
    return Worklists(
        escalated=escalated,
        overdue=_by_manager(overdue, options),
        overdue_total=len(overdue),
        not_shadowed=not_shadowed,
        no_checks=list(stale.values()),
        obstacles=obstacles,
        obstacle_counts=counts,
        coverage_days=coverage_days,
    )


def _obstacles(
    viewer: User, behaviours: set[int]
) -> tuple[dict[int, list[Observation]], dict[int, int]]:
    """Obstacles logged for these behaviours, anywhere in scope: causes in the work itself."""
    if not behaviours:
        return {}, {}
    found = db.session.scalars(
        sa.select(Observation)
        .where(
            Observation.kind == ObservationKind.OBSTACLE,
            Observation.behaviour_id.in_(behaviours),
            Observation.agent_id.in_(
                sa.select(User.id).where(User.team_id.in_(teams_in_scope(viewer)))
            ),
        )
        .order_by(Observation.occurred_at.desc(), Observation.id.desc())
    ).all()
    shown: dict[int, list[Observation]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for observation in found:
        assert observation.behaviour_id is not None
        counts[observation.behaviour_id] += 1
        if len(shown[observation.behaviour_id]) < OBSTACLES_SHOWN:
            shown[observation.behaviour_id].append(observation)
    return dict(shown), dict(counts)


def _not_shadowed(viewer: User, today: date, days: int) -> list[Entry]:
    from flask_babel import gettext as _

    since = datetime.combine(today - timedelta(days=days), time(0), tzinfo=zone())
    last = sa.func.max(ShadowSession.started_at)
    rows = db.session.execute(
        sa.select(User.id, User.name, User.team_id, last)
        .join(ShadowSession, ShadowSession.agent_id == User.id, isouter=True)
        .where(User.id.in_(_agents(viewer)))
        .group_by(User.id, User.name, User.team_id)
        .having(sa.or_(last.is_(None), last < since))
        .order_by(User.name)
    ).all()
    entries = []
    for agent_id, name, team_id, started in rows:
        if started is None:
            detail = _("never shadowed")
        else:
            moment = started if isinstance(started, datetime) else datetime.fromisoformat(started)
            detail = _("last shadowed %(day)s", day=format_date(moment.date()))
        entries.append(Entry(COVERAGE, agent_id, name, team_id, None, "", detail))
    return entries


def _attach_marks(entries: list[Entry]) -> None:
    if not entries:
        return
    agents = {e.agent_id for e in entries}
    marks = db.session.scalars(
        sa.select(WorklistMark)
        .where(WorklistMark.agent_id.in_(agents))
        .order_by(WorklistMark.created_at.desc(), WorklistMark.id.desc())
    ).all()
    by_key: dict[tuple[str, int | None, int], list[WorklistMark]] = defaultdict(list)
    for mark in marks:
        by_key[(mark.worklist, mark.focus_item_id, mark.agent_id)].append(mark)
    for entry in entries:
        entry.marks = by_key.get((entry.worklist, entry.focus_item_id, entry.agent_id), [])


def _by_manager(entries: list[Entry], options: Options) -> list[tuple[str, list[Entry]]]:
    teams_of: dict[int, set[int]] = defaultdict(set)
    for manager_id, team_id in options.manages:
        teams_of[manager_id].add(team_id)
    grouped = []
    for manager in options.managers:
        own = [e for e in entries if e.team_id in teams_of[manager.id]]
        if own:
            grouped.append((manager.name, own))
    return grouped


def mark_handled(
    *, viewer: User, worklist: str, agent_id: int, focus_item_id: int | None, note: str
) -> WorklistMark:
    """Record that a trainer handled an entry; the entry must be in the trainer's scope."""
    agent = db.session.scalar(
        sa.select(User).where(User.id.in_(_agents(viewer)), User.id == agent_id)
    )
    if agent is None:
        abort(404)
    if worklist in (ESCALATED, OVERDUE):
        item = db.session.get(FocusItem, focus_item_id) if focus_item_id else None
        if item is None or item.agent_id != agent.id:
            abort(404)
    else:
        focus_item_id = None
    mark = WorklistMark(
        worklist=worklist,
        agent_id=agent.id,
        focus_item_id=focus_item_id,
        note=note,
        by_id=viewer.id,
    )
    db.session.add(mark)
    db.session.flush()
    return mark

"""What an agent's log is made of: ended sessions, filters over their entries, focus items."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from coachapp import scheduling
from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    FocusItem,
    FollowUp,
    Observation,
    ObservationKind,
    ShadowSession,
    User,
    order_for_reading,
)
from coachapp.parsing import parse_id
from coachapp.shadowing.service import count_by_kind


@dataclass(frozen=True)
class LogFilter:
    """Which entries the log shows; an unknown kind or behaviour in the URL is ignored."""

    kind: ObservationKind | None = None
    behaviour_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "LogFilter":
        try:
            kind = ObservationKind(args.get("kind", ""))
        except ValueError:
            kind = None
        raw = args.get("behaviour", "")
        return cls(kind=kind, behaviour_id=parse_id(raw))

    @property
    def active(self) -> bool:
        return self.kind is not None or self.behaviour_id is not None

    def matches(self, observation: Observation) -> bool:
        if self.kind is not None and observation.kind != self.kind:
            return False
        return self.behaviour_id is None or observation.behaviour_id == self.behaviour_id


@dataclass
class LogSession:
    shadow: ShadowSession
    #: The entries shown, strengths first, newest first within a kind.
    ordered: list[Observation]
    #: Counts over the whole session, whatever the filter.
    counts: dict[ObservationKind, int]


#: Sessions on one page of the log: a year of weekly shadowing is a few "Show older" taps.
LOG_PAGE = 20


def _readable(agent: User) -> sa.Select[tuple[ShadowSession]]:
    return (
        sa.select(ShadowSession)
        .where(ShadowSession.agent_id == agent.id, ShadowSession.ended_at.is_not(None))
        .options(
            so.selectinload(ShadowSession.observations).options(
                so.selectinload(Observation.behaviour), so.selectinload(Observation.author)
            ),
            so.selectinload(ShadowSession.manager),
        )
        .order_by(ShadowSession.started_at.desc(), ShadowSession.id.desc())
    )


def ended_sessions(agent: User) -> Sequence[ShadowSession]:
    """The sessions the agent can read (open ones are still being written), newest first."""
    return db.session.scalars(_readable(agent)).all()


@dataclass
class LogPage:
    sessions: list[LogSession]
    #: The session after which the next page starts, when there are older ones.
    more_before: int | None


def log_of(
    agent: User, log_filter: LogFilter, *, before: int | None = None, size: int = LOG_PAGE
) -> LogPage:
    """One page of the agent's log under a filter, newest first, starting after the session
    `before`: sessions without a matching entry are left out (in SQL, so pages stay full)."""
    query = _readable(agent)
    if log_filter.active:
        matching = sa.select(Observation.id).where(Observation.session_id == ShadowSession.id)
        if log_filter.kind is not None:
            matching = matching.where(Observation.kind == log_filter.kind)
        if log_filter.behaviour_id is not None:
            matching = matching.where(Observation.behaviour_id == log_filter.behaviour_id)
        query = query.where(matching.exists())
    if before is not None:
        # Keyset: older than that session, by start then id (no OFFSET to count past).
        started = (
            sa.select(ShadowSession.started_at).where(ShadowSession.id == before).scalar_subquery()
        )
        query = query.where(
            sa.or_(
                ShadowSession.started_at < started,
                sa.and_(ShadowSession.started_at == started, ShadowSession.id < before),
            )
        )
    found = db.session.scalars(query.limit(size + 1)).all()
    shown = [
        LogSession(
            shadow,
            [o for o in order_for_reading(shadow.observations) if log_filter.matches(o)],
            count_by_kind(shadow.observations),
        )
        for shadow in found[:size]
    ]
    more = found[size - 1].id if len(found) > size else None
    return LogPage(shown, more)


def filter_behaviours(agent: User) -> list[Behaviour]:
    """The behaviours to filter by: the agent's profile, then any others seen in their log."""
    profile = agent.role_profile
    behaviours = [b for c in profile.competencies for b in c.behaviours] if profile else []
    known = {b.id for b in behaviours}
    others = db.session.scalars(
        sa.select(Behaviour)
        .join(Observation, Observation.behaviour_id == Behaviour.id)
        .where(Observation.agent_id == agent.id, Behaviour.id.not_in(known))
        .distinct()
        .order_by(Behaviour.name)
    ).all()
    return behaviours + list(others)


def focus_items_of(agent: User) -> list[FocusItem]:
    """Open items first, the next check soonest first; then closed ones, newest first."""
    items = db.session.scalars(
        sa.select(FocusItem)
        .where(FocusItem.agent_id == agent.id)
        .options(
            so.selectinload(FocusItem.followups).selectinload(FollowUp.self_check),
            so.joinedload(FocusItem.behaviour),
            so.joinedload(FocusItem.opening_observation),
        )
    ).all()
    still_open = sorted(
        (i for i in items if i.status != scheduling.CLOSED),
        key=lambda i: (i.due_on is None, i.due_on, i.id),
    )
    closed = sorted(
        (i for i in items if i.status == scheduling.CLOSED),
        key=lambda i: (i.opened_on, i.id),
        reverse=True,
    )
    return still_open + closed

"""Self-checks and self-assessments: the rules, and the observed record to set beside them."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from coachapp import scheduling
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    Competency,
    FocusItem,
    Observation,
    ObservationKind,
    Role,
    SelfAssessment,
    SelfAssessmentRating,
    SelfCheck,
    SelfRating,
    ShadowSession,
    User,
)
from coachapp.unit_of_work import insert_once

#: How many calendar months, up to the end of its period, a self-assessment is set beside.
OBSERVED_MONTHS = 3


class NoCheckAhead(DomainError):
    message = _l(
        "This focus item is closed: the behaviour holds and there is no next check to rate "
        "yourself for."
    )


class CheckJustRecorded(DomainError):
    message = _l(
        "Your manager recorded this check a moment ago, so this self-check was not saved. "
        "What you wrote is still here: send it again for the next check."
    )


class AlreadyAssessed(DomainError):
    message = _l(
        "You have already filled in your self-assessment for this month. It is kept as it was; "
        "what you typed now is still in the form below. The next one opens on the first of "
        "next month."
    )

    def __init__(self, existing: SelfAssessment | None) -> None:
        super().__init__()
        self.existing = existing


class NoRoleProfile(DomainError):
    message = _l("You have no role profile yet, so there is nothing to assess. Ask your manager.")


# --- self-checks ---------------------------------------------------------------------------


def own_item_or_404(agent: User, item_id: int) -> FocusItem:
    """One of the signed-in agent's own focus items; anybody else's is a 404."""
    item = db.session.get(FocusItem, item_id)
    if agent.role != Role.AGENT or item is None or item.agent_id != agent.id:
        abort(404)
    return item


def save_self_check(
    *,
    item: FocusItem,
    agent: User,
    for_followup_id: int | None,
    rating: SelfRating,
    note: str,
    now: datetime,
) -> SelfCheck:
    """Rate yourself for the item's next check; until that check is recorded it can be changed."""
    pending = item.pending
    if item.status == scheduling.CLOSED or pending is None:
        raise NoCheckAhead()
    if for_followup_id is not None and for_followup_id != pending.id:
        raise CheckJustRecorded()
    pending_id = pending.id
    check = _self_check_for(pending_id)
    if check is None:
        check = SelfCheck(
            followup_id=pending_id,
            focus_item_id=item.id,
            agent_id=agent.id,
            rating=rating,
            note=note,
            created_at=now,
        )
        stored = insert_once(check, lambda: _self_check_for(pending_id))
        if stored is check:
            return check
        check = stored  # a second tab saved one a moment ago: change that one
    # Refuse a change once the check is recorded, in the same statement that makes it.
    changed = db.session.execute(
        sa.update(SelfCheck)
        .where(SelfCheck.id == check.id, SelfCheck.observed_outcome.is_(None))
        .values(rating=rating, note=note, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise CheckJustRecorded()
    db.session.refresh(check)
    return check


def _self_check_for(followup_id: int) -> SelfCheck | None:
    return db.session.scalar(sa.select(SelfCheck).where(SelfCheck.followup_id == followup_id))


# --- self-assessments ---------------------------------------------------------------------


def period_of(day: date) -> str:
    """The calendar month a self-assessment made on `day` is for."""
    return f"{day.year:04d}-{day.month:02d}"


def period_start(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1)


def months_back(start: date, months: int) -> date:
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def profile_behaviours(agent: User) -> list[Behaviour]:
    profile = agent.role_profile
    if profile is None:
        return []
    return [
        b for competency in profile.competencies for b in competency.behaviours if not b.is_retired
    ]


def assessment_for(agent: User, period: str) -> SelfAssessment | None:
    return db.session.scalar(
        sa.select(SelfAssessment).where(
            SelfAssessment.agent_id == agent.id, SelfAssessment.period == period
        )
    )


def assessments_of(agent: User) -> Sequence[SelfAssessment]:
    return db.session.scalars(
        sa.select(SelfAssessment)
        .where(SelfAssessment.agent_id == agent.id)
        .order_by(SelfAssessment.period.desc())
    ).all()


def assessment_or_404(agent: User, assessment_id: int) -> SelfAssessment:
    assessment = db.session.get(SelfAssessment, assessment_id)
    if assessment is None or assessment.agent_id != agent.id:
        abort(404)
    return assessment


@dataclass(frozen=True)
class AssessmentInput:
    ratings: Mapping[int, int]
    proud_of: str
    want_to_improve: str
    goal: str


def submit_assessment(
    *, agent: User, period: str, entry: AssessmentInput, now: datetime
) -> SelfAssessment:
    """Store this period's self-assessment; a second one in the same period is refused."""
    if agent.role_profile is None:
        raise NoRoleProfile()
    existing = assessment_for(agent, period)
    if existing is not None:
        raise AlreadyAssessed(existing)
    assessment = SelfAssessment(
        agent_id=agent.id,
        period=period,
        role_profile_id=agent.role_profile_id,
        proud_of=entry.proud_of,
        want_to_improve=entry.want_to_improve,
        goal=entry.goal,
        created_at=now,
    )
    assessment.ratings = [
        SelfAssessmentRating(behaviour_id=behaviour_id, level=level)
        for behaviour_id, level in entry.ratings.items()
    ]
    db.session.add(assessment)
    try:
        db.session.flush()
    except IntegrityError:  # the same form sent twice at once
        db.session.rollback()
        raise AlreadyAssessed(assessment_for(agent, period)) from None
    return assessment


@dataclass
class BehaviourRow:
    behaviour: Behaviour
    level: int | None
    strengths: int
    corrections: int
    focus_item: FocusItem | None


@dataclass
class CompetencyRow:
    competency: Competency
    behaviours: list[BehaviourRow] = field(default_factory=list)

    @property
    def strengths(self) -> int:
        return sum(row.strengths for row in self.behaviours)

    @property
    def corrections(self) -> int:
        return sum(row.corrections for row in self.behaviours)

    @property
    def open_items(self) -> int:
        return sum(1 for row in self.behaviours if row.focus_item is not None)


@dataclass
class SideBySide:
    rows: list[CompetencyRow]
    observed_from: date
    observed_until: date


def side_by_side(assessment: SelfAssessment, zone: ZoneInfo) -> SideBySide:
    """The agent's ratings beside what was observed per behaviour and competency: strengths and
    corrections in the months up to the end of the period, and the focus items open now."""
    start = period_start(assessment.period)
    observed_from = months_back(start, OBSERVED_MONTHS - 1)
    end = months_back(start, -1)
    counts = _observed_counts(assessment.agent_id, observed_from, end, zone)
    open_items = {
        item.behaviour_id: item
        for item in db.session.scalars(
            sa.select(FocusItem)
            .where(
                FocusItem.agent_id == assessment.agent_id,
                FocusItem.status != scheduling.CLOSED,
            )
            .options(so.selectinload(FocusItem.followups))
        )
    }
    levels = {rating.behaviour_id: rating.level for rating in assessment.ratings}
    profile = assessment.role_profile
    rows: list[CompetencyRow] = []
    for competency in profile.competencies if profile else []:
        row = CompetencyRow(competency)
        for behaviour in competency.behaviours:
            row.behaviours.append(
                BehaviourRow(
                    behaviour=behaviour,
                    level=levels.get(behaviour.id),
                    strengths=counts[(behaviour.id, ObservationKind.STRENGTH)],
                    corrections=counts[(behaviour.id, ObservationKind.CORRECTION)],
                    focus_item=open_items.get(behaviour.id),
                )
            )
        rows.append(row)
    return SideBySide(rows, observed_from, end - timedelta(days=1))


def _observed_counts(
    agent_id: int, start: date, end: date, zone: ZoneInfo
) -> Counter[tuple[int | None, ObservationKind]]:
    """Observations the agent can read (ended sessions) in [start, end), local dates."""
    since = datetime.combine(start, time.min, tzinfo=zone).astimezone(UTC)
    until = datetime.combine(end, time.min, tzinfo=zone).astimezone(UTC)
    rows = db.session.execute(
        sa.select(Observation.behaviour_id, Observation.kind, sa.func.count())
        .join(Observation.session)
        .where(
            Observation.agent_id == agent_id,
            ShadowSession.ended_at.is_not(None),
            Observation.occurred_at >= since,
            Observation.occurred_at < until,
        )
        .group_by(Observation.behaviour_id, Observation.kind)
    ).all()
    return Counter({(behaviour_id, kind): count for behaviour_id, kind, count in rows})

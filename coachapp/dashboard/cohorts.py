"""Training cohorts: a classroom training and its participants, and their figures on the axis of
days since the training.

A cohort's items are the focus items of its participants opened on or after the training date;
day t of a check counts from the training, not from the correction, so the "few weeks later"
relapse after a classroom course shows on its own axis.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp import metrics
from coachapp.dashboard.models import TrainingCohort, cohort_participant
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.metrics import CheckRecord, ItemRecord
from coachapp.models import FocusItem, FollowUp, Role, User
from coachapp.scheduling import Outcome

NAME_MAX_LENGTH = 120


class NoParticipants(DomainError):
    status_code = 422
    message = _l("Choose a team or at least one person who took part.")


def all_cohorts() -> Sequence[TrainingCohort]:
    return db.session.scalars(
        sa.select(TrainingCohort)
        .options(so.selectinload(TrainingCohort.participants))
        .order_by(TrainingCohort.trained_on.desc(), TrainingCohort.id.desc())
    ).all()


def cohort_or_404(cohort_id: int) -> TrainingCohort:
    cohort = db.session.get(TrainingCohort, cohort_id)
    if cohort is None:
        abort(404)
    return cohort


def agents_to_choose() -> Sequence[User]:
    return db.session.scalars(
        sa.select(User)
        .where(User.role == Role.AGENT, User.active.is_(True))
        .options(so.selectinload(User.team))
        .order_by(User.name)
    ).all()


def create(
    *,
    name: str,
    trained_on: date,
    team_id: int | None,
    agent_ids: list[int],
    by: User,
) -> TrainingCohort:
    """Record a training; a team brings in its agents of today, people are added one by one."""
    query = sa.select(User).where(User.role == Role.AGENT)
    conditions = []
    if team_id is not None:
        conditions.append(User.team_id == team_id)
    if agent_ids:
        conditions.append(User.id.in_(agent_ids))
    participants = db.session.scalars(query.where(sa.or_(*conditions))).all() if conditions else []
    if not participants:
        raise NoParticipants()
    cohort = TrainingCohort(
        name=name, trained_on=trained_on, created_by_id=by.id, participants=list(participants)
    )
    db.session.add(cohort)
    db.session.flush()
    return cohort


def records(cohort: TrainingCohort) -> list[ItemRecord]:
    """One statement: the participants' items opened since the training, with their checks,
    each item's day 0 moved to the training date."""
    rows = db.session.execute(
        sa.select(
            FocusItem.id,
            FollowUp.due_on,
            FollowUp.gap,
            FollowUp.observed_on,
            FollowUp.outcome,
        )
        .join(cohort_participant, cohort_participant.c.user_id == FocusItem.agent_id)
        .join(FollowUp, FollowUp.focus_item_id == FocusItem.id, isouter=True)
        .where(
            cohort_participant.c.cohort_id == cohort.id,
            FocusItem.opened_on >= cohort.trained_on,
        )
        .order_by(FocusItem.id, FollowUp.sequence)
    ).all()
    checks: dict[int, list[CheckRecord]] = defaultdict(list)
    for item_id, due_on, gap, observed_on, outcome in rows:
        checks.setdefault(item_id, [])
        if due_on is None:
            continue
        done = observed_on if outcome is not None else None
        checks[item_id].append(
            CheckRecord(
                due_on=due_on,
                gap=gap,
                done_on=done,
                outcome=Outcome(outcome) if outcome is not None else None,
            )
        )
    base = ItemRecord(opened_on=cohort.trained_on)
    return [replace(base, checks=tuple(c)) for c in checks.values()]


@dataclass(frozen=True)
class CohortFigures:
    cohort: TrainingCohort
    items: int
    r28: metrics.Relapse
    curve: metrics.Curve


def figures(cohort: TrainingCohort) -> CohortFigures:
    found = records(cohort)
    return CohortFigures(
        cohort=cohort,
        items=len(found),
        r28=metrics.relapse_at(found),
        curve=metrics.survival_curve(found, horizon=112),
    )

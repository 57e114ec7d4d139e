"""Focus items and their follow-ups in the database, driven by the pure ladder in scheduling.py.

These steps are consequences of another write (a correction, a check): they flush and leave the
commit to the view, so that the write and its ladder step land together or not at all.

Every change of a check or an item here ends with summaries.item_changed(item): the dashboard's
summary rows change in the same transaction (coachapp.dashboard.summaries). A new path that
changes a check (an undo, a change of outcome) must call it too.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from coachapp import organisation, scheduling
from coachapp.clock import local_date
from coachapp.dashboard import summaries
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import FocusItem, FollowUp, Observation, ObservationKind, Organisation, User


class AlreadyRecorded(DomainError):
    message = _l("This check was already recorded. Its result is shown below.")


class ItemIsClosed(DomainError):
    message = _l("This focus item is closed: the behaviour holds and needs no more checks.")


class OutcomeInFuture(DomainError):
    status_code = 422
    message = _l("A check cannot be dated in the future.")


class OutcomeBeforeOpening(DomainError):
    status_code = 422
    message = _l("A check cannot be dated before the correction that opened it.")


class OutcomeOutOfOrder(DomainError):
    """Checks saved offline reach the server later; they still apply in the order they happened."""

    status_code = 422
    message = _l(
        "This check is dated before the last recorded check of this behaviour. "
        "Checks apply in the order they happened."
    )


def ladder_of(org: Organisation | None) -> scheduling.Ladder:
    if org is None:
        return scheduling.Ladder()
    gaps = tuple(int(part) for part in org.ladder_gaps.split(",") if part.strip())
    days = frozenset(int(part) for part in org.working_days.split(",") if part.strip())
    return scheduling.Ladder(gaps=gaps, working_days=days)


def current_organisation() -> Organisation | None:
    """Loaded once per request (coachapp.organisation), with the time zone that rides along."""
    return organisation.current()


def current_ladder() -> scheduling.Ladder:
    return ladder_of(current_organisation())


def open_item_for(agent_id: int, behaviour_id: int) -> FocusItem | None:
    return db.session.scalar(
        sa.select(FocusItem).where(
            FocusItem.agent_id == agent_id,
            FocusItem.behaviour_id == behaviour_id,
            FocusItem.status != scheduling.CLOSED,
        )
    )


def apply_correction(observation: Observation, ladder: scheduling.Ladder) -> FocusItem | None:
    """A correction opens a focus item, or is a slip of the one already open (DESIGN section 4)."""
    if observation.kind != ObservationKind.CORRECTION or observation.behaviour_id is None:
        return None
    corrected_on = local_date(observation.occurred_at)
    item = open_item_for(observation.agent_id, observation.behaviour_id)
    if item is not None:
        _record_slip(item, observation, corrected_on, ladder)
        return item
    state = scheduling.open_item(ladder, corrected_on)
    item = FocusItem(
        agent_id=observation.agent_id,
        behaviour_id=observation.behaviour_id,
        opening_observation_id=observation.id,
        opened_by_id=observation.author_id,
        opened_on=corrected_on,
    )
    item.state = state
    item.followups.append(_pending_check(state, sequence=1))
    try:
        # A savepoint, so that losing the race keeps the correction itself in this unit of work.
        with db.session.begin_nested():
            db.session.add(item)
    except IntegrityError:
        # Another request opened the item a moment ago: this correction is a slip of it.
        item = open_item_for(observation.agent_id, observation.behaviour_id)
        if item is None:
            raise
        _record_slip(item, observation, corrected_on, ladder)
    # A new item holds only its pending check: no summary row counts it yet.
    return item


def withdraw_correction(observation: Observation, ladder: scheduling.Ladder) -> None:
    """Undo what a correction did to the ladder, when the entry is removed or changed."""
    opened = db.session.scalar(
        sa.select(FocusItem).where(FocusItem.opening_observation_id == observation.id)
    )
    if opened is not None and not opened.recorded:
        db.session.delete(opened)
        summaries.item_changed(opened)
    slip = db.session.scalar(sa.select(FollowUp).where(FollowUp.observation_id == observation.id))
    if slip is not None and slip is slip.focus_item.recorded[-1]:
        _unrecord(slip)
        slip.focus_item.state = _replayed(slip.focus_item, ladder)
        summaries.item_changed(slip.focus_item)
    db.session.flush()


def _unrecord(followup: FollowUp) -> None:
    """Make a recorded check pending again: the check it scheduled goes, its fields clear."""
    item = followup.focus_item
    for later in [f for f in item.followups if f.sequence > followup.sequence]:
        item.followups.remove(later)
    for field in ("outcome", "observed_on", "on_time", "author_id", "observation_id"):
        setattr(followup, field, None)
    followup.client_uuid = None
    followup.note = followup.coached = ""
    followup.recorded_at = None
    _compare_self_check(followup)
    db.session.flush()


@dataclass(frozen=True)
class OutcomeInput:
    outcome: scheduling.Outcome
    observed_on: date
    note: str
    coached: str
    client_uuid: uuid.UUID


class Recorded(NamedTuple):
    """The check as recorded, and whether this request recorded it (False: a replay)."""

    followup: FollowUp
    created: bool


def record_outcome(
    *,
    followup: FollowUp,
    author: User,
    entry: OutcomeInput,
    ladder: scheduling.Ladder,
    today: date,
    now: datetime,
) -> Recorded:
    """Record a re-observation and schedule the next; a replay of the same tap changes nothing.

    The replay is found on the check itself (the tap stored its uuid there); a uuid already
    used on another check meets the unique (author, uuid) when the check is claimed, and that
    check is answered instead.
    """
    if is_replay(followup, author, entry.client_uuid):
        return Recorded(followup, created=False)
    item = followup.focus_item
    if followup.outcome is not None:
        raise AlreadyRecorded()
    if item.status == scheduling.CLOSED:
        raise ItemIsClosed()
    if entry.observed_on > today:
        raise OutcomeInFuture()
    if entry.observed_on < item.opened_on:
        raise OutcomeBeforeOpening()
    last_observed = max((f.observed_on for f in item.recorded if f.observed_on), default=None)
    if last_observed is not None and entry.observed_on < last_observed:
        raise OutcomeOutOfOrder()
    # Claim the check in one statement: of two managers tapping at once, one wins, one is told.
    values = {
        "outcome": entry.outcome,
        "observed_on": entry.observed_on,
        "on_time": scheduling.on_time(ladder, followup.due_on, followup.gap, entry.observed_on),
        "note": entry.note,
        "coached": entry.coached if entry.outcome == scheduling.Outcome.SLIPPED else "",
        "author_id": author.id,
        "client_uuid": entry.client_uuid,
        "recorded_at": now,
    }
    try:
        claimed = db.session.execute(
            sa.update(FollowUp)
            .where(FollowUp.id == followup.id, FollowUp.outcome.is_(None))
            .values(values)
            .execution_options(synchronize_session=False)
        ).rowcount
    except IntegrityError:  # the tap's uuid is already on another check
        claimed = 0
    if claimed != 1:
        # Taken first: by this very tap (sent twice at once, or sent to another check's
        # address), which is answered as its replay, or by another one.
        db.session.rollback()
        replayed = _recorded_by_tap(author, entry.client_uuid)
        if replayed is None:
            raise AlreadyRecorded()
        return Recorded(replayed, created=False)
    # What the statement stored, on the object too: no second read, no second write at flush.
    for name, value in values.items():
        set_committed_value(followup, name, value)
    _compare_self_check(followup)
    state = scheduling.advance(ladder, item.state, entry.outcome, entry.observed_on)
    item.state = state
    if state.due_on is not None:
        item.followups.append(_pending_check(state, sequence=followup.sequence + 1))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadyRecorded() from None
    summaries.item_changed(item)
    return Recorded(followup, created=True)


def _recorded_by_tap(author: User, client_uuid: uuid.UUID) -> FollowUp | None:
    return db.session.scalar(
        sa.select(FollowUp).where(
            FollowUp.author_id == author.id, FollowUp.client_uuid == client_uuid
        )
    )


def is_replay(followup: FollowUp, author: User, client_uuid: uuid.UUID) -> bool:
    """Whether this tap is the one that recorded the check's outcome, sent again."""
    return followup.author_id == author.id and followup.client_uuid == client_uuid


class OutcomeMissing(DomainError):
    status_code = 422
    message = _l("Tap one of the four outcomes.")


class NotYourOutcome(DomainError):
    status_code = 403
    message = _l(
        "Only the person who recorded this outcome can change or undo it, "
        "and only within 10 minutes. It stays as recorded."
    )


class RevisionTooLate(DomainError):
    message = _l(
        "This outcome was recorded more than 10 minutes ago, so it stays as recorded. "
        "Record the next check when it is due."
    )


class RevisionNotLatest(DomainError):
    message = _l(
        "This outcome can no longer be changed: a later check of this behaviour is already "
        "recorded, or it came from a correction while shadowing (change that entry instead)."
    )


def can_revise(followup: FollowUp, user: User, now: datetime) -> bool:
    """Whether `user` may still change or undo this recorded outcome (shown as buttons)."""
    try:
        _check_revision(followup, user, now)
    except DomainError:
        return False
    return True


def _check_revision(followup: FollowUp, user: User, now: datetime) -> None:
    # A slip made by a correction entry belongs to the entry: fixing the entry changes it.
    if followup.outcome is None or followup.recorded_at is None or followup.observation_id:
        raise RevisionNotLatest()
    if followup.author_id != user.id:
        raise NotYourOutcome()
    if not scheduling.revisable(followup.recorded_at, now):
        raise RevisionTooLate()
    # An outcome followed by a later recorded check is history the ladder has built on.
    if followup.focus_item.recorded[-1] is not followup:
        raise RevisionNotLatest()


def revise_outcome(
    *,
    followup: FollowUp,
    author: User,
    outcome: scheduling.Outcome | None,
    ladder: scheduling.Ladder,
    now: datetime,
) -> FollowUp:
    """Undo (outcome None) or change the outcome its author recorded in the last 10 minutes.

    The ladder is replayed as if the undone outcome had never arrived (scheduling.revise_last):
    the check it scheduled goes, the lapse and escalation it caused go with it. A change keeps
    the day, the note and what was coached (on a slip) and schedules the next check anew."""
    _check_revision(followup, author, now)
    item = followup.focus_item
    history = [(f.outcome, f.observed_on) for f in item.recorded if f.observed_on is not None]
    state = scheduling.revise_last(ladder, item.opened_on, history, outcome)  # type: ignore[arg-type]
    kept = (followup.observed_on, followup.note, followup.coached, followup.client_uuid)
    _unrecord(followup)
    if outcome is not None:
        observed_on, note, coached, client_uuid = kept
        assert observed_on is not None
        followup.outcome = outcome
        followup.observed_on = observed_on
        followup.on_time = scheduling.on_time(ladder, followup.due_on, followup.gap, observed_on)
        followup.note = note
        followup.coached = coached if outcome == scheduling.Outcome.SLIPPED else ""
        followup.author_id = author.id
        # The same UUID: the outbox item that first recorded it still finds it when replayed.
        followup.client_uuid = client_uuid
        followup.recorded_at = now
        _compare_self_check(followup)
        if state.due_on is not None:
            item.followups.append(_pending_check(state, sequence=followup.sequence + 1))
    item.state = state
    db.session.flush()
    summaries.item_changed(item)
    return followup


def _record_slip(
    item: FocusItem, observation: Observation, on: date, ladder: scheduling.Ladder
) -> None:
    pending = item.pending
    if pending is None:  # a closed item is never returned by open_item_for
        return
    pending.outcome = scheduling.Outcome.SLIPPED
    pending.observed_on = on
    pending.on_time = scheduling.on_time(ladder, pending.due_on, pending.gap, on)
    pending.note = observation.note
    pending.coached = observation.coached
    pending.author_id = observation.author_id
    pending.observation_id = observation.id
    pending.recorded_at = observation.recorded_at
    _compare_self_check(pending)
    state = scheduling.advance(ladder, item.state, scheduling.Outcome.SLIPPED, on)
    item.state = state
    item.followups.append(_pending_check(state, sequence=pending.sequence + 1))
    db.session.flush()
    summaries.item_changed(item)


def _compare_self_check(followup: FollowUp) -> None:
    """Store how the agent's self-check for this check (if any) differs from its outcome."""
    self_check = followup.self_check
    if self_check is not None:
        self_check.compare_with(followup.outcome)


def _pending_check(state: scheduling.ItemState, *, sequence: int) -> FollowUp:
    assert state.due_on is not None and state.due_gap is not None
    return FollowUp(sequence=sequence, due_on=state.due_on, gap=state.due_gap, level=state.level)


def _replayed(item: FocusItem, ladder: scheduling.Ladder) -> scheduling.ItemState:
    history = [(f.outcome, f.observed_on) for f in item.recorded if f.observed_on is not None]
    return scheduling.replay(ladder, item.opened_on, history)  # type: ignore[arg-type]


def due_checks(
    manager: User, today: date, *, agent_id: int | None = None, limit: int | None = None
) -> list[FollowUp]:
    """Checks due today or overdue for the manager's agents, most overdue first.

    One query whatever the number of rows: everything a row shows is joined in.
    """
    query = (
        _due_query(manager, today, agent_id)
        .options(
            so.contains_eager(FollowUp.focus_item).options(
                so.joinedload(FocusItem.agent),
                so.joinedload(FocusItem.behaviour),
                so.joinedload(FocusItem.opening_observation),
                so.undefer(FocusItem.latest_check_note),
            ),
            # The shadowing screen shows the agent's self-check beside each check.
            so.joinedload(FollowUp.self_check),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(limit)
    )
    return list(db.session.scalars(query).unique())


def count_due(manager: User, today: date) -> int:
    subquery = _due_query(manager, today, None).with_only_columns(FollowUp.id).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0


def _due_query(manager: User, today: date, agent_id: int | None) -> sa.Select[tuple[FollowUp]]:
    from coachapp.scope import visible_agents

    agents = visible_agents(manager).where(User.active.is_(True)).with_only_columns(User.id)
    query = (
        sa.select(FollowUp)
        .join(FollowUp.focus_item)
        .where(
            FollowUp.outcome.is_(None),
            FollowUp.due_on <= today,
            FocusItem.status != scheduling.CLOSED,
            FocusItem.agent_id.in_(agents),
        )
    )
    if agent_id is not None:
        query = query.where(FocusItem.agent_id == agent_id)
    return query


def last_note(item: FocusItem) -> str:
    """The newest words written about this item: the last check's note, else the correction's."""
    if item.latest_check_note:
        return item.latest_check_note
    return item.opening_observation.note if item.opening_observation else ""


@dataclass(frozen=True)
class AgentChecks:
    """One agent's checks due on Today, most overdue first."""

    agent: User
    checks: list[FollowUp]


def group_by_agent(due: list[FollowUp]) -> list[AgentChecks]:
    """Due checks grouped by agent; the agent with the most overdue check comes first."""
    groups: dict[int, AgentChecks] = {}
    for followup in due:
        item = followup.focus_item
        group = groups.setdefault(item.agent_id, AgentChecks(item.agent, []))
        group.checks.append(followup)
    return list(groups.values())

"""The shadowing rules: start, log, fix, remove, end; every write idempotent on the phone's UUID.

Nothing here commits: each write and its consequences are flushed, and the view commits them as
one unit (coachapp.unit_of_work), so a replay finds a write either whole or not at all.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from coachapp.errors import SessionEnded
from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder, withdraw_correction
from coachapp.models import Observation, ObservationKind, ShadowSession, SuggestionKind, User
from coachapp.unit_of_work import insert_once
from coachapp.voice.service import raise_suggestion


@dataclass(frozen=True)
class ObservationInput:
    kind: ObservationKind
    behaviour_id: int | None
    note: str
    coached: str


def start_session(
    *, manager: User, agent: User, client_uuid: uuid.UUID, now: datetime
) -> ShadowSession:
    """Start shadowing `agent`, or return the session this start already made or left open."""
    existing = db.session.scalar(
        sa.select(ShadowSession).where(
            ShadowSession.manager_id == manager.id,
            sa.or_(
                ShadowSession.client_uuid == client_uuid,
                sa.and_(ShadowSession.agent_id == agent.id, ShadowSession.ended_at.is_(None)),
            ),
        )
    )
    if existing is not None:
        return existing
    session = ShadowSession(
        manager_id=manager.id, agent_id=agent.id, client_uuid=client_uuid, started_at=now
    )
    return insert_once(session, lambda: _session_by_uuid(manager.id, client_uuid))


def record_observation(
    *,
    session: ShadowSession,
    author: User,
    entry: ObservationInput,
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
) -> tuple[Observation, bool]:
    """Add an entry to an open session; returns (observation, created). A replay creates nothing."""
    existing = _observation_by_uuid(author.id, client_uuid)
    if existing is not None:
        return existing, False
    if not session.is_open:
        raise SessionEnded()
    observation = Observation(
        session_id=session.id,
        author_id=author.id,
        agent_id=session.agent_id,
        kind=entry.kind,
        behaviour_id=entry.behaviour_id,
        note=entry.note,
        coached=entry.coached if entry.kind == ObservationKind.CORRECTION else "",
        client_uuid=client_uuid,
        occurred_at=occurred_at,
        recorded_at=now,
    )
    stored = insert_once(observation, lambda: _observation_by_uuid(author.id, client_uuid))
    created = stored is observation
    if created:
        apply_correction(stored, current_ladder())
    return stored, created


def update_observation(
    *, observation: Observation, entry: ObservationInput, now: datetime
) -> Observation:
    """Fix an entry while its session is still open."""
    if not observation.session.is_open:
        raise SessionEnded()
    before = (observation.kind, observation.behaviour_id)
    # Only a correction is on the ladder: fixing a note, or a strength, leaves it (and the
    # organisation's settings) unread.
    ladder_changed = (entry.kind, entry.behaviour_id) != before and ObservationKind.CORRECTION in (
        observation.kind,
        entry.kind,
    )
    ladder = current_ladder() if ladder_changed else None
    if ladder is not None:
        withdraw_correction(observation, ladder)
    observation.kind = entry.kind
    observation.behaviour_id = entry.behaviour_id
    observation.note = entry.note
    observation.coached = entry.coached if entry.kind == ObservationKind.CORRECTION else ""
    observation.updated_at = now
    db.session.flush()
    if ladder is not None:
        apply_correction(observation, ladder)
    return observation


def remove_observation(*, observation: Observation) -> None:
    """Take an entry back while its session is still open (the undo after a quick save)."""
    if not observation.session.is_open:
        raise SessionEnded()
    if observation.kind == ObservationKind.CORRECTION:
        # Only a correction opens a focus item or records a slip.
        withdraw_correction(observation, current_ladder())
    db.session.delete(observation)
    db.session.flush()


def end_session(*, session: ShadowSession, summary_note: str, now: datetime) -> ShadowSession:
    """Close the session; its summary lands in the agent's log and its obstacles in the
    trainers' inbox. Ending twice changes nothing."""
    if session.is_open:
        session.ended_at = now
        session.summary_note = summary_note
        db.session.flush()
        _send_obstacles_to_trainers(session, now)
    return session


def _send_obstacles_to_trainers(session: ShadowSession, now: datetime) -> None:
    """Obstacles are about the work, not the agent (DESIGN principle 3): they go to the inbox
    under the manager's name, without the agent. Sent at the end, once entries can no longer be
    fixed; the entry's own UUID makes a replayed end send each one once."""
    for observation in session.observations:
        if observation.kind != ObservationKind.OBSTACLE:
            continue
        text = observation.note or (observation.behaviour.name if observation.behaviour else "")
        if text:
            raise_suggestion(
                author=session.manager,
                kind=SuggestionKind.OBSTACLE,
                text=text,
                client_uuid=observation.client_uuid,
                now=now,
            )


def count_by_kind(observations: list[Observation]) -> dict[ObservationKind, int]:
    counts = Counter(o.kind for o in observations)
    return {kind: counts.get(kind, 0) for kind in ObservationKind}


def _session_by_uuid(manager_id: int, client_uuid: uuid.UUID) -> ShadowSession | None:
    return db.session.scalar(
        sa.select(ShadowSession).where(
            ShadowSession.manager_id == manager_id, ShadowSession.client_uuid == client_uuid
        )
    )


def _observation_by_uuid(author_id: int, client_uuid: uuid.UUID) -> Observation | None:
    return db.session.scalar(
        sa.select(Observation).where(
            Observation.author_id == author_id, Observation.client_uuid == client_uuid
        )
    )

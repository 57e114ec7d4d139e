"""The shadowing rules: start, log, fix, remove, end; every write idempotent on the phone's UUID.

Nothing here commits: each write and its consequences are flushed, and the view commits them as
one unit (coachapp.unit_of_work), so a replay finds a write either whole or not at all.
"""

import functools
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from coachapp.errors import SessionEnded
from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder, withdraw_correction
from coachapp.models import (
    Behaviour,
    Competency,
    Observation,
    ObservationKind,
    ShadowSession,
    SuggestionKind,
    User,
)
from coachapp.scope import own_open_session_where, visible_agents
from coachapp.unit_of_work import insert_new
from coachapp.voice.service import raise_suggestion


@dataclass(frozen=True)
class ObservationInput:
    kind: ObservationKind
    behaviour_id: int | None
    note: str
    coached: str


#: A session with no entry for this long ends by itself (its entries are kept).
IDLE_LIMIT = timedelta(hours=4)


def start_session(
    *, manager: User, agent: User, client_uuid: uuid.UUID, now: datetime
) -> ShadowSession:
    """Start shadowing `agent` for the first entry, or return the session this start already
    made or the one open with the agent (a replayed or concurrent start joins it).

    Only the first entry calls this: opening the screen starts nothing."""
    existing = _open_or_same(manager, agent, client_uuid)
    if existing is not None and existing.is_open and _idle(existing, now):
        end_idle_session(existing)
        existing = _open_or_same(manager, agent, client_uuid)
    if existing is not None:
        return existing
    session = ShadowSession(
        manager_id=manager.id, agent_id=agent.id, client_uuid=client_uuid, started_at=now
    )
    # The partial unique index holds one open session per manager and agent: a start that
    # loses the race finds the winner's session, by its own UUID or as the open one. A
    # savepoint, so that an idle session ended just before stays ended.
    try:
        with db.session.begin_nested():
            db.session.add(session)
    except IntegrityError:
        found = _open_or_same(manager, agent, client_uuid)
        if found is None:
            raise
        return found
    return session


def _open_or_same(manager: User, agent: User, client_uuid: uuid.UUID) -> ShadowSession | None:
    return db.session.scalar(
        sa.select(ShadowSession)
        .where(
            ShadowSession.manager_id == manager.id,
            sa.or_(
                ShadowSession.client_uuid == client_uuid,
                sa.and_(ShadowSession.agent_id == agent.id, ShadowSession.ended_at.is_(None)),
            ),
        )
        # The session this very start made comes first, so that a replay answers with it.
        .order_by((ShadowSession.client_uuid == client_uuid).desc())
        .limit(1)
    )


def record_observation_starting(
    *,
    manager: User,
    agent: User,
    session_uuid: uuid.UUID,
    entry: "ObservationInput",
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
) -> tuple[ShadowSession, Observation, bool]:
    """The first entry of a session made on the screen: it starts the session (or joins the
    one open with the agent) and is saved in it, in one unit of work."""
    replayed = _observation_by_uuid(manager.id, client_uuid)
    if replayed is not None:
        return replayed.session, replayed, False
    session = start_session(
        manager=manager, agent=agent, client_uuid=session_uuid, now=min(occurred_at, now)
    )
    observation, created = record_observation(
        session=session,
        author=manager,
        entry=entry,
        client_uuid=client_uuid,
        occurred_at=occurred_at,
        now=now,
    )
    return session, observation, created


def record_observation(
    *,
    session: ShadowSession,
    author: User,
    entry: ObservationInput,
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
    looks_for_replay_first: bool = False,
) -> tuple[Observation, bool]:
    """Add an entry to an open session; returns (observation, created). A replay creates nothing,
    and answers with the first one even once its session has ended.

    `looks_for_replay_first` after an insert of the caller's own stored nothing (most likely a
    replay): the entry is looked for before it is inserted again."""
    if not session.is_open or looks_for_replay_first:
        existing = _observation_by_uuid(author.id, client_uuid)
        if existing is not None:
            return existing, False
        if not session.is_open:
            raise SessionEnded()
    observation = record_observation_once(
        session=session,
        author=author,
        entry=entry,
        client_uuid=client_uuid,
        occurred_at=occurred_at,
        now=now,
    )
    if observation is None:
        replayed = _observation_by_uuid(author.id, client_uuid)
        assert replayed is not None  # the insert met its row
        return replayed, False
    return observation, True


def record_observation_once(
    *,
    session: ShadowSession,
    author: User,
    entry: ObservationInput,
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
    behaviour_of_profile: int | None = None,
) -> Observation | None:
    """Add an entry to an open session in one INSERT that cannot store it twice; None when the
    author already stored an entry with that UUID (the caller answers with that one).

    The one write of every save, the screen's and the phone's: the replay check is the insert
    itself, and a correction takes its ladder step in the same unit of work.

    With `behaviour_of_profile` (the agent's role profile), the behaviour the entry names is
    checked by the insert itself: nothing is stored, and None comes back too, unless it is an
    active behaviour of that profile (the caller, finding no replay, refuses the behaviour).
    The phone's save asks no other statement about the behaviour that way.
    """
    values = {
        "session_id": session.id,
        "author_id": author.id,
        "agent_id": session.agent_id,
        **_given_values(entry, client_uuid, occurred_at, now),
    }
    checked = behaviour_of_profile is not None and entry.behaviour_id is not None
    new_id = insert_new(
        Observation,
        values,
        unique=["author_id", "client_uuid"],
        only_if=_behaviour_of_the_profile if checked else None,
        params={"profile_id": behaviour_of_profile} if checked else None,
    )
    if new_id is None:
        return None
    # The row is known whole: the object joins the session as loaded, without reading it back.
    observation = Observation(id=new_id, **values)
    # A new id can only be held by an object of a rolled-back transaction (SQLite gives a
    # rolled-back id again): that one is gone from the database, so it goes from the session.
    stale = db.session.identity_map.get(
        sa.inspect(Observation).identity_key_from_primary_key((new_id,))
    )
    if stale is not None:
        db.session.expunge(stale)
    make_transient_to_detached(observation)
    db.session.add(observation)
    set_committed_value(observation, "session", session)
    if takes_ladder_step(entry):
        apply_correction(observation, current_ladder())
    return observation


def record_in_open_session(
    *,
    author: User,
    session_key: int | uuid.UUID,
    entry: ObservationInput,
    client_uuid: uuid.UUID,
    occurred_at: datetime,
    now: datetime,
) -> Observation | None:
    """A save of an entry that takes no ladder step, checked and stored by one statement: the
    row is taken from the author's open session (by id, or by the UUID the phone named), with
    its agent in the author's teams, and its behaviour, if it names one, an active one of the
    agent's profile; ON CONFLICT on (author, client UUID) keeps a replay from storing it twice.

    None when any of that does not hold: the caller then asks each question on its own (404,
    session ended, replay, behaviour refused), as the save does without this. What comes back
    is the stored row, not in the ORM session (its session is not loaded): for the answer."""
    assert not takes_ladder_step(entry), "a correction's step needs the session loaded"
    values: dict[str, object] = {
        "author_id": author.id,
        "session_key": session_key,
        **_given_values(entry, client_uuid, occurred_at, now),
    }
    by = "id" if isinstance(session_key, int) else "client_uuid"
    new_id = insert_new(
        Observation,
        values,
        unique=["author_id", "client_uuid"],
        rows=_entry_rows(by, names_a_behaviour=entry.behaviour_id is not None),
    )
    if new_id is None:
        return None
    del values["session_key"]
    return Observation(id=new_id, **values)


def kept_coached(entry: ObservationInput) -> str:
    """What was coached is kept only for a correction (with or without a behaviour)."""
    return entry.coached if entry.kind == ObservationKind.CORRECTION else ""


def takes_ladder_step(entry: ObservationInput) -> bool:
    """A correction of a behaviour opens (or moves) a focus item in the same unit of work."""
    return entry.kind == ObservationKind.CORRECTION and entry.behaviour_id is not None


def _given_values(
    entry: ObservationInput, client_uuid: uuid.UUID, occurred_at: datetime, now: datetime
) -> dict[str, object]:
    """The columns of a new entry that do not come from its session or author."""
    return {
        "kind": entry.kind,
        "behaviour_id": entry.behaviour_id,
        "note": entry.note,
        "coached": kept_coached(entry),
        "client_uuid": client_uuid,
        "occurred_at": occurred_at,
        "recorded_at": now,
        "updated_at": None,
    }


#: The names of `_given_values`, bound as parameters of the one-statement insert.
_GIVEN = (
    "kind",
    "behaviour_id",
    "note",
    "coached",
    "client_uuid",
    "occurred_at",
    "recorded_at",
    "updated_at",
)


@functools.cache
def _entry_rows(by: str, names_a_behaviour: bool) -> Callable[[], sa.Select[Any]]:
    """The SELECT a new entry's row is taken from, per session key and kind of entry: the same
    function each time, so that the insert built from it is built once."""

    def rows() -> sa.Select[Any]:
        table = Observation.__table__
        author_id = sa.bindparam("author_id", type_=sa.Integer)
        key = sa.bindparam("session_key", type_=getattr(ShadowSession, by).type)
        selected = own_open_session_where(author_id, by, key).with_only_columns(
            ShadowSession.id.label("session_id"),
            author_id.label("author_id"),
            ShadowSession.agent_id.label("agent_id"),
            *(sa.bindparam(name, type_=table.c[name].type).label(name) for name in _GIVEN),
            maintain_column_froms=True,
        )
        if not names_a_behaviour:
            return selected
        # An active behaviour of the agent's profile (an agent without a profile has none).
        return selected.where(
            sa.select(Behaviour.id)
            .join(Competency, Competency.id == Behaviour.competency_id)
            .where(
                Behaviour.id == sa.bindparam("behaviour_id"),
                Behaviour.retired_at.is_(None),
                Competency.role_profile_id == User.role_profile_id,
            )
            .exists()
        )

    return rows


def _behaviour_of_the_profile() -> sa.ColumnElement[bool]:
    """The behaviour the entry names is an active one of the profile `:profile_id`."""
    return (
        sa.select(Behaviour.id)
        .join(Competency, Competency.id == Behaviour.competency_id)
        .where(
            Behaviour.id == sa.bindparam("behaviour_id"),
            Behaviour.retired_at.is_(None),
            Competency.role_profile_id == sa.bindparam("profile_id"),
        )
        .exists()
    )


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
    observation.coached = kept_coached(entry)
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
    trainers' inbox. Ending twice changes nothing. A session without entries is deleted:
    nothing was written about the agent, so no log, list or figure may count it."""
    if session.is_open:
        if not _has_entries(session):
            _forget(session)
            return session
        session.ended_at = now
        session.summary_note = summary_note
        db.session.flush()
        _send_obstacles_to_trainers(session, now)
    return session


def was_forgotten(session: ShadowSession) -> bool:
    """Whether ending deleted the session (it had no entry)."""
    state = sa.inspect(session)
    return state.deleted or state.detached


def end_idle_session(session: ShadowSession) -> None:
    """End a session left without an entry for IDLE_LIMIT: at its last entry, marked as ended
    automatically, with its entries kept; an empty one leaves no trace.

    Each step is one conditional statement, so that cron on several machines, or a page load
    beside it, ends a session once: whoever comes second changes nothing."""
    last = _last_entry_at(session)
    if last is None:
        db.session.execute(
            sa.delete(ShadowSession)
            .where(
                ShadowSession.id == session.id,
                ShadowSession.ended_at.is_(None),
                ~_holds_an_entry(),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.expunge(session)
        return
    ended_at = max(last, session.started_at)
    claimed = db.session.execute(
        sa.update(ShadowSession)
        .where(ShadowSession.id == session.id, ShadowSession.ended_at.is_(None))
        .values(ended_at=ended_at, ended_automatically=True)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(session, ["ended_at", "ended_automatically"])
    if claimed.rowcount == 1:
        _send_obstacles_to_trainers(session, ended_at)


def end_idle_sessions(*, now: datetime, manager_id: int | None = None) -> int:
    """End every open session idle for IDLE_LIMIT (of one manager, or all for cron's
    `flask sessions end-idle`); one query when none is idle. Returns how many ended."""
    last_entry = (
        sa.select(sa.func.max(Observation.occurred_at))
        .where(Observation.session_id == ShadowSession.id)
        .correlate(ShadowSession)
        .scalar_subquery()
    )
    query = sa.select(ShadowSession).where(
        ShadowSession.ended_at.is_(None),
        sa.func.coalesce(last_entry, ShadowSession.started_at) <= now - IDLE_LIMIT,
    )
    if manager_id is not None:
        query = query.where(ShadowSession.manager_id == manager_id)
    idle = db.session.scalars(query.order_by(ShadowSession.id)).all()
    for session in idle:
        end_idle_session(session)
    return len(idle)


def end_if_idle(session: ShadowSession, *, now: datetime) -> bool:
    """End the session if it has been idle for IDLE_LIMIT (lazily, when someone loads it)."""
    if session.is_open and _idle(session, now):
        end_idle_session(session)
        return True
    return False


def open_sessions(manager: User) -> Sequence[ShadowSession]:
    """The manager's open sessions that hold an entry, newest first, each with its agent."""
    return db.session.scalars(
        sa.select(ShadowSession)
        .where(
            ShadowSession.manager_id == manager.id,
            ShadowSession.ended_at.is_(None),
            _holds_an_entry(),
        )
        .options(so.joinedload(ShadowSession.agent))
        .order_by(ShadowSession.started_at.desc())
    ).all()


def agents_to_shadow(manager: User, *, search: str = "") -> Sequence[sa.Row[tuple[User, datetime]]]:
    """The manager's active agents, recently shadowed by them first, as (agent, last shadowed);
    `search` keeps the names that contain it."""
    last_shadowed = (
        sa.select(sa.func.max(ShadowSession.started_at))
        .where(
            ShadowSession.agent_id == User.id,
            ShadowSession.manager_id == manager.id,
            _holds_an_entry(),
        )
        .scalar_subquery()
    )
    query = (
        visible_agents(manager)
        .add_columns(last_shadowed.label("last_shadowed"))
        .where(User.active.is_(True))
        .order_by(last_shadowed.desc().nulls_last(), User.name)
    )
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.name.ilike(f"%{escaped}%", escape="\\"))
    return db.session.execute(query).all()


def _holds_an_entry() -> sa.ColumnElement[bool]:
    return (
        sa.select(Observation.id)
        .where(Observation.session_id == ShadowSession.id)
        .correlate(ShadowSession)
        .exists()
    )


def _idle(session: ShadowSession, now: datetime) -> bool:
    last = _last_entry_at(session) or session.started_at
    return last <= now - IDLE_LIMIT


def _last_entry_at(session: ShadowSession) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(Observation.occurred_at)).where(Observation.session_id == session.id)
    )


def _has_entries(session: ShadowSession) -> bool:
    return _last_entry_at(session) is not None


def _forget(session: ShadowSession) -> None:
    # No audit event either: the audit log records who did what to a person's records and who
    # saw them; a session without an entry never held anything about the agent, and an event
    # "empty session deleted" would itself be the trace this rule removes.
    db.session.delete(session)
    db.session.flush()


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

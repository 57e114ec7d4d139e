"""The rules of a thread: who may write, when a message is read, and why it then stays as it is."""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Comment, CommentKind, Observation, Role, ShadowSession, User
from coachapp.scope import agent_or_404, visible_agents
from coachapp.unit_of_work import insert_once


class AlreadyRead(DomainError):
    message = _l(
        "This message has already been read, so it stays as it is: threads are part of the "
        "record. Add a new message instead."
    )


class OnlyTheAgent(DomainError):
    status_code = 422
    message = _l("Only the agent can mark an observation as seen or ask about it.")


def shared_observation_or_404(viewer: User, observation_id: int) -> Observation:
    """An observation from an ended session about an agent `viewer` may read; else 404."""
    observation = db.session.get(Observation, observation_id)
    if observation is None or observation.session.ended_at is None:
        abort(404)
    agent_or_404(viewer, observation.agent_id)
    return observation


def own_comment_or_404(author: User, comment_id: int) -> Comment:
    """A message `author` wrote, on an observation they may still see; else 404."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.author_id != author.id:
        abort(404)
    shared_observation_or_404(author, comment.observation_id)
    return comment


def may_write(viewer: User, observation: Observation) -> bool:
    """The agent about whom it was written, and the managers of the agent's team (the caller
    has already checked that `viewer` may see the observation at all)."""
    if viewer.role == Role.AGENT:
        return viewer.id == observation.agent_id
    return viewer.role == Role.MANAGER


def is_for(reader: User, comment: Comment) -> bool:
    """Whether `comment` is written to `reader`: a manager's message to the agent, or the
    agent's message to the managers of their team. Trainers read along but are nobody's
    "other side"."""
    if comment.author_id == reader.id:
        return False
    if reader.role == Role.AGENT:
        return reader.id == comment.observation.agent_id
    return reader.role == Role.MANAGER and comment.by_agent


def post(
    *,
    observation: Observation,
    author: User,
    kind: CommentKind,
    body: str,
    client_uuid: uuid.UUID,
    now: datetime,
) -> Comment:
    """Add a message to the thread; a replayed form or a second "seen" adds nothing."""
    replayed = _by_uuid(author.id, client_uuid)
    if replayed is not None:
        return replayed
    if kind in (CommentKind.SEEN, CommentKind.QUESTION) and author.id != observation.agent_id:
        raise OnlyTheAgent()
    if kind == CommentKind.SEEN:
        seen = seen_by_agent(observation)
        if seen is not None:
            return seen
        body = ""
    comment = Comment(
        observation_id=observation.id,
        author_id=author.id,
        kind=kind,
        body=body,
        client_uuid=client_uuid,
        created_at=now,
    )
    return insert_once(comment, lambda: _by_uuid(author.id, client_uuid))


def edit(*, comment: Comment, body: str, now: datetime) -> Comment:
    """Change a message the other side has not read yet (checked in the same statement)."""
    if comment.kind == CommentKind.SEEN:
        raise AlreadyRead()
    changed = db.session.execute(
        sa.update(Comment)
        .where(Comment.id == comment.id, Comment.read_at.is_(None))
        .values(body=body, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        db.session.rollback()
        raise AlreadyRead()
    db.session.refresh(comment)
    return comment


def remove(*, comment: Comment) -> None:
    """Take back a message the other side has not read yet."""
    removed = db.session.execute(
        sa.delete(Comment)
        .where(Comment.id == comment.id, Comment.read_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    if removed.rowcount != 1:
        db.session.rollback()
        raise AlreadyRead()
    db.session.expunge(comment)


def threads_for(
    observations: Iterable[Observation], reader: User, now: datetime
) -> dict[int, list[Comment]]:
    """The messages under each observation, oldest first; the ones written to `reader` are
    marked read now, because this is what puts them on the reader's screen."""
    ids = [o.id for o in observations]
    if not ids:
        return {}
    comments = db.session.scalars(
        sa.select(Comment)
        .where(Comment.observation_id.in_(ids))
        .options(so.joinedload(Comment.author), so.joinedload(Comment.observation))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    unread = [c for c in comments if c.read_at is None and is_for(reader, c)]
    if unread:
        db.session.execute(
            sa.update(Comment)
            .where(Comment.id.in_([c.id for c in unread]), Comment.read_at.is_(None))
            .values(read_at=now, read_by_id=reader.id)
            .execution_options(synchronize_session=False)
        )
        for comment in unread:
            so.attributes.set_committed_value(comment, "read_at", now)
            so.attributes.set_committed_value(comment, "read_by_id", reader.id)
    grouped: dict[int, list[Comment]] = defaultdict(list)
    for comment in comments:
        grouped[comment.observation_id].append(comment)
    return grouped


def seen_by_agent(observation: Observation) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).where(
            Comment.observation_id == observation.id,
            Comment.kind == CommentKind.SEEN,
            Comment.author_id == observation.agent_id,
        )
    )


def unread_replies(manager: User) -> Sequence[Comment]:
    """The agents' replies and questions no manager of their team has read yet, oldest first."""
    if manager.role != Role.MANAGER:
        return []
    agents = visible_agents(manager).where(User.active.is_(True)).with_only_columns(User.id)
    return db.session.scalars(
        sa.select(Comment)
        .join(Comment.observation)
        .join(Observation.session)
        .where(
            Comment.read_at.is_(None),
            Comment.kind.in_([CommentKind.REPLY, CommentKind.QUESTION]),
            Comment.author_id == Observation.agent_id,
            Observation.agent_id.in_(agents),
            ShadowSession.ended_at.is_not(None),
        )
        .options(
            so.contains_eager(Comment.observation).options(
                so.joinedload(Observation.agent), so.joinedload(Observation.behaviour)
            )
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()


def _by_uuid(author_id: int, client_uuid: uuid.UUID) -> Comment | None:
    return db.session.scalar(
        sa.select(Comment).where(Comment.author_id == author_id, Comment.client_uuid == client_uuid)
    )

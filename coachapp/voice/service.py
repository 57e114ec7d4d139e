"""Raising an obstacle or a suggestion, and the trainers moving it through its statuses."""

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import (
    Role,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionUpdate,
    User,
)
from coachapp.unit_of_work import insert_once

#: Who may raise one; trainers answer them.
AUTHORS = (Role.AGENT, Role.MANAGER)

#: What the inbox shows unless asked otherwise: everything not settled yet.
OPEN_STATUSES = (SuggestionStatus.NEW, SuggestionStatus.ACKNOWLEDGED, SuggestionStatus.BEING_FIXED)


class ReasonNeeded(DomainError):
    status_code = 422
    message = _l("Say why it will not be fixed: the person who raised it reads this.")


class NothingChanged(DomainError):
    status_code = 422
    message = _l("Choose another status, or write a note to add.")


def raise_suggestion(
    *, author: User, kind: SuggestionKind, text: str, client_uuid: uuid.UUID, now: datetime
) -> Suggestion:
    """Send an obstacle or a suggestion to the trainers; a replayed form sends it once."""
    existing = _by_uuid(author.id, client_uuid)
    if existing is not None:
        return existing
    suggestion = Suggestion(
        author_id=author.id, kind=kind, text=text, client_uuid=client_uuid, created_at=now
    )
    # At a session's end the UUID is an entry's: only a concurrent end of the same session, which
    # committed the whole end, can have stored it first.
    return insert_once(suggestion, lambda: _by_uuid(author.id, client_uuid))


def change_status(
    *, suggestion: Suggestion, by: User, status: SuggestionStatus, note: str, now: datetime
) -> SuggestionUpdate:
    """Move it on (or add a note); "won't fix" needs a reason."""
    if status == SuggestionStatus.WONT_FIX and not note:
        raise ReasonNeeded()
    if status == suggestion.status and not note:
        raise NothingChanged()
    update = SuggestionUpdate(status=status, note=note, by_id=by.id, at=now)
    suggestion.updates.append(update)
    if status != suggestion.status:
        suggestion.status = status
        suggestion.status_changed_at = now
    db.session.flush()
    return update


def mine(author: User) -> Sequence[Suggestion]:
    return db.session.scalars(
        sa.select(Suggestion)
        .where(Suggestion.author_id == author.id)
        .options(so.selectinload(Suggestion.updates))
        .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
    ).all()


def inbox(statuses: Sequence[SuggestionStatus]) -> Sequence[Suggestion]:
    """The trainers' inbox: oldest first, so that nothing waits forever."""
    return db.session.scalars(
        sa.select(Suggestion)
        .where(Suggestion.status.in_(statuses))
        .options(so.joinedload(Suggestion.author))
        .order_by(Suggestion.created_at, Suggestion.id)
    ).all()


def counts_by_status() -> Counter[SuggestionStatus]:
    rows = db.session.execute(
        sa.select(Suggestion.status, sa.func.count()).group_by(Suggestion.status)
    ).all()
    return Counter({status: count for status, count in rows})


def readable_or_404(viewer: User, suggestion_id: int) -> Suggestion:
    """The author follows their own; trainers read every one; anybody else gets 404."""
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None:
        abort(404)
    if viewer.role != Role.TRAINER and suggestion.author_id != viewer.id:
        abort(404)
    return suggestion


def _by_uuid(author_id: int, client_uuid: uuid.UUID) -> Suggestion | None:
    return db.session.scalar(
        sa.select(Suggestion).where(
            Suggestion.author_id == author_id, Suggestion.client_uuid == client_uuid
        )
    )

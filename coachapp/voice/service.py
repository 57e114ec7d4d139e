"""Raising an obstacle or a suggestion, and the trainers moving it through its statuses."""

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import (
    Behaviour,
    Observation,
    ObservationKind,
    Role,
    Suggestion,
    SuggestionKind,
    SuggestionStatus,
    SuggestionUpdate,
    Team,
    User,
    manager_teams,
)
from coachapp.parsing import parse_id
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


# --- the inbox: filters, search, repeated obstacles grouped, a page at a time ----------------

#: Groups per page of the inbox; "Load more" brings the next page.
PAGE_SIZE = 20


@dataclass(frozen=True)
class InboxFilter:
    """What the trainer asked for, read from the URL; values that are no choice are dropped."""

    status: str = "open"
    kind: str = ""
    team: int | None = None
    behaviour: int | None = None
    q: str = ""
    oldest_first: bool = False

    @classmethod
    def from_args(
        cls, args: Mapping[str, str], *, teams: set[int], behaviours: set[int]
    ) -> "InboxFilter":
        status = args.get("status", "open")
        if status not in {s.value for s in SuggestionStatus} | {"open", "all"}:
            status = "open"
        kind = args.get("kind", "")
        kind = kind if kind in {k.value for k in SuggestionKind} else ""
        team, behaviour = (_choice(args.get(name), allowed) for name, allowed in
                           (("team", teams), ("behaviour", behaviours)))  # fmt: skip
        return cls(
            status=status,
            kind=kind,
            team=team,
            behaviour=behaviour,
            q=(args.get("q") or "").strip()[:200],
            oldest_first=args.get("order") == "oldest",
        )

    def args(self, **changes: object) -> dict[str, object]:
        values: dict[str, object] = {
            "status": self.status if self.status != "open" else None,
            "kind": self.kind or None,
            "team": self.team,
            "behaviour": self.behaviour,
            "q": self.q or None,
            "order": "oldest" if self.oldest_first else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v is not None}

    @property
    def statuses(self) -> tuple[SuggestionStatus, ...]:
        if self.status == "all":
            return tuple(SuggestionStatus)
        if self.status == "open":
            return OPEN_STATUSES
        return (SuggestionStatus(self.status),)


def _choice(raw: str | None, allowed: set[int]) -> int | None:
    raw = (raw or "").strip()
    value = parse_id(raw)
    return value if value in allowed else None


@dataclass
class Group:
    """One obstacle or suggestion, or a repeated obstacle: the same behaviour or wording."""

    key: tuple[str, object]
    #: Newest first (or oldest first when asked); the first is the one shown.
    members: list[Suggestion]
    behaviour_name: str = ""

    @property
    def first(self) -> Suggestion:
        return self.members[0]

    @property
    def count(self) -> int:
        return len(self.members)


@dataclass
class InboxPage:
    groups: list[Group]
    page: int
    has_more: bool
    total_groups: int
    total: int


def _wording(text: str) -> str:
    """The same obstacle in other words of case, spacing and final punctuation reads as one."""
    return " ".join(text.lower().split()).rstrip(".!?… ")


def inbox_page(inbox_filter: InboxFilter, *, page: int, pages: int = 1) -> InboxPage:
    """Pages `page` to `page + pages - 1` of the grouped inbox, in three statements: the light
    rows of every match (to group and count), the shown suggestions with their authors, and the
    behaviour names."""
    behaviour_of = (
        sa.select(Observation.behaviour_id)
        .where(
            Observation.author_id == Suggestion.author_id,
            Observation.client_uuid == Suggestion.client_uuid,
            Observation.kind == ObservationKind.OBSTACLE,
        )
        .limit(1)
        .correlate(Suggestion)
        .scalar_subquery()
    )
    query = sa.select(
        Suggestion.id, Suggestion.kind, Suggestion.text, behaviour_of, Suggestion.created_at
    ).where(Suggestion.status.in_(inbox_filter.statuses))
    if inbox_filter.kind:
        query = query.where(Suggestion.kind == SuggestionKind(inbox_filter.kind))
    if inbox_filter.behaviour is not None:
        query = query.where(behaviour_of == inbox_filter.behaviour)
    if inbox_filter.team is not None:
        query = query.where(Suggestion.author_id.in_(_people_of_team(inbox_filter.team)))
    if inbox_filter.q:
        query = query.where(
            sa.func.lower(Suggestion.text).contains(inbox_filter.q.lower(), autoescape=True)
        )
    newest = not inbox_filter.oldest_first
    order = (Suggestion.created_at.desc(), Suggestion.id.desc()) if newest else (
        Suggestion.created_at, Suggestion.id)  # fmt: skip
    rows = db.session.execute(query.order_by(*order)).all()

    grouped: dict[tuple[str, object], list[int]] = {}
    behaviours: dict[tuple[str, object], int | None] = {}
    for suggestion_id, kind, text, behaviour_id, _created in rows:
        if kind == SuggestionKind.OBSTACLE:
            key: tuple[str, object] = (
                ("behaviour", behaviour_id)
                if behaviour_id is not None
                else ("text", _wording(text))
            )
        else:
            key = ("one", suggestion_id)
        grouped.setdefault(key, []).append(suggestion_id)
        behaviours.setdefault(key, behaviour_id)
    keys = list(grouped)  # in order of their first (newest or oldest) member
    start, stop = (page - 1) * PAGE_SIZE, (page - 1 + pages) * PAGE_SIZE
    shown = keys[start:stop]
    ids = [i for key in shown for i in grouped[key]]
    loaded = (
        {
            s.id: s
            for s in db.session.scalars(
                sa.select(Suggestion)
                .where(Suggestion.id.in_(ids))
                .options(so.joinedload(Suggestion.author))
            )  # fmt: skip
        }
        if ids
        else {}
    )
    names = _behaviour_names({b for k in shown if (b := behaviours[k]) is not None})
    groups = [
        Group(
            key=key,
            members=[loaded[i] for i in grouped[key]],
            behaviour_name=names.get(behaviours[key] or 0, ""),
        )
        for key in shown
    ]
    return InboxPage(
        groups=groups,
        page=page + pages - 1,
        has_more=stop < len(keys),
        total_groups=len(keys),
        total=len(rows),
    )


def _people_of_team(team_id: int) -> sa.Select[tuple[int]]:
    """The team's agents and its managers: whose obstacles and suggestions belong to it."""
    managers = sa.select(manager_teams.c.manager_id).where(manager_teams.c.team_id == team_id)
    return sa.select(User.id).where(sa.or_(User.team_id == team_id, User.id.in_(managers)))


def _behaviour_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Behaviour.id, Behaviour.name).where(Behaviour.id.in_(ids))
        ).all()
    )  # type: ignore[arg-type]


def filter_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Teams (not archived) and behaviours to filter the inbox by."""
    teams = db.session.execute(
        sa.select(Team.id, Team.name).where(Team.archived_at.is_(None)).order_by(Team.name)
    ).all()
    behaviours = db.session.execute(
        sa.select(Behaviour.id, Behaviour.name).order_by(Behaviour.name, Behaviour.id)
    ).all()
    return [(i, n) for i, n in teams], [(i, n) for i, n in behaviours]

"""Teams: create, rename, archive, managers and agents. Services add and flush; the caller
commits once."""

from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Team, User

TEAM_NAME_MAX_LENGTH = 120


class TeamNameError(DomainError):
    status_code = 422
    message = _l("Give the team a name.")


class TeamNameTaken(TeamNameError):
    message = _l("There is already a team of that name.")


class TeamNameTooLong(TeamNameError):
    message = _l("Keep the team's name within 120 characters.")


def clean_team_name(name: str, *, renaming: Team | None = None) -> str:
    """The name as it will be stored, or a TeamNameError that says what is wrong with it."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise TeamNameError()
    if len(cleaned) > TEAM_NAME_MAX_LENGTH:
        raise TeamNameTooLong()
    existing = team_named(cleaned)
    if existing is not None and existing is not renaming:
        raise TeamNameTaken()
    return cleaned


def team_named(name: str) -> Team | None:
    """The team of that name, archived or not, ignoring case and spacing."""
    cleaned = " ".join((name or "").split())
    return db.session.scalar(
        sa.select(Team).where(sa.func.lower(Team.name) == cleaned.lower()).limit(1)
    )


def create_team(*, name: str, actor: User | None) -> Team:
    """A new team; audited when a person (not a command or the demo data) creates it."""
    team = Team(name=clean_team_name(name))
    db.session.add(team)
    db.session.flush()
    if actor is not None:
        audit.record("team.created", actor=actor, details=f"team {team.id}", commit=False)
    return team


def active_teams() -> Sequence[Team]:
    """The teams people can be put in, by name (archived teams are left out)."""
    return db.session.scalars(
        sa.select(Team).where(Team.archived_at.is_(None)).order_by(Team.name)
    ).all()

"""Teams: create, rename, archive, managers and agents. Services add and flush; the caller
commits once."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import AuditEvent, Invitation, Role, Team, User, manager_teams

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
        audit.record("team.created", actor=actor, details=f"team {team.id}")
    return team


def active_teams() -> Sequence[Team]:
    """The teams people can be put in, by name (archived teams are left out)."""
    return db.session.scalars(
        sa.select(Team).where(Team.archived_at.is_(None)).order_by(Team.name)
    ).all()


class TeamNotEmpty(DomainError):
    status_code = 422
    message = _l("Move this team's agents to another team, or withdraw its invitations, first.")


class TeamHasHistory(DomainError):
    status_code = 422
    message = _l("This team has people or history: archive it instead.")


class NoTargetTeam(DomainError):
    status_code = 422
    message = _l("Choose another active team to move them to.")


class NoAgentsChosen(DomainError):
    status_code = 422
    message = _l("Choose at least one agent to move.")


@dataclass(frozen=True)
class TeamRow:
    """A team as the list shows it."""

    team: Team
    agents: int
    managers: int


def team_or_404(team_id: int) -> Team:
    return db.get_or_404(Team, team_id)


def team_rows() -> list[TeamRow]:
    """Every team with its active agents and managers counted, active teams first, by name."""
    agents = (
        sa.select(sa.func.count(User.id))
        .where(User.team_id == Team.id, User.role == Role.AGENT, User.active.is_(True))
        .scalar_subquery()
    )
    managers = (
        sa.select(sa.func.count())
        .select_from(manager_teams)
        .where(manager_teams.c.team_id == Team.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Team, agents, managers).order_by(
            Team.archived_at.is_not(None), sa.func.lower(Team.name)
        )
    ).all()
    return [TeamRow(team, agent_count, manager_count) for team, agent_count, manager_count in rows]


def agents_of(team: Team) -> Sequence[User]:
    """The team's agents, active ones first, by name."""
    return db.session.scalars(
        sa.select(User)
        .where(User.team_id == team.id, User.role == Role.AGENT)
        .order_by(User.active.desc(), User.name)
    ).all()


def managers_on_offer(team: Team) -> Sequence[User]:
    """Active managers, and anyone switched off who still manages this team."""
    return db.session.scalars(
        sa.select(User)
        .where(
            User.role == Role.MANAGER,
            sa.or_(User.active.is_(True), User.managed_teams.any(Team.id == team.id)),
        )
        .order_by(User.name)
    ).all()


def rename_team(*, team: Team, name: str, actor: User) -> None:
    cleaned = clean_team_name(name, renaming=team)
    if cleaned == team.name:
        return
    team.name = cleaned
    db.session.flush()
    audit.record("team.renamed", actor=actor, details=f"team {team.id}")


def archive_team(*, team: Team, actor: User, now: datetime) -> None:
    """Archive: the team leaves every choice of team; its records stay readable."""
    if team.archived_at is not None:
        return
    if _has_active_agents(team) or _has_pending_invitations(team, now):
        raise TeamNotEmpty()
    team.archived_at = now
    db.session.flush()
    audit.record("team.archived", actor=actor, details=f"team {team.id}")


def restore_team(*, team: Team, actor: User) -> None:
    if team.archived_at is None:
        return
    team.archived_at = None
    db.session.flush()
    audit.record("team.restored", actor=actor, details=f"team {team.id}")


def can_be_deleted(team: Team) -> bool:
    """No agents (ever in it now, active or not), no managers, no invitations, no moves in or out
    in the audit log: a team made by mistake."""
    anyone = sa.select(User.id).where(User.team_id == team.id).exists()
    invited = sa.select(Invitation.id).where(Invitation.team_id == team.id).exists()
    managed = sa.select(manager_teams.c.team_id).where(manager_teams.c.team_id == team.id).exists()
    if db.session.scalar(sa.select(sa.or_(anyone, invited, managed))):
        return False
    return not _moved_through(team)


def delete_team(*, team: Team, actor: User) -> None:
    if not can_be_deleted(team):
        raise TeamHasHistory()
    team_id = team.id
    # A bulk delete: the write-only agents collection cannot be loaded to unlink (it is empty).
    db.session.expunge(team)
    db.session.execute(sa.delete(Team).where(Team.id == team_id))
    audit.record("team.deleted", actor=actor, details=f"team {team_id}")


def set_managers(*, team: Team, managers: Sequence[User], actor: User) -> None:
    """Who manages the team; a manager may manage several teams, so others are untouched."""
    before = sorted(m.id for m in team.managers)
    after = sorted({m.id for m in managers if m.role == Role.MANAGER})
    if before == after:
        return
    team.managers = [m for m in managers if m.role == Role.MANAGER]
    db.session.flush()
    audit.record(
        "team.managers_changed",
        actor=actor,
        details=f"team {team.id} managers {_codes(before)}→{_codes(after)}",
    )


def move_agents(*, agents: Sequence[User], source: Team, target: Team | None, actor: User) -> int:
    """Move agents of `source` to `target`, each move audited as people.service.change_role does.

    Observations, focus items and follow-ups belong to the agent, not the team: they follow.
    """
    if target is None or target.id == source.id or target.archived_at is not None:
        raise NoTargetTeam()
    moving = [a for a in agents if a.role == Role.AGENT and a.team_id == source.id]
    if not moving:
        raise NoAgentsChosen()
    for agent in moving:
        agent.team = target
        audit.record(
            "user.team_changed",
            actor=actor,
            subject=agent,
            details=f"team {source.id}→{target.id}",
        )
    db.session.flush()
    return len(moving)


def _has_active_agents(team: Team) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.select(User.id)
                .where(User.team_id == team.id, User.role == Role.AGENT, User.active.is_(True))
                .exists()
            )
        )
    )


def _has_pending_invitations(team: Team, now: datetime) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.select(Invitation.id)
                .where(
                    Invitation.team_id == team.id,
                    Invitation.used_at.is_(None),
                    Invitation.revoked_at.is_(None),
                    Invitation.expires_at > now,
                )
                .exists()
            )
        )
    )


_TEAM_CHANGE = re.compile(r"team ([\d,-]+)→([\d,-]+)")


def _moved_through(team: Team) -> bool:
    """Whether the audit log shows anyone moved into or out of the team (people.service and
    move_agents write "team OLD→NEW", where each side is "-" or comma-separated ids)."""
    details = db.session.scalars(
        sa.select(AuditEvent.details).where(
            AuditEvent.action.in_(("user.team_changed", "user.role_changed")),
            AuditEvent.details.contains(str(team.id)),
        )
    )
    wanted = str(team.id)
    for text in details:
        for old, new in _TEAM_CHANGE.findall(text or ""):
            if wanted in old.split(",") or wanted in new.split(","):
                return True
    return False


def _codes(ids: Sequence[int]) -> str:
    return ",".join(str(i) for i in ids) or "-"

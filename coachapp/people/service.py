"""What an admin does to people: switch accounts off and on, change role and teams, reset
passkeys. Every change is audited; nobody changes their own account here."""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.auth.sessions import end_all_sessions
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Passkey, Role, RoleProfile, Team, User

#: The order people are listed in.
ROLE_ORDER = [Role.ADMIN, Role.MANAGER, Role.TRAINER, Role.AGENT]


class NotOnYourself(DomainError):
    message = _l("You cannot switch off or change your own account. Ask another admin.")


class SwitchedOff(DomainError):
    message = _l("This account is switched off. Switch it back on first.")


def person_or_404(person_id: int) -> User:
    return db.get_or_404(User, person_id)


def people_by_role() -> dict[Role, Sequence[User]]:
    people = db.session.scalars(
        sa.select(User)
        .options(so.selectinload(User.team), so.selectinload(User.managed_teams))
        .order_by(User.team_id, User.name)
    ).all()
    return {role: [p for p in people if p.role == role] for role in ROLE_ORDER}


def passkey_counts() -> dict[int, int]:
    rows = db.session.execute(
        sa.select(Passkey.user_id, sa.func.count()).group_by(Passkey.user_id)
    ).all()
    return {user_id: count for user_id, count in rows}


def deactivate(*, person: User, actor: User) -> int:
    """Switch the account off and end every session it has, on every device."""
    _not_yourself(person, actor)
    person.active = False
    ended = end_all_sessions(person)
    audit.record("user.deactivated", actor=actor, subject=person, details=f"sessions {ended}")
    return ended


def reactivate(*, person: User, actor: User) -> None:
    _not_yourself(person, actor)
    person.active = True
    audit.record("user.reactivated", actor=actor, subject=person)


def change_role(
    *,
    person: User,
    actor: User,
    role: Role,
    team: Team | None,
    managed_teams: Sequence[Team],
    role_profile: RoleProfile | None,
) -> None:
    """Set role, team (agents), managed teams (managers) and role profile; audit old→new codes."""
    _not_yourself(person, actor)
    old_role, old_team = person.role, _team_code(person)
    old_profile = person.role_profile_id
    person.role = role
    person.team = team if role == Role.AGENT else None
    person.managed_teams = list(managed_teams) if role == Role.MANAGER else []
    if role == Role.AGENT and role_profile is not None:
        person.role_profile = role_profile
    new_team = _team_code(person)
    if role == Role.AGENT and role_profile is not None and role_profile.id != old_profile:
        # Past observations keep the behaviours they were logged against, whatever the profile.
        audit.record(
            "user.profile_changed",
            actor=actor,
            subject=person,
            details=f"profile {old_profile or '-'}→{role_profile.id}",
        )
    if old_role != role:
        audit.record(
            "user.role_changed",
            actor=actor,
            subject=person,
            details=f"{old_role.value}→{role.value} team {old_team}→{new_team}",
        )
    elif old_team != new_team:
        audit.record(
            "user.team_changed", actor=actor, subject=person, details=f"team {old_team}→{new_team}"
        )


def remove_all_passkeys(*, person: User, actor: User) -> int:
    """A lost or stolen phone: its passkeys stop working and its sessions end, now."""
    removed = db.session.execute(sa.delete(Passkey).where(Passkey.user_id == person.id)).rowcount
    ended = end_all_sessions(person)
    audit.record(
        "passkey.removed", actor=actor, subject=person, details=f"all {removed} sessions {ended}"
    )
    return removed or 0


def can_be_reset(person: User) -> None:
    if not person.active:
        raise SwitchedOff()


def _not_yourself(person: User, actor: User) -> None:
    if person.id == actor.id:
        raise NotOnYourself()


def _team_code(person: User) -> str:
    if person.role == Role.MANAGER:
        return ",".join(str(t.id) for t in sorted(person.managed_teams, key=lambda t: t.id)) or "-"
    return str(person.team_id) if person.team_id is not None else "-"


def all_teams() -> Sequence[Team]:
    """The teams on offer in the invitation and person forms: archived teams are left out."""
    return db.session.scalars(
        sa.select(Team).where(Team.archived_at.is_(None)).order_by(Team.name)
    ).all()


def all_profiles() -> Sequence[RoleProfile]:
    return db.session.scalars(sa.select(RoleProfile).order_by(RoleProfile.name)).all()


def abort_unless(allowed: bool) -> None:
    if not allowed:
        abort(404)

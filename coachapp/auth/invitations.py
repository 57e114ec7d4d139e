"""Invitations: single-use links that let a new person create a passkey, or an existing one add
one after losing their phone. The token is shown once; only its SHA-256 is stored."""

import base64
import hashlib
import io
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, NoReturn

import segno
import sqlalchemy as sa
from flask import abort, url_for

from coachapp import audit
from coachapp.extensions import db
from coachapp.models import Invitation, Role, RoleProfile, Team, User, manager_teams

#: 24 random bytes: 192 bits, well above the 128 a link that opens an account needs.
TOKEN_BYTES = 24
INVITATION_TTL = timedelta(hours=72)

Refusal = Literal["unknown", "expired", "revoked", "used", "inactive"]


class InvitationRefused(Exception):
    """The link cannot be used; `reason` says why (a code for the audit log and the page)."""

    def __init__(self, reason: Refusal, invitation: Invitation | None = None) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason
        self.invitation = invitation


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_invite(*, inviter: User, role: Role, team: Team | None) -> bool:
    """Admins invite anyone; a manager invites agents into the teams they manage."""
    if inviter.role == Role.ADMIN:
        return True
    if inviter.role == Role.MANAGER:
        return role == Role.AGENT and team is not None and team in inviter.managed_teams
    return False


def default_profile(*, team: Team | None) -> RoleProfile | None:
    """The role profile most agents of the team are coached against, for a new agent there;
    in a team without any yet, the organisation's only profile if it has exactly one."""
    profile_id = None
    if team is not None:
        profile_id = db.session.scalar(
            sa.select(User.role_profile_id)
            .where(User.team_id == team.id, User.role_profile_id.is_not(None))
            .group_by(User.role_profile_id)
            .order_by(sa.func.count().desc(), User.role_profile_id)
            .limit(1)
        )
    if profile_id is None:
        only = db.session.scalars(sa.select(RoleProfile.id).limit(2)).all()
        profile_id = only[0] if len(only) == 1 else None
    return db.session.get(RoleProfile, profile_id) if profile_id is not None else None


def create_invitation(
    *,
    created_by: User | None,
    name: str,
    role: Role,
    now: datetime,
    team: Team | None = None,
    role_profile: RoleProfile | None = None,
    email: str | None = None,
) -> tuple[Invitation, str]:
    """A new person's invitation; returns it with the token, which is never stored.

    Added and flushed, not committed: the caller commits once, with whatever else it does."""
    if role == Role.AGENT and role_profile is None:
        role_profile = default_profile(team=team)
    keeps_team = role in (Role.AGENT, Role.MANAGER)
    return _issue(
        Invitation(
            role=role,
            team_id=team.id if team is not None and keeps_team else None,
            role_profile_id=role_profile.id if role_profile and role == Role.AGENT else None,
            name=name,
            email=email or None,
        ),
        created_by=created_by,
        subject=None,
        now=now,
    )


def create_reset_invitation(
    *, created_by: User, person: User, now: datetime
) -> tuple[Invitation, str]:
    """A lost phone: a link that lets `person` add a passkey to their account, nothing else."""
    return _issue(
        Invitation(role=person.role, team_id=person.team_id, name=person.name, user_id=person.id),
        created_by=created_by,
        subject=person,
        now=now,
    )


def _issue(
    invitation: Invitation, *, created_by: User | None, subject: User | None, now: datetime
) -> tuple[Invitation, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation.token_hash = hash_token(token)
    invitation.created_by_id = created_by.id if created_by is not None else None
    invitation.created_at = now
    invitation.expires_at = now + INVITATION_TTL
    db.session.add(invitation)
    db.session.flush()
    kind = "reset" if invitation.is_reset else invitation.role.value
    audit.record(
        "invitation.created",
        actor=created_by,
        subject=subject,
        details=f"invitation {invitation.id} {kind}",
    )
    return invitation, token


def state_of(invitation: Invitation, *, now: datetime) -> Refusal | Literal["pending"]:
    if invitation.used_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if now >= invitation.expires_at:
        return "expired"
    if invitation.user is not None and not invitation.user.active:
        return "inactive"
    return "pending"


def usable_invitation(*, token: object, now: datetime) -> Invitation:
    """The pending invitation this token opens, or InvitationRefused (audited when it is known)."""
    invitation = None
    if isinstance(token, str) and 0 < len(token) <= 200:
        invitation = db.session.scalar(
            sa.select(Invitation).where(Invitation.token_hash == hash_token(token))
        )
    if invitation is None:
        raise InvitationRefused("unknown")
    state = state_of(invitation, now=now)
    if state != "pending":
        refuse(invitation, reason=state)
    return invitation


def refuse(invitation: Invitation, *, reason: Refusal) -> NoReturn:
    """Record that someone tried a link that no longer works, then raise."""
    audit.record(
        "invitation.refused",
        subject=invitation.user,
        details=f"invitation {invitation.id} {reason}",
    )
    raise InvitationRefused(reason, invitation)


def claim(*, invitation: Invitation, now: datetime) -> None:
    """Mark the invitation used, in the caller's transaction; only one of two racing tabs wins."""
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Nothing to undo (the statement matched no row): the used-up challenge stays deleted.
        db.session.refresh(invitation)
        state = state_of(invitation, now=now)
        refuse(invitation, reason="used" if state == "pending" else state)
    invitation.used_at = now


def person_for(*, invitation: Invitation, user_handle: bytes) -> User:
    """The person a claimed invitation is for: the existing one of a reset, or a new one."""
    if invitation.user is not None:
        return invitation.user
    email = invitation.email
    if email and db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        email = None  # someone took the address meanwhile; the admin can set it later
    person = User(
        name=invitation.name,
        email=email,
        role=invitation.role,
        team_id=invitation.team_id if invitation.role == Role.AGENT else None,
        role_profile_id=invitation.role_profile_id,
        webauthn_handle=user_handle,
    )
    if invitation.role == Role.MANAGER and invitation.team is not None:
        person.managed_teams = [invitation.team]
    db.session.add(person)
    db.session.flush()
    return person


def pending_invitations(*, viewer: User, now: datetime) -> Sequence[Invitation]:
    """Invitations still waiting to be used that `viewer` may see and revoke."""
    query = _in_scope(viewer).where(
        Invitation.used_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > now,
    )
    return db.session.scalars(query.order_by(Invitation.created_at.desc())).all()


def invitation_or_404(*, viewer: User, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(_in_scope(viewer).where(Invitation.id == invitation_id))
    if invitation is None:
        abort(404)
    return invitation


def _in_scope(viewer: User) -> sa.Select[tuple[Invitation]]:
    query = sa.select(Invitation)
    if viewer.role == Role.ADMIN:
        return query
    if viewer.role == Role.MANAGER:
        managed = sa.select(manager_teams.c.team_id).where(manager_teams.c.manager_id == viewer.id)
        return query.where(
            Invitation.role == Role.AGENT,
            Invitation.user_id.is_(None),
            Invitation.team_id.in_(managed),
        )
    return query.where(sa.false())


def revoke(*, invitation: Invitation, actor: User, now: datetime) -> bool:
    """Revoke a pending invitation; False when it was already used, revoked or expired."""
    if state_of(invitation, now=now) not in ("pending", "inactive"):
        return False
    invitation.revoked_at = now
    audit.record(
        "invitation.revoked",
        actor=actor,
        subject=invitation.user,
        details=f"invitation {invitation.id}",
    )
    return True


def link_for(token: str, *, origin: str | None) -> str:
    """The invitation's full URL, on the configured origin when there is one (passkeys are bound
    to it), else on the one this request came to. Needs a request context."""
    if origin:
        return origin.rstrip("/") + url_for("auth.invitation", token=token)
    return url_for("auth.invitation", token=token, _external=True)


def qr_data_uri(link: str) -> str:
    """The link as a QR code for a phone's camera: an SVG data URI (the CSP allows img data:)."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(
        buffer, kind="svg", scale=6, border=3, dark="#000", light="#fff", xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

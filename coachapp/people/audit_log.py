"""Reading the audit log: the admin's filtered list, and who opened an agent's log."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from coachapp.extensions import db
from coachapp.models import AuditEvent, User

PER_PAGE = 50
#: How many "who opened my log" entries an agent sees on their own log page.
VIEWERS_SHOWN = 20

#: What each action code means, for people reading the log; unknown codes are shown as they are.
ACTION_LABELS = {
    "signin.success": _l("Signed in"),
    "signin.failure": _l("Sign-in refused"),
    "requests.refused": _l("Many refused requests (probing?)"),
    "passkey.registered": _l("Created a first passkey"),
    "passkey.added": _l("Added a passkey"),
    "passkey.removed": _l("Passkey removed"),
    "passkey.refused": _l("Passkey refused"),
    "invitation.created": _l("Invitation created"),
    "invitation.used": _l("Invitation used"),
    "invitation.revoked": _l("Invitation withdrawn"),
    "invitation.refused": _l("Invitation link refused"),
    "user.deactivated": _l("Account switched off"),
    "user.reactivated": _l("Account switched on"),
    "user.role_changed": _l("Role changed"),
    "user.team_changed": _l("Team changed"),
    "user.profile_changed": _l("Role profile changed"),
    "profile.created": _l("Role profile created"),
    "profile.changed": _l("Role profile edited"),
    "profile.imported": _l("Role profile imported"),
    "behaviour.retired": _l("Behaviour retired"),
    "behaviour.restored": _l("Behaviour restored"),
    "team.created": _l("Team created"),
    "team.renamed": _l("Team renamed"),
    "team.archived": _l("Team archived"),
    "team.restored": _l("Team restored"),
    "team.deleted": _l("Team deleted"),
    "team.managers_changed": _l("Team managers changed"),
    "sessions.ended": _l("Signed out of other devices"),
    "log.viewed": _l("Opened an agent's log"),
    "data.exported": _l("Exported their data"),
}


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    person_id: int = 0
    start: date | None = None
    end: date | None = None


def events(filters: AuditFilter, *, zone: ZoneInfo) -> sa.Select[tuple[AuditEvent]]:
    """Newest first; `person_id` matches who acted or whom it was about; dates are local."""
    query = sa.select(AuditEvent).options(
        so.joinedload(AuditEvent.actor), so.joinedload(AuditEvent.subject)
    )
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.person_id:
        query = query.where(
            sa.or_(
                AuditEvent.actor_id == filters.person_id,
                AuditEvent.subject_id == filters.person_id,
            )
        )
    if filters.start:
        query = query.where(AuditEvent.at >= _local_midnight(filters.start, zone))
    if filters.end:
        query = query.where(AuditEvent.at < _local_midnight(filters.end + timedelta(days=1), zone))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def actions_seen() -> list[str]:
    seen = set(db.session.scalars(sa.select(AuditEvent.action).distinct()))
    return sorted(seen | ACTION_LABELS.keys())


def people() -> Sequence[User]:
    return db.session.scalars(sa.select(User).order_by(User.name)).all()


def log_viewers(agent: User, limit: int = VIEWERS_SHOWN) -> Sequence[AuditEvent]:
    """Who opened this agent's log, newest first (DESIGN principle 2)."""
    return db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "log.viewed", AuditEvent.subject_id == agent.id)
        .options(so.joinedload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()


def label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)

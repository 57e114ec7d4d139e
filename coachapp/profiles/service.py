"""Role profiles as the job description in observable behaviours. Services add and flush; the
caller commits once."""

import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.models import RoleProfile


def profile_named(name: str) -> RoleProfile | None:
    """The profile of that name, ignoring case and spacing."""
    cleaned = " ".join((name or "").split())
    return db.session.scalar(
        sa.select(RoleProfile).where(sa.func.lower(RoleProfile.name) == cleaned.lower()).limit(1)
    )

"""A person's own passkeys and devices: rename, remove (never the last), sign out elsewhere."""

from collections.abc import Sequence

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.auth.sessions import end_all_sessions
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import Passkey, User


class LastPasskey(DomainError):
    message = _l(
        "This is your only passkey: without it you could not sign in again. "
        "Add another passkey first, then remove this one."
    )


def passkeys_of(user: User) -> Sequence[Passkey]:
    return db.session.scalars(
        sa.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at)
    ).all()


def own_passkey_or_404(*, user: User, passkey_id: int) -> Passkey:
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        abort(404)
    return passkey


def rename_passkey(*, passkey: Passkey, name: str) -> None:
    passkey.name = name


def remove_passkey(*, passkey: Passkey, actor: User) -> None:
    """Remove one of the actor's passkeys; refused for the last one, so nobody locks themselves
    out by accident (a lost phone is what a new invitation from an admin is for)."""
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Passkey)
        .where(Passkey.user_id == passkey.user_id, Passkey.id != passkey.id)
    )
    if not others:
        raise LastPasskey()
    db.session.delete(passkey)
    audit.record(
        "passkey.removed", actor=actor, subject=passkey.user, details=f"passkey {passkey.id}"
    )


def sign_out_other_devices(*, user: User) -> int:
    ended = end_all_sessions(user, keep_current=True)
    audit.record("sessions.ended", actor=user, subject=user, details=f"others {ended}")
    return ended

"""A person's own passkeys and devices: rename, remove (never the last), sign out elsewhere."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l

from coachapp import audit
from coachapp.auth import devices
from coachapp.auth.sessions import active_sessions, current_token_hash, end_all_sessions
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import LoginSession, Passkey, User


@dataclass(frozen=True)
class SignedInDevice:
    id: int
    device: str
    created_at: datetime
    last_seen_at: datetime
    this_device: bool


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


def sessions_of(*, user: User, now: datetime) -> list[SignedInDevice]:
    """Every device `user` is signed in on, this one marked, most recently seen first."""
    current = current_token_hash()
    return [
        SignedInDevice(
            id=login.id,
            device=devices.describe(login.user_agent),
            created_at=login.created_at,
            last_seen_at=login.last_seen_at,
            this_device=login.token_hash == current,
        )
        for login in active_sessions(user, now)
    ]


def own_session_or_404(*, user: User, login_id: int, now: datetime) -> LoginSession:
    """One of `user`'s sessions still alive; anyone else's, or an ended one, is a 404."""
    login = db.session.get(LoginSession, login_id)
    if login is None or login.user_id != user.id or login not in active_sessions(user, now):
        abort(404)
    return login


def end_device_session(*, user: User, login: LoginSession, now: datetime) -> bool:
    """End one session; True when it was this device's (the caller then signs out here)."""
    login.ended_at = now
    audit.record("sessions.ended", actor=user, subject=user, details="one")
    db.session.flush()
    return login.token_hash == current_token_hash()

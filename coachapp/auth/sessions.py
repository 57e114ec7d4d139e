"""Server-side sign-in sessions: who is signed in, on which device, until when."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import session
from flask_login import login_user, logout_user

from coachapp import organisation
from coachapp.clients import client_address, client_agent
from coachapp.extensions import db
from coachapp.models import LoginSession, Organisation, User
from coachapp.parsing import parse_id

#: A phone left idle longer than a long shift signs in again.
IDLE_TIMEOUT = timedelta(hours=12)
#: However active, a session ends after a week: a lost phone stops being a way in.
ABSOLUTE_TIMEOUT = timedelta(days=7)
#: Writing "last seen" on every request would make each page a write; every few minutes is enough.
TOUCH_EVERY = timedelta(minutes=5)

SESSION_KEY = "sid"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User) -> dict[str, object]:
    """Store a new server-side session for `user`; returns what the cookie session must hold."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            user_id=user.id,
            token_hash=_hash(token),
            user_agent=client_agent(),
            address=client_address(),
        )
    )
    db.session.flush()
    return {"_user_id": str(user.id), "_fresh": True, SESSION_KEY: token}


def sign_in(user: User) -> None:
    """Sign `user` in on this device with a fresh session (never reuse what was there before).

    Signing in again ends the session this cookie held: a copy of the old cookie stops working.
    """
    _end_current(datetime.now(UTC))
    session.clear()
    values = start_login_session(user)
    login_user(user)
    session[SESSION_KEY] = values[SESSION_KEY]
    session.permanent = True


def sign_out() -> None:
    """End this device's session on the server and forget it here."""
    _end_current(datetime.now(UTC))
    logout_user()
    session.clear()


def _end_current(now: datetime) -> None:
    token = session.get(SESSION_KEY)
    if isinstance(token, str) and token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _hash(token), LoginSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def current_token_hash() -> str | None:
    token = session.get(SESSION_KEY)
    return _hash(token) if isinstance(token, str) and token else None


def active_sessions(user: User, now: datetime) -> list[LoginSession]:
    """Every session of `user` that still lets someone in, most recently seen first."""
    return list(
        db.session.scalars(
            sa.select(LoginSession)
            .where(
                LoginSession.user_id == user.id,
                LoginSession.ended_at.is_(None),
                LoginSession.last_seen_at > now - IDLE_TIMEOUT,
                LoginSession.created_at > now - ABSOLUTE_TIMEOUT,
            )
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
        )
    )


def end_all_sessions(user: User, *, keep_current: bool = False) -> int:
    """End every session of `user` (deactivation, "sign out my other devices")."""
    query = sa.update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None)
    )
    token = session.get(SESSION_KEY) if keep_current else None
    if token:
        query = query.where(LoginSession.token_hash != _hash(token))
    result = db.session.execute(query.values(ended_at=datetime.now(UTC)))
    return result.rowcount or 0


#: The session, its user and the organisation in one statement: Flask-Login keeps the user for
#: the request, coachapp.organisation the organisation (its language, zone and ladder). Built
#: once: every signed-in request runs it, and building it again each time was a tenth of a save.
#: The session comes as the few columns the checks read, not as an object: nothing else in the
#: request uses it, and an object per request was a cost of every page.
_SIGNED_IN = (
    sa.select(
        LoginSession.id,
        LoginSession.user_id,
        LoginSession.ended_at,
        LoginSession.last_seen_at,
        LoginSession.created_at,
        User,
        Organisation,
    )
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(
        Organisation,
        Organisation.id == sa.select(sa.func.min(Organisation.id)).scalar_subquery(),
    )
    .where(LoginSession.token_hash == sa.bindparam("token_hash"))
)


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user, only while this device's server-side session is alive."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token or parse_id(user_id) is None:
        return None
    row = db.session.execute(_SIGNED_IN, {"token_hash": _hash(token)}).first()
    if row is None:
        return None
    login_id, login_user_id, ended_at, last_seen_at, created_at, user, org = row
    if org is not None:
        organisation.remember(org)
    now = datetime.now(UTC)
    if (
        login_user_id != parse_id(user_id)
        or ended_at is not None
        or now - last_seen_at > IDLE_TIMEOUT
        or now - created_at > ABSOLUTE_TIMEOUT
        or not user.active
    ):
        return None
    if now - last_seen_at > TOUCH_EVERY:
        _touch(login_id, now)
    return user  # type: ignore[no-any-return]


def _touch(login_id: int, now: datetime) -> None:
    """Note "last seen" on a connection of its own: it is bookkeeping, not part of what the
    request changes, so it is neither lost with a failed write nor a second commit of it."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(LoginSession).where(LoginSession.id == login_id).values(last_seen_at=now)
        )
    # The cookie's expiry slides with it (SESSION_REFRESH_EACH_REQUEST is off).
    session.modified = True

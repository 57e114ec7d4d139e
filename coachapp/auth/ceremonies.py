"""Passkey ceremonies with storage around the pure checks of coachapp.auth.passkeys: challenges
kept on the server and used once, passkeys stored, found and updated, every outcome audited."""

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from coachapp import audit
from coachapp.auth import invitations
from coachapp.auth.passkeys import (
    CHALLENGE_TTL,
    NewCredential,
    PasskeyError,
    RelyingParty,
    authentication_options,
    challenge_is_fresh,
    credential_id_of,
    registration_options,
    verify_authentication,
    verify_registration,
)
from coachapp.extensions import db
from coachapp.models import Invitation, Passkey, User, WebAuthnChallenge

REGISTER = "register"
AUTHENTICATE = "authenticate"

#: Shown in the browser's passkey prompt, next to the person's name.
RP_NAME = "coachapp"
HANDLE_BYTES = 32


class CeremonyError(Exception):
    """A ceremony was refused. `reason` is a short code (a PasskeyError reason or one of ours:
    no_challenge, expired_challenge, inactive) for the audit log; `user` is whom it concerned."""

    def __init__(self, reason: str, *, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


@dataclass(frozen=True)
class TakenChallenge:
    challenge: bytes
    user_id: int | None
    invitation_id: int | None
    user_handle: bytes | None


def relying_party(*, config: Mapping[str, Any], host_url: str) -> RelyingParty:
    """The RP id and origin from the settings, else from the URL the request came to."""
    parts = urlsplit(host_url)
    return RelyingParty(
        id=config.get("WEBAUTHN_RP_ID") or parts.hostname or "localhost",
        name=RP_NAME,
        origin=config.get("WEBAUTHN_ORIGIN") or f"{parts.scheme}://{parts.netloc}",
    )


def ensure_handle(user: User) -> bytes:
    """The person's WebAuthn user handle, made (random, never derived from them) on first use."""
    if user.webauthn_handle is None:
        user.webauthn_handle = secrets.token_bytes(HANDLE_BYTES)
    return user.webauthn_handle


# --- challenges --------------------------------------------------------------------------------


def issue_challenge(
    *,
    purpose: str,
    challenge: bytes,
    now: datetime,
    replaces: object = None,
    user: User | None = None,
    invitation: Invitation | None = None,
    user_handle: bytes | None = None,
) -> int:
    """Keep a challenge for one ceremony; returns the id the Flask session holds."""
    stale = WebAuthnChallenge.created_at <= now - CHALLENGE_TTL
    if isinstance(replaces, int):
        stale = sa.or_(stale, WebAuthnChallenge.id == replaces)
    db.session.execute(sa.delete(WebAuthnChallenge).where(stale))
    row = WebAuthnChallenge(
        purpose=purpose,
        challenge=challenge,
        user_id=user.id if user is not None else None,
        invitation_id=invitation.id if invitation is not None else None,
        user_handle=user_handle,
        created_at=now,
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def take_challenge(*, challenge_id: object, purpose: str, now: datetime) -> TakenChallenge:
    """Delete the stored challenge and return it: whatever happens next, it is used up.

    DELETE ... RETURNING hands the row to exactly one of two requests racing with it.
    """
    if not isinstance(challenge_id, int) or isinstance(challenge_id, bool):
        raise CeremonyError("no_challenge")
    table = WebAuthnChallenge
    row = db.session.execute(
        sa.delete(table)
        .where(table.id == challenge_id)
        .returning(
            table.purpose,
            table.challenge,
            table.user_id,
            table.invitation_id,
            table.user_handle,
            table.created_at,
        )
    ).first()
    # No commit here: a refusal below is answered, and the view's commit keeps the deletion.
    if row is None or row.purpose != purpose:
        raise CeremonyError("bad_challenge")
    if not challenge_is_fresh(issued_at=row.created_at, now=now):
        raise CeremonyError("expired_challenge")
    return TakenChallenge(row.challenge, row.user_id, row.invitation_id, row.user_handle)


# --- registration ------------------------------------------------------------------------------


def begin_registration(
    *,
    rp: RelyingParty,
    now: datetime,
    replaces: object = None,
    user: User | None = None,
    invitation: Invitation | None = None,
) -> tuple[str, int]:
    """Options for a new passkey: for the signed-in `user`, or for the person of `invitation`."""
    person = invitation.user if invitation is not None else user
    if person is not None:
        handle = ensure_handle(person)
        user_name = person.email or person.name
        display_name = person.name
        existing = list(
            db.session.scalars(sa.select(Passkey.credential_id).where(Passkey.user_id == person.id))
        )
    else:
        assert invitation is not None
        # A new person has no row yet: the handle travels with the challenge until they do.
        handle = secrets.token_bytes(HANDLE_BYTES)
        user_name = invitation.email or invitation.name
        display_name = invitation.name
        existing = []
    options, challenge = registration_options(
        rp=rp,
        user_handle=handle,
        user_name=user_name,
        display_name=display_name,
        exclude_credential_ids=existing,
    )
    challenge_id = issue_challenge(
        purpose=REGISTER,
        challenge=challenge,
        now=now,
        replaces=replaces,
        user=user if invitation is None else None,
        invitation=invitation,
        user_handle=handle,
    )
    return options, challenge_id


def finish_registration(
    *,
    rp: RelyingParty,
    challenge_id: object,
    credential: object,
    now: datetime,
    device: str,
    user: User | None = None,
    invitation: Invitation | None = None,
) -> User:
    """Check the new passkey and store it; for an invitation, claim it and create the person.

    Raises CeremonyError (audited) or invitations.InvitationRefused (audited).
    """
    actor = invitation.user if invitation is not None else user
    try:
        taken = take_challenge(challenge_id=challenge_id, purpose=REGISTER, now=now)
        bound_to = (
            taken.invitation_id == invitation.id
            if invitation is not None
            else user is not None and taken.user_id == user.id
        )
        if not bound_to or not taken.user_handle:
            raise CeremonyError("bad_challenge")
        new = _verified_new_credential(rp=rp, credential=credential, taken=taken)
    except CeremonyError as error:
        audit.record("passkey.refused", actor=user, subject=actor, details=error.reason)
        raise
    if invitation is None:
        assert user is not None
        return _store(person=user, new=new, device=device, now=now, action="passkey.added")
    assert taken.user_handle is not None
    invitations.claim(invitation=invitation, now=now)
    person = invitations.person_for(invitation=invitation, user_handle=taken.user_handle)
    invitation.used_by_id = person.id
    audit.record(
        "invitation.used",
        actor=person,
        subject=person,
        details=f"invitation {invitation.id}",
    )
    action = "passkey.added" if invitation.is_reset else "passkey.registered"
    return _store(person=person, new=new, device=device, now=now, action=action)


def _store(*, person: User, new: NewCredential, device: str, now: datetime, action: str) -> User:
    """Save the verified passkey with its audit entry, in the transaction the caller began."""
    db.session.add(
        Passkey(
            user_id=person.id,
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=",".join(new.transports),
            backed_up=new.backed_up,
            name=device,
            created_at=now,
        )
    )
    audit.record(action, actor=person, subject=person, details=f"passkey {device}")
    try:
        db.session.flush()
    except IntegrityError as error:
        # Two requests registering the same credential at once: the unique id decides. The
        # rollback may have undone the person too (an invitation), so the entry names nobody.
        db.session.rollback()
        audit.record("passkey.refused", details="already_registered")
        raise CeremonyError("already_registered") from error
    return person


def _verified_new_credential(
    *, rp: RelyingParty, credential: object, taken: TakenChallenge
) -> NewCredential:
    try:
        credential_id = credential_id_of(credential)  # type: ignore[arg-type]
        known = db.session.scalar(
            sa.select(Passkey.id).where(Passkey.credential_id == credential_id)
        )
        return verify_registration(
            rp=rp,
            credential_json=credential,  # type: ignore[arg-type]
            expected_challenge=taken.challenge,
            known_credential_ids={credential_id} if known is not None else set(),
        )
    except PasskeyError as error:
        raise CeremonyError(error.reason) from error


# --- sign-in -----------------------------------------------------------------------------------


def begin_authentication(
    *, rp: RelyingParty, now: datetime, replaces: object = None
) -> tuple[str, int]:
    """Options for signing in with any passkey of this site (no user name asked first)."""
    options, challenge = authentication_options(rp=rp)
    challenge_id = issue_challenge(
        purpose=AUTHENTICATE, challenge=challenge, now=now, replaces=replaces
    )
    return options, challenge_id


def finish_authentication(
    *, rp: RelyingParty, challenge_id: object, credential: object, now: datetime
) -> User:
    """The person whose passkey signed the challenge; audits "signin.success" or "signin.failure"
    (the reason code only) and raises CeremonyError on failure."""
    try:
        taken = take_challenge(challenge_id=challenge_id, purpose=AUTHENTICATE, now=now)
        passkey = _stored_passkey(credential)
        user = passkey.user
        try:
            new_count = verify_authentication(
                rp=rp,
                credential_json=credential,  # type: ignore[arg-type]
                expected_challenge=taken.challenge,
                stored_public_key=passkey.public_key,
                stored_sign_count=passkey.sign_count,
                # The stored owner's handle: a credential answering for someone else fails.
                expected_user_handle=user.webauthn_handle or b"",
            )
        except PasskeyError as error:
            raise CeremonyError(error.reason, user=user) from error
        if not user.active:
            raise CeremonyError("inactive", user=user)
    except CeremonyError as error:
        audit.record("signin.failure", subject=error.user, details=error.reason)
        raise
    passkey.sign_count = new_count
    passkey.last_used_at = now
    audit.record("signin.success", actor=user, subject=user, details="passkey")
    return user


def _stored_passkey(credential: object) -> Passkey:
    try:
        credential_id = credential_id_of(credential)  # type: ignore[arg-type]
    except PasskeyError as error:
        raise CeremonyError(error.reason) from error
    passkey = db.session.scalar(sa.select(Passkey).where(Passkey.credential_id == credential_id))
    if passkey is None:
        raise CeremonyError("unknown_credential")
    return passkey


# --- naming ------------------------------------------------------------------------------------

_DEVICES = [
    (re.compile(r"iPhone"), "iPhone"),
    (re.compile(r"iPad"), "iPad"),
    (re.compile(r"Android"), "Android"),
    (re.compile(r"CrOS"), "Chromebook"),
    (re.compile(r"Macintosh|Mac OS X"), "Mac"),
    (re.compile(r"Windows"), "Windows"),
    (re.compile(r"Linux"), "Linux"),
]


def device_name(user_agent: str | None, *, fallback: str) -> str:
    """A first name for a new passkey from the browser's User-Agent ("iPhone"); editable later."""
    for pattern, name in _DEVICES:
        if user_agent and pattern.search(user_agent):
            return name
    return fallback

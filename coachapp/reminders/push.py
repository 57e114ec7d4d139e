"""Web Push: the app's VAPID key pair, browsers' subscriptions, and delivering one notification."""

import base64
import binascii
import enum
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import lazy_gettext as _l
from py_vapid import Vapid, VapidException
from pywebpush import WebPushException, webpush

from coachapp import clock
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.models import AppKey, PushSubscription, User
from coachapp.reminders.sql import upsert

VAPID_KEY_NAME = "vapid_private_pem"
#: pywebpush's default TTL is 0: a phone that is offline at that moment would never get it.
TTL_SECONDS = 12 * 3600
TIMEOUT_SECONDS = 10
#: What a push service answers for a subscription that no longer exists.
GONE_STATUSES = frozenset({404, 410})

ENDPOINT_MAX_LENGTH = 1000  # PushSubscription.endpoint
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
P256DH_BYTES = 65  # an uncompressed P-256 point
AUTH_BYTES = 16  # RFC 8291
BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


# --- the VAPID key pair ----------------------------------------------------------------------


def vapid_private_pem() -> str:
    """The app's VAPID private key, made on first use and kept in the database.

    Insert-once: of several processes making a key at the same moment, the first insert wins and
    every process reads back the same key.
    """
    pem = _stored_pem()
    if pem is None:
        key = ec.generate_private_key(ec.SECP256R1())
        fresh = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        table = AppKey.__table__
        db.session.execute(
            upsert(table)  # type: ignore[arg-type]
            .values(name=VAPID_KEY_NAME, value=fresh, created_at=clock.now())
            .on_conflict_do_nothing(index_elements=[table.c.name])
        )
        db.session.commit()
        pem = _stored_pem()
        assert pem is not None
    return pem


def _stored_pem() -> str | None:
    return db.session.scalar(sa.select(AppKey.value).where(AppKey.name == VAPID_KEY_NAME))


def vapid_signer() -> Vapid:
    key = serialization.load_pem_private_key(vapid_private_pem().encode("ascii"), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Vapid(key)


def public_key() -> str:
    """The public key as the browser's applicationServerKey wants it: base64url, uncompressed."""
    point = vapid_signer().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def check_subject(signer: Vapid, subject: str) -> None:
    """Refuse a VAPID subject push services would reject, before anything is claimed."""
    try:
        signer.sign({"sub": subject, "aud": "https://push.example"})
    except VapidException:
        raise ValueError(
            "COACHAPP_VAPID_SUBJECT (VAPID_SUBJECT) must be a mailto: address or an https: URL"
        ) from None


# --- subscriptions -------------------------------------------------------------------------


class InvalidSubscription(DomainError):
    status_code = 422
    message = _l("This browser's push subscription was not understood. Please try again.")


class EndpointNotSecure(InvalidSubscription):
    message = _l("The push address must be an https address.")


class EndpointTooLong(InvalidSubscription):
    message = _l("The push address is too long.")


class InvalidKeys(InvalidSubscription):
    message = _l("The push subscription's keys are missing or not valid.")


@dataclass(frozen=True)
class SubscriptionInput:
    endpoint: str
    p256dh: str
    auth: str


def parse_subscription(data: Any, *, allow_local: bool) -> SubscriptionInput:
    """Check what the browser's PushSubscription.toJSON() sent; raise InvalidSubscription."""
    if not isinstance(data, dict):
        raise InvalidSubscription()
    endpoint = parse_endpoint(data.get("endpoint"), allow_local=allow_local)
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidKeys()
    _base64url(keys.get("auth"), AUTH_BYTES)
    try:
        point = _base64url(keys.get("p256dh"), P256DH_BYTES)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidKeys() from None
    return SubscriptionInput(endpoint=endpoint, p256dh=keys["p256dh"], auth=keys["auth"])


def parse_endpoint(value: Any, *, allow_local: bool) -> str:
    """An https URL of a push service (plain http to this machine only in debug and tests)."""
    if not isinstance(value, str) or not value:
        raise InvalidSubscription()
    if len(value) > ENDPOINT_MAX_LENGTH:
        raise EndpointTooLong()
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        _port = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise InvalidSubscription() from None
    if not hostname or parts.username or parts.password or any(c.isspace() for c in value):
        raise InvalidSubscription()
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and allow_local and hostname in LOCAL_HOSTS:
        return value
    raise EndpointNotSecure()


def _base64url(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or not BASE64URL.match(value) or len(value) > 2 * size:
        raise InvalidKeys()
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise InvalidKeys() from None
    if len(raw) != size:
        raise InvalidKeys()
    return raw


def save_subscription(user: User, entry: SubscriptionInput) -> None:
    """Keep a browser's subscription for `user`: the same endpoint again updates its row, and an
    endpoint another account registered moves to `user` (the browser changed hands)."""
    table = PushSubscription.__table__
    statement = upsert(table).values(  # type: ignore[arg-type]
        user_id=user.id,
        endpoint=entry.endpoint,
        p256dh=entry.p256dh,
        auth=entry.auth,
        created_at=clock.now(),
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.endpoint],
        set_={
            "user_id": statement.excluded.user_id,
            "p256dh": statement.excluded.p256dh,
            "auth": statement.excluded.auth,
        },
    )
    db.session.execute(statement)


def remove_subscription(user: User, endpoint: str) -> None:
    """Forget one of `user`'s browsers; someone else's endpoint is left alone."""
    db.session.execute(
        sa.delete(PushSubscription).where(
            PushSubscription.user_id == user.id, PushSubscription.endpoint == endpoint
        )
    )


def subscription_count(user: User) -> int:
    count = sa.select(sa.func.count(PushSubscription.id)).where(PushSubscription.user_id == user.id)
    return db.session.scalar(count) or 0


# --- delivery ------------------------------------------------------------------------------


class Delivery(enum.Enum):
    SENT = "sent"
    GONE = "gone"
    FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """What delivery needs of a subscription, read before any network call."""

    id: int
    user_id: int
    endpoint: str
    p256dh: str
    auth: str


def deliver(
    target: Target,
    payload: dict[str, str],
    *,
    signer: Vapid,
    subject: str,
    session: requests.Session,
) -> Delivery:
    """Encrypt and send one notification; never logs the endpoint or the payload."""
    try:
        webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=json.dumps(payload),
            vapid_private_key=signer,
            # pywebpush writes aud and exp into the dict it is given: a fresh one every time.
            vapid_claims={"sub": subject},
            content_encoding="aes128gcm",
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
            requests_session=session,
        )
    except WebPushException as error:
        if error.status_code in GONE_STATUSES:
            return Delivery.GONE
        current_app.logger.warning("push delivery failed (status %s)", error.status_code)
        return Delivery.FAILED
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("push delivery failed (%s)", type(error).__name__)
        return Delivery.FAILED
    return Delivery.SENT

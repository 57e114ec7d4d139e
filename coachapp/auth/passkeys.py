"""Passkey (WebAuthn) ceremonies: options for the browser and checks of its answers, no storage."""

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_attestation_object,
    parse_authenticator_data,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import UnsupportedPublicKeyType, WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorData,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# The caller stores the challenge with the time it was issued and refuses it after this long.
CHALLENGE_TTL = timedelta(minutes=5)

# ES256 covers every current platform authenticator; RS256 is what Windows Hello still uses.
ALLOWED_ALGORITHMS: tuple[COSEAlgorithmIdentifier, ...] = (
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
)

# Browsers treat this as a hint only; keeping it equal to the TTL means the prompt does not outlive
# the challenge it carries.
_TIMEOUT_MS = int(CHALLENGE_TTL.total_seconds() * 1000)

# WebAuthn caps credential ids at 1023 bytes and user handles at 64.
_MAX_CREDENTIAL_ID = 1023
_MAX_USER_HANDLE = 64

Reason = Literal[
    "malformed",
    "bad_challenge",
    "bad_origin",
    "cross_origin",
    "bad_rp",
    "user_presence",
    "user_verification",
    "unsupported_algorithm",
    "bad_attestation",
    "already_registered",
    "unknown_credential",
    "wrong_user",
    "counter",
    "bad_signature",
]
REASONS: frozenset[str] = frozenset(get_args(Reason))

# What the parsers (ours, json, base64, cbor2, the library, cryptography) raise on hostile input.
# UnicodeDecodeError, binascii.Error, JSONDecodeError and CBORDecodeError are all ValueErrors.
_INPUT_ERRORS: tuple[type[BaseException], ...] = (
    WebAuthnException,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    InvalidSignature,
    UnsupportedAlgorithm,
)

# Unpadded base64url as browsers send it; padding tolerated. The library's own decoder silently
# drops characters outside the alphabet, so every field is checked here first.
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class PasskeyError(Exception):
    """A ceremony failed; `reason` is a short code safe to show or log, never the library's text."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason: Reason = reason


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origin: str


@dataclass(frozen=True)
class NewCredential:
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str]
    backed_up: bool


def challenge_is_fresh(*, issued_at: datetime, now: datetime) -> bool:
    """True while a stored challenge may still be used; one issued "in the future" is not."""
    age = now - issued_at
    return timedelta(0) <= age < CHALLENGE_TTL


def registration_options(
    *,
    rp: RelyingParty,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    exclude_credential_ids: list[bytes],
) -> tuple[str, bytes]:
    """Options JSON for `navigator.credentials.create()` and the challenge to keep server-side."""
    if not 1 <= len(user_handle) <= _MAX_USER_HANDLE:
        raise ValueError("user_handle must be 1 to 64 bytes")
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        timeout=_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            # Discoverable, so sign-in needs no user name first.
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # Stops the browser from registering an authenticator this user already has.
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=cid) for cid in exclude_credential_ids
        ],
        supported_pub_key_algs=list(ALLOWED_ALGORITHMS),
    )
    return options_to_json(options), options.challenge


def authentication_options(*, rp: RelyingParty) -> tuple[str, bytes]:
    """Options JSON for `navigator.credentials.get()` and the challenge to keep server-side."""
    options = generate_authentication_options(
        rp_id=rp.id,
        timeout=_TIMEOUT_MS,
        # No allowCredentials: the authenticator offers its discoverable passkeys for this RP, and
        # the server learns who is signing in from the answer, not before.
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def verify_registration(
    *,
    rp: RelyingParty,
    credential_json: str | Mapping[str, Any],
    expected_challenge: bytes,
    known_credential_ids: set[bytes],
) -> NewCredential:
    """Check the browser's answer to `registration_options`; returns what to store."""
    with _failing_as("malformed"):
        data = _load(credential_json)
        raw_id = _credential_id(data)
        response = _response(data)
        _check_client_data(
            response, ceremony="webauthn.create", rp=rp, expected_challenge=expected_challenge
        )
        attestation = parse_attestation_object(_b64url(response.get("attestationObject")))
        _check_flags(attestation.auth_data, rp=rp)
        attested = attestation.auth_data.attested_credential_data
        # The library does not compare the id inside authData with rawId; a mismatch would let the
        # stored id and the key that signs later belong to different credentials.
        if attested is None or not hmac.compare_digest(attested.credential_id, raw_id):
            raise PasskeyError("malformed")
        _check_algorithm(attested.credential_public_key)

    # Anything the library still refuses after the checks above is the attestation statement.
    with _failing_as("bad_attestation"):
        verified = verify_registration_response(
            credential=data,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
            supported_pub_key_algs=list(ALLOWED_ALGORITHMS),
        )

    # A credential id is a global key: registering it again (for this or another user) must fail
    # rather than overwrite or duplicate the stored key.
    if verified.credential_id in known_credential_ids:
        raise PasskeyError("already_registered")

    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(response.get("transports")),
        backed_up=verified.credential_backed_up,
    )


def credential_id_of(credential_json: str | Mapping[str, Any]) -> bytes:
    """The credential id of an assertion, to look up the stored passkey before verifying."""
    with _failing_as("malformed"):
        return _credential_id(_load(credential_json))


def user_handle_of(credential_json: str | Mapping[str, Any]) -> bytes | None:
    """The user handle an assertion claims, or None; not trustworthy until verify_authentication."""
    with _failing_as("malformed"):
        return _user_handle(_response(_load(credential_json)))


def verify_authentication(
    *,
    rp: RelyingParty,
    credential_json: str | Mapping[str, Any],
    expected_challenge: bytes,
    stored_public_key: bytes,
    stored_sign_count: int,
    expected_user_handle: bytes,
) -> int:
    """Check the browser's answer to `authentication_options`; returns the sign count to store."""
    with _failing_as("malformed"):
        data = _load(credential_json)
        _credential_id(data)
        response = _response(data)
        _check_client_data(
            response, ceremony="webauthn.get", rp=rp, expected_challenge=expected_challenge
        )
        auth_data = parse_authenticator_data(_b64url(response.get("authenticatorData")))
        _check_flags(auth_data, rp=rp)
        if not _b64url(response.get("signature")):
            raise PasskeyError("malformed")
        # The library never looks at userHandle. With discoverable credentials it is what says
        # whose passkey this is, so it must match the owner of the stored credential.
        handle = _user_handle(response)
        if (
            handle is None
            or not expected_user_handle
            or not hmac.compare_digest(handle, expected_user_handle)
        ):
            raise PasskeyError("wrong_user")
        # Same rule as the library, checked here to get a precise reason: synced passkeys report 0
        # forever (0 after 0 is fine); otherwise the count must grow, or the key may be cloned.
        # This runs before the signature check, so "counter" alone does not prove a clone.
        new_count = auth_data.sign_count
        if (new_count > 0 or stored_sign_count > 0) and new_count <= stored_sign_count:
            raise PasskeyError("counter")

    # Everything else was checked above, so what the library still refuses is the signature.
    with _failing_as("bad_signature"):
        verified = verify_authentication_response(
            credential=data,
            expected_challenge=expected_challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=stored_public_key,
            credential_current_sign_count=stored_sign_count,
            require_user_verification=True,
        )
    return verified.new_sign_count


@contextmanager
def _failing_as(reason: Reason) -> Iterator[None]:
    """Turn library and parser failures into PasskeyError, keeping the cause only for logs."""
    try:
        yield
    except PasskeyError:
        raise
    except WebAuthnException as exc:
        raise PasskeyError(reason) from exc
    except _INPUT_ERRORS as exc:
        raise PasskeyError("malformed") from exc


def _load(credential_json: str | Mapping[str, Any]) -> dict[str, Any]:
    value = json.loads(credential_json) if isinstance(credential_json, str) else credential_json
    if not isinstance(value, Mapping):
        raise PasskeyError("malformed")
    if value.get("type") != "public-key":
        raise PasskeyError("malformed")
    return dict(value)


def _b64url(value: object) -> bytes:
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise PasskeyError("malformed")
    unpadded = value.rstrip("=")
    if len(unpadded) % 4 == 1:
        raise PasskeyError("malformed")
    try:
        return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except binascii.Error as exc:
        raise PasskeyError("malformed") from exc


def _credential_id(data: Mapping[str, Any]) -> bytes:
    raw_id = _b64url(data.get("rawId"))
    # `id` is the base64url of rawId; the library insists on it and so do we, before any lookup.
    if not 1 <= len(raw_id) <= _MAX_CREDENTIAL_ID or data.get("id") != bytes_to_base64url(raw_id):
        raise PasskeyError("malformed")
    return raw_id


def _response(data: Mapping[str, Any]) -> Mapping[str, Any]:
    response = data.get("response")
    if not isinstance(response, Mapping):
        raise PasskeyError("malformed")
    return response


def _user_handle(response: Mapping[str, Any]) -> bytes | None:
    value = response.get("userHandle")
    if value is None or value == "":
        return None
    handle = _b64url(value)
    if len(handle) > _MAX_USER_HANDLE:
        raise PasskeyError("malformed")
    return handle


def _check_client_data(
    response: Mapping[str, Any],
    *,
    ceremony: str,
    rp: RelyingParty,
    expected_challenge: bytes,
) -> None:
    client_data = json.loads(_b64url(response.get("clientDataJSON")))
    if not isinstance(client_data, dict) or client_data.get("type") != ceremony:
        raise PasskeyError("malformed")
    challenge = _b64url(client_data.get("challenge"))
    # An empty stored challenge would match an empty answer: treat it as no challenge at all.
    if not expected_challenge or not hmac.compare_digest(challenge, expected_challenge):
        raise PasskeyError("bad_challenge")
    if client_data.get("origin") != rp.origin:
        raise PasskeyError("bad_origin")
    # The library does not look at crossOrigin. True means another site framed our page and ran
    # the ceremony; coachapp is never meant to be embedded, so refuse it.
    cross_origin = client_data.get("crossOrigin")
    if cross_origin is True:
        raise PasskeyError("cross_origin")
    if cross_origin is not None and cross_origin is not False:
        raise PasskeyError("malformed")


def _check_flags(auth_data: AuthenticatorData, *, rp: RelyingParty) -> None:
    expected_hash = hashlib.sha256(rp.id.encode()).digest()
    if not hmac.compare_digest(auth_data.rp_id_hash, expected_hash):
        raise PasskeyError("bad_rp")
    if not auth_data.flags.up:
        raise PasskeyError("user_presence")
    # Required in the options too, but the browser's request is only a wish: enforce it here.
    if not auth_data.flags.uv:
        raise PasskeyError("user_verification")


def _check_algorithm(cose_key: bytes) -> None:
    try:
        decoded = decode_credential_public_key(cose_key)
    except UnsupportedPublicKeyType as exc:
        raise PasskeyError("unsupported_algorithm") from exc
    if decoded.alg not in ALLOWED_ALGORITHMS:
        raise PasskeyError("unsupported_algorithm")
    # "none" attestation signs nothing, so nothing else would notice a key that is not a valid
    # point or modulus until every later sign-in failed; refuse to store such a key.
    decoded_public_key_to_cryptography(decoded)


def _transports(value: object) -> list[str]:
    # Only hints for later excludeCredentials lists; unknown or junk values are dropped, not fatal.
    if not isinstance(value, list):
        return []
    known = {t.value for t in AuthenticatorTransport}
    kept: list[str] = []
    for item in value:
        if isinstance(item, str) and item in known and item not in kept:
            kept.append(item)
    return kept

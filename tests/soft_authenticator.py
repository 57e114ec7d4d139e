"""A software passkey authenticator for tests: real keys, "none" attestation, no browser needed."""

import base64
import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

# authenticatorData flag bits (WebAuthn §6.1).
FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_BE = 0x08
FLAG_BS = 0x10
FLAG_AT = 0x40

# "none" attestation carries no authenticator model; real ones send zeros too.
AAGUID = bytes(16)

# Lets a test say "omit userHandle" (None) apart from "use the credential's own" (not given).
_UNSET: Any = object()

OptionsOrChallenge = bytes | str | Mapping[str, Any]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass
class SoftCredential:
    credential_id: bytes
    user_handle: bytes
    private_key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    cose_public_key: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """One authenticator holding any number of discoverable credentials for one RP.

    `create` and `get` return the JSON dicts a browser's `credential.toJSON()` would, so they go
    straight to the service. Keyword overrides forge whatever a test needs to be wrong.
    """

    def __init__(
        self,
        rp_id: str,
        origin: str,
        user_verified: bool = True,
        *,
        synced: bool = False,
        algorithm: Literal["ES256", "EdDSA"] = "ES256",
    ) -> None:
        self.rp_id = rp_id
        self.origin = origin
        self.user_verified = user_verified
        # Synced passkeys (iCloud Keychain, Google Password Manager) are backed up and always
        # report a sign count of 0.
        self.synced = synced
        self.algorithm = algorithm
        self.credentials: dict[bytes, SoftCredential] = {}
        self.last_credential_id: bytes | None = None

    @property
    def credential(self) -> SoftCredential:
        if self.last_credential_id is None:
            raise LookupError("no credential created yet")
        return self.credentials[self.last_credential_id]

    def create(
        self,
        options_json_or_challenge: OptionsOrChallenge,
        user_handle: bytes | None = None,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: bytes | None = None,
        user_verified: bool | None = None,
        user_present: bool = True,
        sign_count: int | None = None,
        cross_origin: bool = False,
        credential_id: bytes | None = None,
        transports: Iterable[str] = ("internal", "hybrid"),
    ) -> dict[str, Any]:
        """A registration credential, as `navigator.credentials.create()` then `toJSON()` give."""
        options_challenge, options_user = _read_options(options_json_or_challenge)
        handle = user_handle if user_handle is not None else options_user
        if handle is None:
            raise ValueError("no user handle: pass one or options with user.id")

        private_key, cose_key, alg = self._new_key()
        cred_id = credential_id if credential_id is not None else os.urandom(16)
        count = sign_count if sign_count is not None else 0
        credential = SoftCredential(cred_id, handle, private_key, cose_key, count)
        self.credentials[cred_id] = credential
        self.last_credential_id = cred_id

        attested = AAGUID + struct.pack(">H", len(cred_id)) + cred_id + cose_key
        auth_data = (
            self._auth_data(
                rp_id=rp_id,
                flags=FLAG_AT | self._flags(user_verified=user_verified, user_present=user_present),
                count=count,
            )
            + attested
        )
        client_data = self._client_data(
            "webauthn.create",
            challenge=challenge if challenge is not None else options_challenge,
            origin=origin,
            cross_origin=cross_origin,
        )
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        spki = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "id": b64url(cred_id),
            "rawId": b64url(cred_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation_object),
                "authenticatorData": b64url(auth_data),
                "transports": list(transports),
                "publicKey": b64url(spki),
                "publicKeyAlgorithm": alg,
            },
            "clientExtensionResults": {},
        }

    def get(
        self,
        options_json_or_challenge: OptionsOrChallenge,
        *,
        credential_id: bytes | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: bytes | None = None,
        user_verified: bool | None = None,
        user_present: bool = True,
        sign_count: int | None = None,
        cross_origin: bool = False,
        user_handle: bytes | None = _UNSET,
    ) -> dict[str, Any]:
        """An assertion, as `navigator.credentials.get()` then `toJSON()` give.

        The credential's counter grows by one per call (stays 0 when synced) unless `sign_count`
        sets it; the value used is kept for the next call.
        """
        options_challenge, _ = _read_options(options_json_or_challenge)
        credential = self.credentials[credential_id or self.credential.credential_id]
        if sign_count is not None:
            credential.sign_count = sign_count
        elif not self.synced:
            credential.sign_count += 1

        auth_data = self._auth_data(
            rp_id=rp_id,
            flags=self._flags(user_verified=user_verified, user_present=user_present),
            count=credential.sign_count,
        )
        client_data = self._client_data(
            "webauthn.get",
            challenge=challenge if challenge is not None else options_challenge,
            origin=origin,
            cross_origin=cross_origin,
        )
        signature = _sign(credential.private_key, auth_data + hashlib.sha256(client_data).digest())
        handle = credential.user_handle if user_handle is _UNSET else user_handle
        return {
            "id": b64url(credential.credential_id),
            "rawId": b64url(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(handle) if handle is not None else None,
            },
            "clientExtensionResults": {},
        }

    def _new_key(
        self,
    ) -> tuple[ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, bytes, int]:
        if self.algorithm == "EdDSA":
            ed_key = ed25519.Ed25519PrivateKey.generate()
            raw = ed_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            # COSE: kty OKP (1), alg EdDSA (-8), crv Ed25519 (6), x.
            return ed_key, cbor2.dumps({1: 1, 3: -8, -1: 6, -2: raw}), -8
        ec_key = ec.generate_private_key(ec.SECP256R1())
        numbers = ec_key.public_key().public_numbers()
        # COSE: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
        cose = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        return ec_key, cose, -7

    def _flags(self, *, user_verified: bool | None, user_present: bool) -> int:
        verified = self.user_verified if user_verified is None else user_verified
        flags = (FLAG_UP if user_present else 0) | (FLAG_UV if verified else 0)
        if self.synced:
            flags |= FLAG_BE | FLAG_BS
        return flags

    def _auth_data(self, *, rp_id: str | None, flags: int, count: int) -> bytes:
        rp_hash = hashlib.sha256((rp_id if rp_id is not None else self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", count)

    def _client_data(
        self, ceremony: str, *, challenge: bytes, origin: str | None, cross_origin: bool
    ) -> bytes:
        return json.dumps(
            {
                "type": ceremony,
                "challenge": b64url(challenge),
                "origin": origin if origin is not None else self.origin,
                "crossOrigin": cross_origin,
            },
            separators=(",", ":"),
        ).encode()


def _read_options(value: OptionsOrChallenge) -> tuple[bytes, bytes | None]:
    """(challenge, user handle or None) from options JSON, or a bare challenge."""
    if isinstance(value, bytes):
        return value, None
    options = json.loads(value) if isinstance(value, str) else value
    user = options.get("user")
    handle = b64url_decode(user["id"]) if isinstance(user, Mapping) else None
    return b64url_decode(options["challenge"]), handle


def _sign(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, ec.ECDSA(hashes.SHA256()))  # DER, as authenticators send

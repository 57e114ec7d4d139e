"""Passkey ceremonies checked against a software authenticator, with no Flask and no database."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webauthn.helpers.exceptions import WebAuthnException

from coachapp.auth.passkeys import (
    CHALLENGE_TTL,
    REASONS,
    NewCredential,
    PasskeyError,
    RelyingParty,
    authentication_options,
    challenge_is_fresh,
    credential_id_of,
    registration_options,
    user_handle_of,
    verify_authentication,
    verify_registration,
)
from tests.soft_authenticator import SoftAuthenticator, b64url, b64url_decode

RP = RelyingParty(id="localhost", name="Coachapp", origin="http://localhost:5000")
ALICE = b"alice-user-handle-0123456789abcd"
BOB = b"bob-user-handle-0123456789abcdef"


def fails_with(reason: str, call: Callable[..., object], /, **kwargs: Any) -> PasskeyError:
    """Calls and expects exactly this PasskeyError; any other exception type fails the test."""
    with pytest.raises(PasskeyError) as info:
        call(**kwargs)
    assert info.value.reason == reason
    # The library's wording never reaches the message a view might show.
    assert str(info.value) == reason
    return info.value


def begin_registration(user_handle: bytes = ALICE, exclude: list[bytes] | None = None):
    return registration_options(
        rp=RP,
        user_handle=user_handle,
        user_name="alice@example.com",
        display_name="Alice",
        exclude_credential_ids=exclude or [],
    )


def register(
    authenticator: SoftAuthenticator,
    user_handle: bytes = ALICE,
    known: set[bytes] | None = None,
    **overrides: Any,
) -> NewCredential:
    options, challenge = begin_registration(user_handle)
    return verify_registration(
        rp=RP,
        credential_json=authenticator.create(options, **overrides),
        expected_challenge=challenge,
        known_credential_ids=known or set(),
    )


def sign_in(
    authenticator: SoftAuthenticator,
    stored: NewCredential,
    *,
    stored_sign_count: int | None = None,
    expected_user_handle: bytes = ALICE,
    **overrides: Any,
) -> int:
    options, challenge = authentication_options(rp=RP)
    return verify_authentication(
        rp=RP,
        credential_json=authenticator.get(options, **overrides),
        expected_challenge=challenge,
        stored_public_key=stored.public_key,
        stored_sign_count=stored.sign_count if stored_sign_count is None else stored_sign_count,
        expected_user_handle=expected_user_handle,
    )


@pytest.fixture
def authenticator() -> SoftAuthenticator:
    return SoftAuthenticator(RP.id, RP.origin)


# --- options -----------------------------------------------------------------------------------


def test_registration_options_ask_for_a_discoverable_verified_passkey():
    options_json, challenge = begin_registration(exclude=[b"old-credential"])
    options = json.loads(options_json)

    assert b64url_decode(options["challenge"]) == challenge
    assert len(challenge) >= 16
    assert options["rp"] == {"id": "localhost", "name": "Coachapp"}
    assert b64url_decode(options["user"]["id"]) == ALICE
    assert options["user"]["name"] == "alice@example.com"
    assert options["user"]["displayName"] == "Alice"
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required"
    assert selection["requireResidentKey"] is True
    assert selection["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -257]
    assert [b64url_decode(c["id"]) for c in options["excludeCredentials"]] == [b"old-credential"]


def test_each_options_call_has_a_new_challenge():
    assert begin_registration()[1] != begin_registration()[1]
    assert authentication_options(rp=RP)[1] != authentication_options(rp=RP)[1]


@pytest.mark.parametrize("handle", [b"", bytes(65)])
def test_registration_options_refuse_an_invalid_user_handle(handle):
    with pytest.raises(ValueError):
        begin_registration(handle)


def test_authentication_options_name_no_credentials_and_require_verification():
    options_json, challenge = authentication_options(rp=RP)
    options = json.loads(options_json)

    assert b64url_decode(options["challenge"]) == challenge
    assert options["rpId"] == "localhost"
    assert not options.get("allowCredentials")
    assert options["userVerification"] == "required"


# --- success -----------------------------------------------------------------------------------


def test_register_then_sign_in_returns_the_growing_sign_count(authenticator):
    stored = register(authenticator)

    assert stored.credential_id == authenticator.credential.credential_id
    assert stored.public_key == authenticator.credential.cose_public_key
    assert stored.sign_count == 0
    assert stored.transports == ["internal", "hybrid"]
    assert stored.backed_up is False

    assert sign_in(authenticator, stored) == 1
    assert sign_in(authenticator, stored, stored_sign_count=1) == 2


def test_synced_passkey_is_backed_up_and_zero_after_zero_is_accepted():
    authenticator = SoftAuthenticator(RP.id, RP.origin, synced=True)
    stored = register(authenticator)

    assert stored.backed_up is True
    for _ in range(3):
        assert sign_in(authenticator, stored, stored_sign_count=0) == 0


def test_counter_staying_at_zero_is_accepted(authenticator):
    stored = register(authenticator)

    assert sign_in(authenticator, stored, stored_sign_count=0, sign_count=0) == 0
    assert sign_in(authenticator, stored, stored_sign_count=0, sign_count=0) == 0


def test_unknown_transports_are_dropped(authenticator):
    stored = register(authenticator, transports=["usb", "teleport", "usb", "internal"])

    assert stored.transports == ["usb", "internal"]


def test_assertion_names_its_credential_and_user(authenticator):
    stored = register(authenticator)
    options, _ = authentication_options(rp=RP)
    assertion = authenticator.get(options)

    assert credential_id_of(assertion) == stored.credential_id
    assert credential_id_of(json.dumps(assertion)) == stored.credential_id
    assert user_handle_of(assertion) == ALICE
    assert user_handle_of(authenticator.get(options, user_handle=None)) is None


# --- registration refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"challenge": b"a challenge we never issued"}, "bad_challenge"),
        ({"origin": "https://evil.example"}, "bad_origin"),
        ({"origin": "https://localhost:5000"}, "bad_origin"),
        ({"rp_id": "evil.example"}, "bad_rp"),
        ({"user_verified": False}, "user_verification"),
        ({"user_present": False}, "user_presence"),
        ({"cross_origin": True}, "cross_origin"),
    ],
)
def test_registration_refused(authenticator, overrides, reason):
    fails_with(reason, register, authenticator=authenticator, **overrides)


def test_registration_without_user_verification_from_the_authenticator_itself():
    authenticator = SoftAuthenticator(RP.id, RP.origin, user_verified=False)

    fails_with("user_verification", register, authenticator=authenticator)


def test_registration_refuses_an_algorithm_not_offered():
    authenticator = SoftAuthenticator(RP.id, RP.origin, algorithm="EdDSA")

    fails_with("unsupported_algorithm", register, authenticator=authenticator)


def test_registration_refuses_a_credential_id_already_registered(authenticator):
    first = register(authenticator)

    # The same id again, for the same user or another: the caller passes every stored id.
    fails_with(
        "already_registered",
        register,
        authenticator=authenticator,
        user_handle=BOB,
        known={b"someone-else", first.credential_id},
        credential_id=first.credential_id,
    )


def test_registration_refuses_an_empty_stored_challenge(authenticator):
    fails_with(
        "bad_challenge",
        verify_registration,
        rp=RP,
        credential_json=authenticator.create(b"", ALICE),
        expected_challenge=b"",
        known_credential_ids=set(),
    )


def test_registration_answer_cannot_be_replayed_against_a_later_challenge(authenticator):
    # Single use is the caller's job: it deletes the stored challenge before verifying, so a
    # replayed answer meets either no challenge (refused before reaching here) or a newer one.
    options, first_challenge = begin_registration()
    answer = authenticator.create(options)
    verify_registration(
        rp=RP,
        credential_json=answer,
        expected_challenge=first_challenge,
        known_credential_ids=set(),
    )
    _, second_challenge = begin_registration()

    fails_with(
        "bad_challenge",
        verify_registration,
        rp=RP,
        credential_json=answer,
        expected_challenge=second_challenge,
        known_credential_ids=set(),
    )


def test_registration_refuses_an_authdata_credential_id_unlike_raw_id(authenticator):
    options, challenge = begin_registration()
    answer = authenticator.create(options)
    answer["id"] = answer["rawId"] = b64url(b"a different credential id")

    fails_with(
        "malformed",
        verify_registration,
        rp=RP,
        credential_json=answer,
        expected_challenge=challenge,
        known_credential_ids=set(),
    )


def test_registration_refuses_a_public_key_that_is_not_on_the_curve(authenticator):
    options, challenge = begin_registration()
    answer = authenticator.create(options)
    attestation = cbor2.loads(b64url_decode(answer["response"]["attestationObject"]))
    # authData ends with the COSE key, whose last entry is y: change it and the point is invalid.
    auth_data = bytearray(attestation["authData"])
    auth_data[-1] ^= 0x01
    attestation["authData"] = bytes(auth_data)
    answer["response"]["attestationObject"] = b64url(cbor2.dumps(attestation))

    fails_with(
        "malformed",
        verify_registration,
        rp=RP,
        credential_json=answer,
        expected_challenge=challenge,
        known_credential_ids=set(),
    )


def test_an_assertion_is_not_a_registration(authenticator):
    register(authenticator)
    assertion = authenticator.get(b"challenge")

    fails_with(
        "malformed",
        verify_registration,
        rp=RP,
        credential_json=assertion,
        expected_challenge=b"challenge",
        known_credential_ids=set(),
    )


# --- sign-in refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"challenge": b"a challenge we never issued"}, "bad_challenge"),
        ({"origin": "https://evil.example"}, "bad_origin"),
        ({"origin": "http://localhost:5001"}, "bad_origin"),
        ({"rp_id": "evil.example"}, "bad_rp"),
        ({"user_verified": False}, "user_verification"),
        ({"user_present": False}, "user_presence"),
        ({"cross_origin": True}, "cross_origin"),
        ({"user_handle": BOB}, "wrong_user"),
        ({"user_handle": None}, "wrong_user"),
    ],
)
def test_sign_in_refused(authenticator, overrides, reason):
    stored = register(authenticator)

    fails_with(reason, sign_in, authenticator=authenticator, stored=stored, **overrides)


@pytest.mark.parametrize(
    ("stored_count", "sent_count"),
    [(5, 3), (5, 5), (5, 0), (1, 0)],
)
def test_counter_that_does_not_grow_is_refused(authenticator, stored_count, sent_count):
    stored = register(authenticator)

    fails_with(
        "counter",
        sign_in,
        authenticator=authenticator,
        stored=stored,
        stored_sign_count=stored_count,
        sign_count=sent_count,
    )


def test_another_users_passkey_cannot_sign_in_as_alice(authenticator):
    alices = register(authenticator)
    bobs_authenticator = SoftAuthenticator(RP.id, RP.origin)
    register(bobs_authenticator, user_handle=BOB)
    options, challenge = authentication_options(rp=RP)

    # Bob's honest assertion checked against Alice's stored passkey: the handle gives it away.
    fails_with(
        "wrong_user",
        verify_authentication,
        rp=RP,
        credential_json=bobs_authenticator.get(options),
        expected_challenge=challenge,
        stored_public_key=alices.public_key,
        stored_sign_count=alices.sign_count,
        expected_user_handle=ALICE,
    )
    # Claiming Alice's handle does not help: Bob's key did not make Alice's passkey.
    fails_with(
        "bad_signature",
        verify_authentication,
        rp=RP,
        credential_json=bobs_authenticator.get(options, user_handle=ALICE),
        expected_challenge=challenge,
        stored_public_key=alices.public_key,
        stored_sign_count=alices.sign_count,
        expected_user_handle=ALICE,
    )


def test_empty_expected_user_handle_matches_nothing(authenticator):
    stored = register(authenticator)

    fails_with(
        "wrong_user",
        sign_in,
        authenticator=authenticator,
        stored=stored,
        expected_user_handle=b"",
        user_handle=None,
    )


def test_sign_in_answer_cannot_be_replayed_against_a_later_challenge(authenticator):
    # As for registration: the caller deletes the stored challenge before verifying, so replaying
    # a used answer can only meet a newer challenge, which it does not carry.
    stored = register(authenticator)
    options, first_challenge = authentication_options(rp=RP)
    answer = authenticator.get(options)
    count = verify_authentication(
        rp=RP,
        credential_json=answer,
        expected_challenge=first_challenge,
        stored_public_key=stored.public_key,
        stored_sign_count=0,
        expected_user_handle=ALICE,
    )
    _, second_challenge = authentication_options(rp=RP)

    fails_with(
        "bad_challenge",
        verify_authentication,
        rp=RP,
        credential_json=answer,
        expected_challenge=second_challenge,
        stored_public_key=stored.public_key,
        stored_sign_count=count,
        expected_user_handle=ALICE,
    )


def test_sign_in_refuses_an_empty_stored_challenge(authenticator):
    stored = register(authenticator)

    fails_with(
        "bad_challenge",
        verify_authentication,
        rp=RP,
        credential_json=authenticator.get(b""),
        expected_challenge=b"",
        stored_public_key=stored.public_key,
        stored_sign_count=0,
        expected_user_handle=ALICE,
    )


@pytest.mark.parametrize("field", ["signature", "authenticatorData"])
def test_tampering_after_signing_is_refused(authenticator, field):
    stored = register(authenticator)
    options, challenge = authentication_options(rp=RP)
    assertion = authenticator.get(options)
    data = bytearray(b64url_decode(assertion["response"][field]))
    # Last byte: in the signature it changes s; in authData it raises the counter from 1 to 3.
    data[-1] ^= 0x02
    assertion["response"][field] = b64url(bytes(data))

    error = fails_with(
        "bad_signature",
        verify_authentication,
        rp=RP,
        credential_json=assertion,
        expected_challenge=challenge,
        stored_public_key=stored.public_key,
        stored_sign_count=0,
        expected_user_handle=ALICE,
    )
    # The library's reason stays attached for logs only.
    assert isinstance(error.__cause__, WebAuthnException)


def test_a_registration_is_not_an_assertion(authenticator):
    stored = register(authenticator)
    answer = authenticator.create(b"challenge", ALICE)

    fails_with(
        "malformed",
        verify_authentication,
        rp=RP,
        credential_json=answer,
        expected_challenge=b"challenge",
        stored_public_key=stored.public_key,
        stored_sign_count=0,
        expected_user_handle=ALICE,
    )


# --- malformed input ---------------------------------------------------------------------------

CHALLENGE = b"a-fixed-challenge-for-these-tests"
_FIXTURE_AUTHENTICATOR = SoftAuthenticator(RP.id, RP.origin)
VALID_REGISTRATION = _FIXTURE_AUTHENTICATOR.create(CHALLENGE, ALICE)
VALID_ASSERTION = _FIXTURE_AUTHENTICATOR.get(CHALLENGE)
STORED_KEY = _FIXTURE_AUTHENTICATOR.credential.cose_public_key

GARBAGE = [
    "",
    "   ",
    "null",
    "[]",
    "42",
    '"public-key"',
    "{",
    "not json at all",
    "{}",
    '{"type": "public-key"}',
    "[" * 5000,
    '{"type": "public-key", "response": []}',
]
BAD_BASE64 = ["", "!!!!", "a", "ab+/", "ab cd", "é", "AA===", 12, None, [], {}]


def copy(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value))


def without(value: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    result = copy(value)
    *parents, last = path
    target = result
    for key in parents:
        target = target[key]
    del target[last]
    return result


def replaced(value: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    result = copy(value)
    *parents, last = path
    target = result
    for key in parents:
        target = target[key]
    target[last] = new
    return result


def check_registration(credential_json: Any) -> None:
    verify_registration(
        rp=RP,
        credential_json=credential_json,
        expected_challenge=CHALLENGE,
        known_credential_ids=set(),
    )


def check_assertion(credential_json: Any) -> None:
    verify_authentication(
        rp=RP,
        credential_json=credential_json,
        expected_challenge=CHALLENGE,
        stored_public_key=STORED_KEY,
        stored_sign_count=0,
        expected_user_handle=ALICE,
    )


def test_the_malformed_cases_start_from_valid_credentials():
    check_registration(copy(VALID_REGISTRATION))
    check_assertion(copy(VALID_ASSERTION))


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_json_is_malformed(garbage):
    fails_with("malformed", check_registration, credential_json=garbage)
    fails_with("malformed", check_assertion, credential_json=garbage)
    fails_with("malformed", credential_id_of, credential_json=garbage)
    fails_with("malformed", user_handle_of, credential_json=garbage)


@pytest.mark.parametrize(
    "path",
    [
        ("id",),
        ("rawId",),
        ("type",),
        ("response",),
        ("response", "clientDataJSON"),
        ("response", "attestationObject"),
    ],
)
def test_registration_missing_a_field_is_malformed(path):
    fails_with("malformed", check_registration, credential_json=without(VALID_REGISTRATION, path))


@pytest.mark.parametrize(
    "path",
    [
        ("id",),
        ("rawId",),
        ("type",),
        ("response",),
        ("response", "clientDataJSON"),
        ("response", "authenticatorData"),
        ("response", "signature"),
    ],
)
def test_assertion_missing_a_field_is_malformed(path):
    fails_with("malformed", check_assertion, credential_json=without(VALID_ASSERTION, path))


@pytest.mark.parametrize("bad", BAD_BASE64)
@pytest.mark.parametrize(
    "path", [("rawId",), ("response", "clientDataJSON"), ("response", "attestationObject")]
)
def test_registration_with_wrong_base64_is_malformed(path, bad):
    fails_with(
        "malformed", check_registration, credential_json=replaced(VALID_REGISTRATION, path, bad)
    )


@pytest.mark.parametrize("bad", BAD_BASE64)
@pytest.mark.parametrize(
    "path",
    [
        ("rawId",),
        ("response", "clientDataJSON"),
        ("response", "authenticatorData"),
        ("response", "signature"),
    ],
)
def test_assertion_with_wrong_base64_is_malformed(path, bad):
    fails_with("malformed", check_assertion, credential_json=replaced(VALID_ASSERTION, path, bad))


@pytest.mark.parametrize("bad", [b for b in BAD_BASE64 if b not in ("", None)])
def test_user_handle_with_wrong_base64_is_malformed(bad):
    assertion = replaced(VALID_ASSERTION, ("response", "userHandle"), bad)

    fails_with("malformed", check_assertion, credential_json=assertion)
    fails_with("malformed", user_handle_of, credential_json=assertion)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), b64url(b"another id")),
        (("id",), VALID_REGISTRATION["id"] + "="),
        (("type",), "password"),
        (("rawId",), ""),
        (("rawId",), b64url(bytes(1024))),
        (("response", "clientDataJSON"), b64url(b"not json")),
        (("response", "clientDataJSON"), b64url(b"[]")),
        (("response", "clientDataJSON"), b64url(b"\xff\xfe")),
        (("response", "clientDataJSON"), b64url(b'{"type": "webauthn.create"}')),
        (("response", "attestationObject"), b64url(b"not cbor")),
        (("response", "attestationObject"), b64url(b"\xa0")),
        (("response", "attestationObject"), b64url(bytes.fromhex("a2636674") + b"x" * 10)),
        (("response",), "a string"),
    ],
    # Named, because some values carry the random credential id: parallel workers must collect
    # the same test names.
    ids=[
        "id-another",
        "id-padded",
        "type-password",
        "rawId-empty",
        "rawId-too-long",
        "clientData-not-json",
        "clientData-a-list",
        "clientData-not-utf8",
        "clientData-no-challenge",
        "attestation-not-cbor",
        "attestation-empty-map",
        "attestation-truncated",
        "response-a-string",
    ],
)
def test_registration_with_broken_contents_is_malformed(path, value):
    fails_with(
        "malformed", check_registration, credential_json=replaced(VALID_REGISTRATION, path, value)
    )


def _client_data(**changes: Any) -> str:
    data = json.loads(b64url_decode(VALID_ASSERTION["response"]["clientDataJSON"]))
    data.update(changes)
    return b64url(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("id",), b64url(b"another id")),
        (("response", "authenticatorData"), b64url(b"too short")),
        (("response", "authenticatorData"), b64url(bytes(37) + b"leftover")),
        (("response", "userHandle"), b64url(bytes(65))),
        (("response", "clientDataJSON"), _client_data(crossOrigin="no")),
        (("response", "clientDataJSON"), _client_data(challenge=12)),
        (("response", "clientDataJSON"), _client_data(type="webauthn.create")),
    ],
    ids=[
        "id-another",
        "authenticatorData-too-short",
        "authenticatorData-leftover",
        "userHandle-too-long",
        "clientData-crossOrigin-not-bool",
        "clientData-challenge-a-number",
        "clientData-wrong-type",
    ],
)
def test_assertion_with_broken_contents_is_malformed(path, value):
    fails_with("malformed", check_assertion, credential_json=replaced(VALID_ASSERTION, path, value))


def test_assertion_with_bad_id_cannot_be_looked_up():
    for path, value in [(("id",), b64url(b"other")), (("rawId",), "!!"), (("type",), None)]:
        fails_with(
            "malformed", credential_id_of, credential_json=replaced(VALID_ASSERTION, path, value)
        )


def test_challenge_freshness():
    issued = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    assert challenge_is_fresh(issued_at=issued, now=issued)
    assert challenge_is_fresh(issued_at=issued, now=issued + CHALLENGE_TTL - timedelta(seconds=1))
    assert not challenge_is_fresh(issued_at=issued, now=issued + CHALLENGE_TTL)
    assert not challenge_is_fresh(issued_at=issued, now=issued + timedelta(days=1))
    # Issued "later than now" means clocks or storage are wrong: do not trust it.
    assert not challenge_is_fresh(issued_at=issued, now=issued - timedelta(seconds=1))
    assert timedelta(minutes=5) == CHALLENGE_TTL


# --- fuzzing -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
base64ish = st.one_of(
    st.binary(max_size=80).map(b64url),
    st.text(max_size=40),
    json_values.map(lambda v: b64url(json.dumps(v).encode())),
)
RESPONSE_KEYS = [
    "clientDataJSON",
    "attestationObject",
    "authenticatorData",
    "signature",
    "userHandle",
    "transports",
]
credential_shaped = st.fixed_dictionaries(
    {
        "id": base64ish,
        "rawId": base64ish,
        "type": st.sampled_from(["public-key", "", "x"]),
        "response": st.dictionaries(
            st.sampled_from(RESPONSE_KEYS), base64ish | json_values, max_size=6
        ),
    }
)


@st.composite
def mutated_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A real credential with one field swapped for noise, so fuzzing gets past the first checks."""
    base = copy(draw(st.sampled_from([VALID_REGISTRATION, VALID_ASSERTION])))
    if draw(st.booleans()):
        base[draw(st.sampled_from(["id", "rawId", "type", "response"]))] = draw(json_values)
    else:
        key = draw(st.sampled_from(RESPONSE_KEYS))
        base["response"][key] = draw(base64ish | json_values)
    return base


any_input = st.one_of(
    st.text(max_size=200),
    json_values,
    json_values.map(json.dumps),
    credential_shaped,
    credential_shaped.map(json.dumps),
    mutated_valid(),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_input)
def test_random_input_only_ever_raises_passkey_error(value):
    # Success is allowed (noise in a field nobody reads); any exception but PasskeyError is a bug.
    for check in (check_registration, check_assertion, credential_id_of, user_handle_of):
        try:
            check(value)
        except PasskeyError as error:
            assert error.reason in REASONS

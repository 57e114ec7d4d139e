"""Passkeys over HTTP: four thin ceremony endpoints (JSON) and the page an invitation opens."""

import json
from typing import Any

from flask import (
    after_this_request,
    current_app,
    flash,
    jsonify,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from coachapp import audit, clock, session_cookie
from coachapp.auth import ceremonies, invitations, signin_challenge
from coachapp.auth.invitations import InvitationRefused
from coachapp.auth.passkeys import RelyingParty
from coachapp.auth.sessions import sign_in
from coachapp.auth.views import bp
from coachapp.bodies import takes_ceremony_json
from coachapp.extensions import limiter
from coachapp.models import Invitation
from coachapp.unit_of_work import commits


def ceremony_limit() -> str:
    """Per client address, on each ceremony endpoint and on the invitation page; a call centre
    behind one NAT address may need more (COACHAPP_SIGNIN_LIMIT)."""
    return str(current_app.config["SIGNIN_RATE_LIMIT"])


REGISTER_KEY = "webauthn_register"

_TRY_AGAIN = _l("This attempt took too long or was already used. Try again.")
_NOT_CONFIRMED = _l("This passkey could not be confirmed. Try again, or use another passkey.")
#: What a person is told for each refusal; never the library's words.
MESSAGES = {
    "malformed": _l("Your browser sent something we could not read. Try again."),
    "no_challenge": _TRY_AGAIN,
    "bad_challenge": _TRY_AGAIN,
    "expired_challenge": _TRY_AGAIN,
    "bad_origin": _l("This request did not come from this site's own page."),
    "cross_origin": _l("This request did not come from this site's own page."),
    "bad_rp": _l("This passkey belongs to another site."),
    "user_presence": _l("Your device did not confirm that you were there. Try again."),
    "user_verification": _l(
        "Your device did not check that it was you (fingerprint, face or screen lock). "
        "Try again and unlock it when asked."
    ),
    "unsupported_algorithm": _l("This kind of passkey is not supported. Try another device."),
    "bad_attestation": _l("This kind of passkey is not supported. Try another device."),
    "already_registered": _l("This passkey is already registered."),
    "unknown_credential": _l(
        "This passkey is not known here: it may have been removed. "
        "Ask your admin for a new invitation."
    ),
    "wrong_user": _NOT_CONFIRMED,
    "counter": _NOT_CONFIRMED,
    "bad_signature": _NOT_CONFIRMED,
    "inactive": _l("This account is switched off. Ask your admin."),
    "signed_out": _l("Please sign in first."),
    "invitation": _l("This invitation can no longer be used. Ask for a new one."),
}
#: Refusals about who is signing in answer 401; the rest (bad requests) 400.
UNAUTHORIZED = frozenset(
    {
        "signed_out",
        "unknown_credential",
        "wrong_user",
        "counter",
        "bad_signature",
        "inactive",
        "user_verification",
        "user_presence",
        "bad_origin",
        "cross_origin",
        "bad_rp",
    }
)


@bp.get("/invite/<token>")
@limiter.limit(ceremony_limit)
@commits
def invitation(token: str) -> Response:
    """The page an invitation link opens: whose invitation it is and "Create a passkey"."""
    try:
        found = invitations.usable_invitation(token=token, now=clock.now())
    except InvitationRefused as refused:
        page = render_template("auth/invitation_refused.html", reason=refused.reason)
        return _private(page, 404 if refused.reason == "unknown" else 410)
    return _private(render_template("auth/invitation.html", invitation=found, token=token))


@bp.post("/passkeys/register/options")
@takes_ceremony_json
@limiter.limit(ceremony_limit)
@commits
def register_options() -> ResponseReturnValue:
    """Options for a new passkey: from an invitation, or for the signed-in person."""
    body = _json_body()
    if body is None:
        return _refusal("malformed")
    try:
        found = _invitation_in(body)
    except InvitationRefused:
        return _refusal("invitation")
    if found is None and not current_user.is_authenticated:
        return _refusal("signed_out")
    options, challenge_id = ceremonies.begin_registration(
        rp=_relying_party(),
        now=clock.now(),
        replaces=session.get(REGISTER_KEY),
        user=None if found else current_user._get_current_object(),
        invitation=found,
    )
    session[REGISTER_KEY] = challenge_id
    return jsonify(options=json.loads(options))


@bp.post("/passkeys/register/verify")
@takes_ceremony_json
@limiter.limit(ceremony_limit)
@commits
def register_verify() -> ResponseReturnValue:
    """Store the new passkey; an invitation's person is then signed in."""
    body = _json_body()
    if body is None:
        return _refusal("malformed")
    try:
        found = _invitation_in(body)
        if found is None and not current_user.is_authenticated:
            return _refusal("signed_out")
        person = ceremonies.finish_registration(
            rp=_relying_party(),
            challenge_id=session.pop(REGISTER_KEY, None),
            credential=body.get("credential"),
            now=clock.now(),
            device=ceremonies.device_name(request.user_agent.string, fallback=_("Passkey")),
            user=None if found else current_user._get_current_object(),
            invitation=found,
        )
    except InvitationRefused:
        return _refusal("invitation")
    except ceremonies.CeremonyError as error:
        return _refusal(error.reason)
    if found is None:
        flash(_("Passkey added. You can sign in with it from now on."))
        return jsonify(redirect=url_for("auth.account_page"))
    sign_in(person)
    flash(_("Welcome, %(name)s. Your passkey is ready: use it to sign in.", name=person.name))
    return jsonify(redirect=url_for("core.home"))


# Answered at any time after the page opened, maybe after a sign-in made on it meanwhile.
session_cookie.never_sent_by("auth.signin_options")


@bp.post("/signin/passkey/options")
@takes_ceremony_json
@limiter.limit(ceremony_limit)
@commits
def signin_options() -> ResponseReturnValue:
    """Options for signing in with a passkey, without asking who first."""
    if _json_body() is None:
        return _refusal("malformed")
    options, challenge_id = ceremonies.begin_authentication(
        rp=_relying_party(), now=clock.now(), replaces=signin_challenge.current()
    )
    response = jsonify(options=json.loads(options))
    signin_challenge.attach(response, challenge_id)
    return response


@bp.post("/signin/passkey/verify")
@takes_ceremony_json
@limiter.limit(ceremony_limit)
@commits
def signin_verify() -> ResponseReturnValue:
    """Check the passkey's answer and sign its owner in."""
    # Whatever the answer, the challenge is used up (or was never there).
    after_this_request(_forget_signin_challenge)
    body = _json_body()
    if body is None:
        audit.record("signin.failure", details="malformed")
        return _refusal("malformed")
    try:
        user = ceremonies.finish_authentication(
            rp=_relying_party(),
            challenge_id=signin_challenge.current(),
            credential=body.get("credential"),
            now=clock.now(),
        )
    except ceremonies.CeremonyError as error:
        return _refusal(error.reason)
    sign_in(user)
    return jsonify(redirect=url_for("core.home"))


# --- helpers -----------------------------------------------------------------------------------


def _forget_signin_challenge(response: Response) -> Response:
    signin_challenge.clear(response)
    return response


def _relying_party() -> RelyingParty:
    return ceremonies.relying_party(config=current_app.config, host_url=request.host_url)


def _json_body() -> dict[str, Any] | None:
    """The request's JSON object; {} for an empty body; None for anything unreadable."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _invitation_in(body: dict[str, Any]) -> Invitation | None:
    token = body.get("invitation")
    if token is None:
        return None
    return invitations.usable_invitation(token=token, now=clock.now())


def _refusal(reason: str) -> tuple[Response, int]:
    message = MESSAGES.get(reason, MESSAGES["malformed"])
    return jsonify(error=str(message)), 401 if reason in UNAUTHORIZED else 400


def _private(page: str, status: int = 200) -> Response:
    """A page holding an invitation's token: never cached, never sent on as a Referer."""
    response = Response(page, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response

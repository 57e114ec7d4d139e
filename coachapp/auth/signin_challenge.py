"""The passkey sign-in's challenge id, carried in a cookie of its own rather than in the session.

The sign-in page asks for passkey options as soon as it opens (for the browser's autofill) and
may wait on them for minutes. Had their answer kept the challenge id in the session, it would
carry a session cookie made before any other sign-in on that page (a demo person's button) and,
arriving after it, undo that sign-in. This cookie is signed, HttpOnly, only sent to
/signin/passkey/... and lives as long as a challenge does.
"""

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from coachapp.auth.passkeys import CHALLENGE_TTL

PATH = "/signin/passkey"
_SALT = "coachapp.signin-challenge"


def cookie_name() -> str:
    # "__Secure-" makes the browser refuse the cookie from a page not served over HTTPS.
    return "__Secure-signin" if current_app.config["SESSION_COOKIE_SECURE"] else "signin"


def _serializer() -> URLSafeSerializer:
    # Not timed: the stored challenge's own age decides whether it may still be used.
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def sealed(challenge_id: int) -> str:
    """The cookie's value for a challenge id: readable, but not forgeable without the secret."""
    return str(_serializer().dumps(challenge_id))


def attach(response: Response, challenge_id: int) -> None:
    response.set_cookie(
        cookie_name(),
        sealed(challenge_id),
        max_age=int(CHALLENGE_TTL.total_seconds()),
        path=PATH,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )


def clear(response: Response) -> None:
    response.delete_cookie(
        cookie_name(),
        path=PATH,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )


def current() -> int | None:
    """The challenge id this browser was given, if its cookie is genuine."""
    value = request.cookies.get(cookie_name())
    if not value:
        return None
    try:
        challenge_id = _serializer().loads(value)
    except BadSignature:
        return None
    return challenge_id if isinstance(challenge_id, int) else None

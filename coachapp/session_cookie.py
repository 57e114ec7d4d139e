"""The browser's session cookie, and the answers that must leave it as it is.

An answer that may arrive after another request has changed the session must not carry the
session cookie it started from, or it undoes that change: the sign-in page asks for passkey
options as it opens, and their answer may land after a demo person's sign-in on the same page.
Anything may touch the session on the way (on a first visit Flask-Login marks it "not fresh"
when it is asked who is signed in, from any hook), so such a view calls leave_as_it_is() and
the cookie is not sent at all.
"""

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.wrappers import Response

#: Kept in the request's environ, which lives exactly as long as the request (`g` belongs to
#: the application context, which an outer context, as in tests, shares between requests).
_LEAVE = "coachapp.leave_session_cookie"


def leave_as_it_is() -> None:
    """This request's answer sends no session cookie, whatever changed in the session."""
    request.environ[_LEAVE] = True


class _SessionInterface(SecureCookieSessionInterface):
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.environ.get(_LEAVE):
            return
        super().save_session(app, session, response)


def register(app: Flask) -> None:
    app.session_interface = _SessionInterface()

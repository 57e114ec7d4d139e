"""The browser's session cookie, and the answers that must leave it as it is.

An answer that may arrive after another request has changed the session must not carry the
session cookie it started from, or it undoes that change: the sign-in page asks for passkey
options as it opens, and their answer may land after a demo person's sign-in on the same page.
Anything may touch the session on the way (on a first visit Flask-Login marks it "not fresh"
when it is asked who is signed in, from any hook), so such an endpoint is named here and
its answers carry no session cookie at all, whoever answers (a rate limit's 429 included).
"""

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from werkzeug.wrappers import Response

#: The endpoints whose answers never send the session cookie: whatever answers them (the view,
#: a rate limit's 429, a refusal), so the rule holds before any of their code runs.
_ENDPOINTS: set[str] = set()


def never_sent_by(endpoint: str) -> None:
    """Answers of `endpoint` send no session cookie, whatever changed in the session."""
    _ENDPOINTS.add(endpoint)


class _SessionInterface(SecureCookieSessionInterface):
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.endpoint in _ENDPOINTS:
            return
        super().save_session(app, session, response)


def register(app: Flask) -> None:
    app.session_interface = _SessionInterface()

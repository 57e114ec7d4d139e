"""Access rows of issue 11: signing out of one device from the account page."""

import secrets

from flask import url_for

from coachapp.extensions import db
from coachapp.models import LoginSession
from tests.access import Ids, Route, only


def agents_other_device(ids: Ids) -> int:
    """A second signed-in device of the agent: only the agent may end it."""
    login = LoginSession(user_id=ids.agent, token_hash=secrets.token_hex(32))
    db.session.add(login)
    db.session.commit()
    return login.id


ROUTES: dict[str, Route] = {
    "auth.sign_out_session": Route(
        "POST",
        lambda ids: url_for("auth.sign_out_session", login_id=agents_other_device(ids)),
        only({"agent": 303}),
    ),
}

"""Demo sign-in: a list of demo people, for trying coachapp without passkeys.

It needs two things at once, so that it cannot be switched on by accident in production: the
COACHAPP_DEMO=1 setting and an organisation created by the demo-data command.
"""

import sqlalchemy as sa
from flask import current_app, g

from coachapp import organisation
from coachapp.extensions import db
from coachapp.models import Organisation


def demo_sign_in_available() -> bool:
    if not current_app.config.get("DEMO_MODE"):
        return False
    if "demo_org" not in g:
        known = organisation.current_if_loaded()
        if known is not None and known.is_demo:
            # The request has the organisation already (with the signed-in user).
            g.demo_org = known.id
            return True
        g.demo_org = db.session.scalar(
            sa.select(Organisation.id).where(Organisation.is_demo.is_(True)).limit(1)
        )
    return g.demo_org is not None

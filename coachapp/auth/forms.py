"""The small forms of the account page; the CSRF token is checked app-wide before any view."""

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from coachapp.shadowing.forms import NoCsrfForm, strip


class PasskeyNameForm(NoCsrfForm):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Give the passkey a name.")), Length(max=60)],
    )

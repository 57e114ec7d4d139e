"""The dashboard's one form: marking a worklist entry handled."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import AnyOf, DataRequired, Optional, Regexp

from coachapp.dashboard.models import WORKLISTS
from coachapp.shadowing.forms import NoCsrfForm, note_field


class HandledForm(NoCsrfForm):
    worklist = HiddenField(validators=[DataRequired(), AnyOf(WORKLISTS)])
    agent_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,12}$")])
    focus_item_id = HiddenField(validators=[Optional(), Regexp(r"^\d{1,12}$")])
    note = note_field(_l("What was done (the agent's managers read this)"))

    @property
    def key(self) -> str:
        return f"{self.worklist.data}-{self.focus_item_id.data or 'a'}-{self.agent_id.data}"

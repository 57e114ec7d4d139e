"""The dashboard's forms: marking a worklist entry handled, recording a training cohort."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, Field, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from coachapp import clock
from coachapp.dashboard.models import WORKLISTS
from coachapp.parsing import parse_id
from coachapp.shadowing.forms import NoCsrfForm, note_field, strip


def _an_id(_form: NoCsrfForm, field: Field) -> None:
    """A database id in plain ASCII digits, within the column's range."""
    if parse_id(field.data) is None:
        raise ValidationError(_l("That entry is not on the worklist any more. Reload the page."))


class HandledForm(NoCsrfForm):
    worklist = HiddenField(validators=[DataRequired(), AnyOf(WORKLISTS)])
    agent_id = HiddenField(validators=[DataRequired(), _an_id])
    focus_item_id = HiddenField(validators=[Optional(), _an_id])
    note = note_field(_l("What was done (the agent's managers read this)"))

    @property
    def key(self) -> str:
        return f"{self.worklist.data}-{self.focus_item_id.data or 'a'}-{self.agent_id.data}"


class CohortForm(NoCsrfForm):
    name = StringField(
        _l("Name of the training"),
        filters=[strip],
        validators=[
            DataRequired(_l("Give the training a name.")),
            Length(max=120, message=_l("Keep this under %(max)d characters.")),
        ],
    )
    trained_on = DateField(
        _l("Date of the training"), validators=[DataRequired(_l("Give the date of the training."))]
    )
    team_id = SelectField(_l("Everyone in a team"), choices=[], default="")
    agent_ids = SelectMultipleField(_l("Or these people"), choices=[], coerce=int)

    def fill_choices(self, teams: list[tuple[int, str]], agents: list[tuple[int, str]]) -> None:
        self.team_id.choices = [("", _l("No team"))] + [(str(i), n) for i, n in teams]
        self.agent_ids.choices = agents

    def validate_trained_on(self, field: DateField) -> None:
        if field.data is not None and field.data > clock.today():
            raise ValidationError(_l("A training date cannot be in the future."))

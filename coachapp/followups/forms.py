"""The re-observation form: four outcome buttons, an optional note, what was coached on a slip."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import UUID, DataRequired, Optional, ValidationError

from coachapp.scheduling import Outcome
from coachapp.shadowing.forms import NoCsrfForm, note_field, parse_phone_time

OUTCOME_LABELS = {
    Outcome.SUSTAINED: _l("Sustained"),
    Outcome.PARTLY: _l("Partly"),
    Outcome.SLIPPED: _l("Slipped"),
    Outcome.NO_CHANCE: _l("No chance"),
}


class OutcomeForm(NoCsrfForm):
    outcome = StringField(
        _l("Outcome"), validators=[DataRequired(_l("Tap one of the four outcomes."))]
    )
    note = note_field(_l("Note"))
    coached = note_field(_l("What I coached"))
    client_uuid = HiddenField(validators=[DataRequired(), UUID()])
    occurred_at = HiddenField(validators=[Optional()])

    @property
    def chosen_outcome(self) -> Outcome | None:
        try:
            return Outcome(self.outcome.data)
        except ValueError:
            return None

    def validate_outcome(self, field: StringField) -> None:
        if self.chosen_outcome is None:
            raise ValidationError(_l("Tap one of the four outcomes."))

    def validate_occurred_at(self, field: HiddenField) -> None:
        if field.data and parse_phone_time(field.data) is None:
            raise ValidationError(_l("The time of this check was not understood."))


class ChangeForm(NoCsrfForm):
    """Another outcome for a check recorded in the last 10 minutes."""

    change_to = StringField(validators=[DataRequired(_l("Tap one of the four outcomes."))])

    @property
    def chosen_outcome(self) -> Outcome | None:
        try:
            return Outcome(self.change_to.data)
        except ValueError:
            return None

    def validate_change_to(self, field: StringField) -> None:
        if self.chosen_outcome is None:
            raise ValidationError(_l("Tap one of the four outcomes."))

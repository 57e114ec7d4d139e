"""Organisation settings, validated by the ladder itself so the rules live in one place."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coachapp.scheduling import InvalidLadder, Ladder
from coachapp.shadowing.forms import NoCsrfForm

WEEKDAYS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]


class LadderSettingsForm(NoCsrfForm):
    gaps = StringField(
        _l("Days between checks"),
        description=_l("Comma-separated, for example 2, 5, 7, 14, 28, 56."),
        validators=[DataRequired(_l("Give at least one gap.")), Length(max=80)],
    )
    working_days = SelectMultipleField(
        _l("Working days"),
        choices=[SelectChoice(str(number), label) for number, label in enumerate(WEEKDAYS)],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )

    def parsed_gaps(self) -> tuple[int, ...]:
        parts = [part.strip() for part in (self.gaps.data or "").split(",") if part.strip()]
        if not parts or not all(part.isdigit() for part in parts):
            raise ValidationError(_l("Write whole numbers of days, separated by commas."))
        return tuple(int(part) for part in parts)

    def validate_gaps(self, field: StringField) -> None:
        gaps = self.parsed_gaps()
        if any(gap < 1 for gap in gaps):
            raise ValidationError(_l("Every gap must be at least one day."))
        if any(later < earlier for earlier, later in zip(gaps, gaps[1:], strict=False)):
            raise ValidationError(_l("Each gap must be at least as long as the one before."))
        if max(gaps) > 365:
            raise ValidationError(_l("Keep each gap within a year."))

    def validate_working_days(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one working day."))

    def ladder(self) -> Ladder:
        try:
            return Ladder(
                gaps=self.parsed_gaps(),
                working_days=frozenset(int(day) for day in self.working_days.data or []),
            )
        except InvalidLadder as error:  # the form checks first; this guards what it might miss
            raise ValidationError(str(error)) from error

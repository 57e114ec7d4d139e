"""Organisation settings: name, time zone, working days and the follow-up ladder (validated by
the ladder itself, so its rules live in one place)."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coachapp import dates, i18n, organisation
from coachapp.parsing import MAX_ID, parse_int
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


ORGANISATION_NAME_MAX_LENGTH = 120


class SettingsForm(NoCsrfForm):
    name = StringField(
        _l("Organisation name"),
        description=_l("How coachapp names your organisation, as on the set-up checklist."),
        filters=[lambda value: " ".join(value.split()) if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Give the organisation a name.")),
            Length(
                max=ORGANISATION_NAME_MAX_LENGTH,
                message=_l("Keep the name within 120 characters."),
            ),
        ],
    )
    timezone = SelectField(
        _l("Time zone"),
        description=_l('What "today" means for due dates, and the zone times are shown in.'),
        validate_choice=False,
    )
    language = SelectField(
        _l("Language"),
        description=_l(
            "For people who have not chosen one in their account and whose browser asks for "
            "none of these."
        ),
        validate_choice=False,
    )
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

    def offer_languages_and_days(self) -> None:
        """The six languages by their own names; the weekdays from the locale's first day."""
        self.language.choices = i18n.language_choices()
        self.working_days.choices = [
            SelectChoice(str(number), WEEKDAYS[number]) for number in dates.week_days()
        ]

    def validate_language(self, field: SelectField) -> None:
        if field.data and not i18n.is_supported(field.data):
            raise ValidationError(_l("Choose one of the languages in the list."))

    def parsed_gaps(self) -> tuple[int, ...]:
        parts = [part.strip() for part in (self.gaps.data or "").split(",") if part.strip()]
        gaps = [parse_int(part, low=0, high=MAX_ID) for part in parts]
        if not gaps or None in gaps:
            raise ValidationError(_l("Write whole numbers of days, separated by commas."))
        return tuple(gap for gap in gaps if gap is not None)

    def validate_gaps(self, field: StringField) -> None:
        gaps = self.parsed_gaps()
        if any(gap < 1 for gap in gaps):
            raise ValidationError(_l("Every gap must be at least one day."))
        if any(later < earlier for earlier, later in zip(gaps, gaps[1:], strict=False)):
            raise ValidationError(_l("Each gap must be at least as long as the one before."))
        if max(gaps) > 365:
            raise ValidationError(_l("Keep each gap within a year."))

    def offer_zones(self) -> None:
        zones = organisation.zone_names()
        default = organisation.default_zone_name()
        extra = () if default in zones else (default,)
        self.timezone.choices = [(zone, zone.replace("_", " ")) for zone in (*extra, *zones)]

    def validate_timezone(self, field: SelectField) -> None:
        if field.data != organisation.default_zone_name() and not organisation.is_known_zone(
            field.data or ""
        ):
            raise ValidationError(_l("Choose a time zone from the list."))

    def validate_working_days(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one working day."))

    def ladder(self) -> Ladder:
        try:
            return Ladder(
                gaps=self.parsed_gaps(),
                working_days=frozenset(
                    day
                    for day in (parse_int(d, low=0, high=6) for d in self.working_days.data or [])
                    if day is not None
                ),
            )
        except InvalidLadder as error:  # the form checks first; this guards what it might miss
            raise ValidationError(str(error)) from error

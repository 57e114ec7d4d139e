"""The self-check (three buttons and a note) and the self-assessment (four steps per behaviour)."""

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from coachapp.models import NOTE_MAX_LENGTH, SELF_ASSESSMENT_LEVELS, Behaviour, SelfRating
from coachapp.parsing import parse_id, parse_int
from coachapp.shadowing.forms import NoCsrfForm, strip

SELF_RATING_LABELS = {
    SelfRating.SUSTAINED: _l("Sustained"),
    SelfRating.PARTLY: _l("Partly"),
    SelfRating.SLIPPED: _l("Slipped"),
}

#: The four steps of the self-assessment, lowest first.
LEVEL_LABELS = dict(
    zip(
        SELF_ASSESSMENT_LEVELS,
        (
            _l("I need support"),
            _l("I am getting there"),
            _l("I do it on my own"),
            _l("I can teach others"),
        ),
        strict=True,
    )
)

TOO_LONG = _l("Keep this under %(max)d characters.")


class SelfCheckForm(NoCsrfForm):
    rating = StringField(_l("How is it going?"))
    note = TextAreaField(
        _l("A note for your manager (optional)"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )
    #: The check the agent saw on screen: if it was recorded meanwhile, the rating is not moved on.
    followup_id = HiddenField(validators=[Optional()])

    @property
    def chosen_rating(self) -> SelfRating | None:
        try:
            return SelfRating(self.rating.data)
        except ValueError:
            return None

    @property
    def chosen_followup_id(self) -> int | None:
        raw = strip(self.followup_id.data)
        return parse_id(raw)

    def validate_rating(self, field: StringField) -> None:
        if self.chosen_rating is None:
            raise ValidationError(_l("Tap Sustained, Partly or Slipped."))


class SelfAssessmentForm(NoCsrfForm):
    proud_of = TextAreaField(
        _l("Strengths I am proud of"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )
    want_to_improve = TextAreaField(
        _l("What I want to improve"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )
    goal = TextAreaField(
        _l("My goal for the next weeks"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )

    def __init__(
        self, formdata: MultiDict[str, str] | None, *, behaviours: list[Behaviour]
    ) -> None:
        # The form data is passed in by the view: the four-step choices are not WTForms fields,
        # since there is one per behaviour of the agent's profile.
        super().__init__(formdata=formdata)
        self.behaviours = behaviours
        given = formdata or MultiDict()
        self.raw_levels = {b.id: strip(given.get(f"level-{b.id}")) for b in behaviours}
        self.levels: dict[int, int] = {}
        self.level_errors: dict[int, str] = {}

    def validate(self, extra_validators: object = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[arg-type]
        for behaviour in self.behaviours:
            raw = self.raw_levels.get(behaviour.id, "")
            level = parse_int(
                raw, low=min(SELF_ASSESSMENT_LEVELS), high=max(SELF_ASSESSMENT_LEVELS)
            )
            if level is not None and level in SELF_ASSESSMENT_LEVELS:
                self.levels[behaviour.id] = level
            else:
                self.level_errors[behaviour.id] = str(_l("Choose one of the four steps."))
        return valid and not self.level_errors

"""Raising an obstacle or a suggestion, and a trainer's status change."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import UUID, DataRequired, Length

from coachapp.models import NOTE_MAX_LENGTH, SuggestionKind, SuggestionStatus
from coachapp.shadowing.forms import NoCsrfForm, strip

SUGGESTION_KIND_LABELS = {
    SuggestionKind.OBSTACLE: _l("Obstacle"),
    SuggestionKind.SUGGESTION: _l("Suggestion"),
}

STATUS_LABELS = {
    SuggestionStatus.NEW: _l("New"),
    SuggestionStatus.ACKNOWLEDGED: _l("Acknowledged"),
    SuggestionStatus.BEING_FIXED: _l("Being fixed"),
    SuggestionStatus.FIXED: _l("Fixed"),
    SuggestionStatus.WONT_FIX: _l("Won't fix"),
}

TOO_LONG = _l("Keep this under %(max)d characters.")


class SuggestionForm(NoCsrfForm):
    kind = RadioField(
        _l("What is it?"),
        choices=[SelectChoice(k.value, label) for k, label in SUGGESTION_KIND_LABELS.items()],
        validators=[DataRequired(_l("Choose obstacle or suggestion."))],
    )
    text = TextAreaField(
        _l("In a few words"),
        filters=[strip],
        validators=[
            DataRequired(_l("Say in a few words what gets in the way, or what would help.")),
            Length(max=NOTE_MAX_LENGTH, message=TOO_LONG),
        ],
    )
    client_uuid = HiddenField(validators=[DataRequired(), UUID()])


class StatusForm(NoCsrfForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()],
        validators=[DataRequired()],
    )
    note = TextAreaField(
        _l("Note for the person who raised it (needed for won't fix)"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )

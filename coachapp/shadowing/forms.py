"""The forms of the shadowing screen; the CSRF token travels in a header, checked app-wide."""

from datetime import datetime, timedelta
from functools import lru_cache

import sqlalchemy as sa
from babel import support
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import UUID, DataRequired, Length, Optional, ValidationError

from coachapp import clock
from coachapp.extensions import db
from coachapp.models import NOTE_MAX_LENGTH, Behaviour, Competency, ObservationKind, User
from coachapp.parsing import parse_id, parse_moment

#: A phone clock a little ahead is normal; an hour ahead is a wrong clock or a forged time.
FUTURE_TOLERANCE = timedelta(minutes=10)

#: The refusals the page also gives before anything leaves the phone (offline there is no server
#: to ask); the form below uses the same words.
KIND_MISSING = _l("Choose strength, correction or obstacle first.")
OBSTACLE_NEEDS_NOTE = _l("Say in a few words what gets in the way.")
BEHAVIOUR_OR_NOTE = _l("Tap a behaviour or write a note.")

KIND_LABELS = {
    ObservationKind.STRENGTH: _l("Strength"),
    ObservationKind.CORRECTION: _l("Correction"),
    ObservationKind.OBSTACLE: _l("Obstacle"),
}


def strip(value: str | None) -> str:
    return (value or "").strip()


def note_field(label: str) -> TextAreaField:
    """An optional free-text field, trimmed, capped at NOTE_MAX_LENGTH like every note."""
    return TextAreaField(
        label,
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=_l("Keep this under %(max)d characters."))],
    )


@lru_cache(maxsize=16)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class NoCsrfForm(FlaskForm):
    class Meta:
        # CSRFProtect checks every POST before a view runs (token in a header or a hidden field).
        csrf = False

        def get_translations(self, form: object) -> support.Translations:
            # WTForms' own messages in the page's language, as Flask-WTF gives them, but read
            # from disk once per language: Flask-WTF loads the catalogue again on every request,
            # about a tenth of an entry's save.
            return _wtforms_translations(str(get_locale() or "en"))


BEHAVIOUR_NOT_OFFERED = _l("Choose one of this agent's behaviours.")


class ObservationForm(NoCsrfForm):
    kind = RadioField(
        _l("Kind"),
        choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
        validators=[DataRequired(KIND_MISSING)],
    )
    behaviour_id = StringField(_l("Behaviour"), validators=[Optional()])
    note = note_field(_l("Note"))
    coached = note_field(_l("What I coached"))
    client_uuid = HiddenField(validators=[DataRequired(), UUID()])
    occurred_at = HiddenField(validators=[Optional()])

    def __init__(self, *args: object, behaviour_ids: set[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_behaviour_ids = behaviour_ids

    @property
    def chosen_kind(self) -> ObservationKind | None:
        try:
            return ObservationKind(self.kind.data)
        except ValueError:
            return None

    @property
    def chosen_behaviour_id(self) -> int | None:
        return parse_id(self.behaviour_id.data)

    def validate_behaviour_id(self, field: StringField) -> None:
        # An id is strict: " 1" is not 1 (the chips post plain digits).
        if not field.data:
            field.data = ""
            return
        if parse_id(field.data) not in self.allowed_behaviour_ids:
            raise ValidationError(BEHAVIOUR_NOT_OFFERED)

    def validate_note(self, field: TextAreaField) -> None:
        if self.chosen_kind == ObservationKind.OBSTACLE and not field.data:
            raise ValidationError(OBSTACLE_NEEDS_NOTE)
        if not field.data and not strip(self.behaviour_id.data):
            raise ValidationError(BEHAVIOUR_OR_NOTE)

    def validate_occurred_at(self, field: HiddenField) -> None:
        if parse_phone_time(field.data) is None and field.data:
            raise ValidationError(_l("The time of this entry was not understood."))
        when = parse_phone_time(field.data)
        if when and when > clock.now() + FUTURE_TOLERANCE:
            raise ValidationError(_l("This entry is dated in the future; check the phone's clock."))


class EndSessionForm(NoCsrfForm):
    summary_note = note_field(_l("Overall note"))


class StartSessionForm(NoCsrfForm):
    client_uuid = HiddenField(validators=[DataRequired(), UUID()])


def parse_phone_time(raw: str | None) -> datetime | None:
    """An ISO 8601 time from the phone, as aware UTC; None when absent, not understood, or
    outside the supported years (year 1 in a zone east of UTC has no UTC form, and a time that
    far out would not even show in a zone west of UTC)."""
    return parse_moment(raw)


def behaviour_ids_for(agent: User, keep: int | None = None) -> set[int]:
    """The active behaviours of the agent's role profile: the only ones an entry about them may
    name; `keep` is the one an entry being changed already names, even if retired since."""
    profile = agent.role_profile
    ids = (
        {b.id for c in profile.competencies for b in c.behaviours if not b.is_retired}
        if profile
        else set()
    )
    return ids | {keep} if keep is not None else ids


#: Built once: every save that names a behaviour runs it.
_BEHAVIOUR_PROFILE = (
    sa.select(Competency.role_profile_id, Behaviour.retired_at)
    .select_from(Behaviour)
    .join(Competency, Competency.id == Behaviour.competency_id)
    .where(Behaviour.id == sa.bindparam("behaviour_id"))
)


def named_behaviour_id(chosen: object) -> int | None:
    """The behaviour an entry's payload names, read as strictly as the form reads it."""
    return parse_id(str(chosen)) if chosen is not None else None


def behaviour_ids_allowed(agent: User, chosen: object, keep: int | None = None) -> set[int]:
    """What `behaviour_ids_for` allows, asked only of the one behaviour the entry names: one
    indexed lookup of its profile and retirement, not the whole profile. The form then refuses
    anything else with its own words."""
    behaviour_id = named_behaviour_id(chosen)
    if behaviour_id is None:
        return set()
    if behaviour_id == keep:
        return {keep}
    # On the session's connection: a Core read needs none of the ORM's result handling.
    connection = db.session.connection()
    row = connection.execute(_BEHAVIOUR_PROFILE, {"behaviour_id": behaviour_id}).first()
    if row is None or row.retired_at is not None or agent.role_profile_id is None:
        return set()
    return {behaviour_id} if row.role_profile_id == agent.role_profile_id else set()

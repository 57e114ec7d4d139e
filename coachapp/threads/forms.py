"""The message form under an observation: a reply, a question, or the agent's "seen"."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import UUID, DataRequired, Length, ValidationError

from coachapp.models import NOTE_MAX_LENGTH, CommentKind
from coachapp.shadowing.forms import NoCsrfForm, strip

TOO_LONG = _l("Keep your message under %(max)d characters.")


class CommentForm(NoCsrfForm):
    kind = StringField(validators=[DataRequired(_l("Choose whether to reply or to ask."))])
    body = TextAreaField(
        _l("Your message"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX_LENGTH, message=TOO_LONG)],
    )
    client_uuid = HiddenField(validators=[DataRequired(), UUID()])

    @property
    def chosen_kind(self) -> CommentKind | None:
        try:
            return CommentKind(self.kind.data)
        except ValueError:
            return None

    def validate_kind(self, field: StringField) -> None:
        if self.chosen_kind is None:
            raise ValidationError(_l("Choose whether to reply or to ask."))

    def validate_body(self, field: TextAreaField) -> None:
        if self.chosen_kind != CommentKind.SEEN and not field.data:
            raise ValidationError(_l("Write your message first."))


class EditCommentForm(NoCsrfForm):
    body = TextAreaField(
        _l("Your message"),
        filters=[strip],
        validators=[
            DataRequired(_l("Write your message first. To take it back, use Remove.")),
            Length(max=NOTE_MAX_LENGTH, message=TOO_LONG),
        ],
    )

"""Forms for inviting people and changing who they are in the organisation."""

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coachapp.models import Role, RoleProfile, Team
from coachapp.parsing import date_in_range, parse_id
from coachapp.shadowing.forms import NoCsrfForm, strip

ROLE_LABELS = {
    Role.AGENT: _l("Agent"),
    Role.MANAGER: _l("Manager"),
    Role.TRAINER: _l("Trainer"),
    Role.ADMIN: _l("Admin"),
}
NO_TEAM = 0
OUT_OF_RANGE = _l("Choose a day between 2000 and 2100.")


def _optional_int(value: object) -> int:
    return parse_id(value) or NO_TEAM


class _TeamFields(NoCsrfForm):
    role = SelectField(_l("Role"), validators=[DataRequired(_l("Choose a role."))])
    team_id = SelectField(_l("Team"), coerce=_optional_int, default=NO_TEAM)
    role_profile_id = SelectField(
        _l("Role profile"),
        coerce=_optional_int,
        default=NO_TEAM,
        description=_l("The job description an agent is coached against."),
    )

    def offer(
        self,
        *,
        roles: Sequence[Role],
        teams: Sequence[Team],
        profiles: Sequence[RoleProfile],
        team_optional: bool = True,
    ) -> None:
        self.role.choices = [(role.value, ROLE_LABELS[role]) for role in roles]
        no_team = [(NO_TEAM, _l("No team"))] if team_optional else []
        self.team_id.choices = no_team + [(team.id, team.name) for team in teams]
        self.role_profile_id.choices = [(NO_TEAM, _l("The team's usual profile"))] + [
            (profile.id, profile.name) for profile in profiles
        ]

    def validate_team_id(self, field: SelectField) -> None:
        if self.role.data == Role.AGENT.value and field.data == NO_TEAM:
            raise ValidationError(_l("An agent works in a team: choose one."))


class InvitationForm(_TeamFields):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Write the person's name.")), Length(max=120)],
    )
    email = StringField(
        _l("E-mail (optional)"),
        filters=[strip],
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("That is not an e-mail address.")),
        ],
    )


class PersonForm(_TeamFields):
    managed_team_ids = SelectMultipleField(
        _l("Teams they manage"),
        coerce=int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )

    def offer_managed(self, teams: Sequence[Team]) -> None:
        self.managed_team_ids.choices = [(team.id, team.name) for team in teams]


class ResetForm(NoCsrfForm):
    remove_existing = BooleanField(
        _l("Also remove their current passkeys and sign them out everywhere"),
        description=_l("Do this when a phone was lost or stolen."),
    )


class AuditFilterForm(NoCsrfForm):
    action = SelectField(_l("What happened"), default="")
    person = SelectField(_l("Person"), coerce=_optional_int, default=NO_TEAM)
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])

    def validate_start(self, field: DateField) -> None:
        if field.data and not date_in_range(field.data):
            raise ValidationError(OUT_OF_RANGE)

    def validate_end(self, field: DateField) -> None:
        if field.data and not date_in_range(field.data):
            raise ValidationError(OUT_OF_RANGE)
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end comes before the start."))

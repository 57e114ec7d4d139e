"""Forms of the teams pages; the team-name rules live in coachapp.setup.teams."""

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coachapp.models import Team, User
from coachapp.parsing import parse_id
from coachapp.setup.teams import TEAM_NAME_MAX_LENGTH
from coachapp.shadowing.forms import NoCsrfForm

NO_TEAM = 0


def _optional_int(value: object) -> int:
    return parse_id(value if isinstance(value, int) else str(value)) or NO_TEAM


class TeamNameForm(NoCsrfForm):
    # Checked by teams.clean_team_name, so a rename and the CSV import refuse the same names.
    name = StringField(_l("Team name"), render_kw={"maxlength": TEAM_NAME_MAX_LENGTH + 20})


class ManagersForm(NoCsrfForm):
    manager_ids = SelectMultipleField(
        _l("Managers of this team"),
        coerce=_optional_int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )

    def offer(self, managers: Sequence[User]) -> None:
        self.manager_ids.choices = [(m.id, m.name) for m in managers]

    def validate_manager_ids(self, field: SelectMultipleField) -> None:
        offered = {value for value, _label in field.choices or []}
        if any(chosen not in offered for chosen in field.data or []):
            raise ValidationError(_l("Choose from the managers listed."))


class MoveForm(NoCsrfForm):
    agent_ids = SelectMultipleField(
        _l("Agents to move"),
        coerce=_optional_int,
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )
    target_id = SelectField(_l("Move to"), coerce=_optional_int, validate_choice=False)

    def offer(self, agents: Sequence[User], targets: Sequence[Team]) -> None:
        self.agent_ids.choices = [(a.id, a.name) for a in agents]
        self.target_id.choices = [(NO_TEAM, _l("Choose a team"))] + [
            (t.id, t.name) for t in targets
        ]

"""Set-up pages for admins: the first-run checklist, the organisation's settings, teams."""

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import clock, organisation
from coachapp.errors import DomainError
from coachapp.extensions import db
from coachapp.htmx import render
from coachapp.models import Team
from coachapp.roles import role_required
from coachapp.setup import checklist, teams
from coachapp.setup.forms import ManagersForm, MoveForm, TeamNameForm

bp = Blueprint("setup", __name__)
admin_only = role_required("admin")


@bp.get("/setup")
@login_required
@admin_only
def checklist_page() -> Response:
    """The set-up checklist: what is done, what is left, and a link to each step."""
    found = checklist.progress(clock.now())
    return render(
        "setup/checklist.html",
        "setup/checklist.html",
        org=organisation.current(),
        progress=found,
        steps=checklist.steps(found),
    )


@bp.get("/admin/teams")
@login_required
@admin_only
def teams_page() -> Response:
    """Every team: active ones first, archived ones apart, with their agents and managers."""
    return _teams_page(TeamNameForm(formdata=None))


@bp.post("/admin/teams")
@login_required
@admin_only
def add_team() -> Response:
    """Create a team; a name that is empty, too long or taken is refused next to the field."""
    form = TeamNameForm()
    try:
        team = teams.create_team(name=form.name.data or "", actor=current_user)
    except teams.TeamNameError as error:
        form.name.errors = [str(error.message)]
        return _teams_page(form, status=422)
    db.session.commit()
    flash(_("Team %(name)s created.", name=team.name))
    return redirect(url_for("setup.team_page", team_id=team.id), code=303)


@bp.get("/admin/teams/<int:team_id>")
@login_required
@admin_only
def team_page(team_id: int) -> Response:
    """One team: its name, managers, agents (to move), and archive, restore or delete."""
    return _team_page(teams.team_or_404(team_id))


@bp.post("/admin/teams/<int:team_id>/name")
@login_required
@admin_only
def rename_team(team_id: int) -> Response:
    """Rename; the same rules as a new team's name."""
    team = teams.team_or_404(team_id)
    form = TeamNameForm()
    try:
        teams.rename_team(team=team, name=form.name.data or "", actor=current_user)
    except teams.TeamNameError as error:
        form.name.errors = [str(error.message)]
        return _team_page(team, name_form=form, status=422)
    db.session.commit()
    flash(_("Team renamed."))
    return redirect(url_for("setup.team_page", team_id=team.id), code=303)


@bp.post("/admin/teams/<int:team_id>/managers")
@login_required
@admin_only
def set_managers(team_id: int) -> Response:
    """Who manages the team; their other teams stay as they are."""
    team = teams.team_or_404(team_id)
    form = ManagersForm()
    form.offer(teams.managers_on_offer(team))
    if not form.validate():
        return _team_page(team, managers_form=form, status=422)
    chosen = set(form.manager_ids.data or [])
    managers = [m for m in teams.managers_on_offer(team) if m.id in chosen]
    teams.set_managers(team=team, managers=managers, actor=current_user)
    db.session.commit()
    flash(_("Managers saved."))
    return redirect(url_for("setup.team_page", team_id=team.id), code=303)


@bp.post("/admin/teams/<int:team_id>/move")
@login_required
@admin_only
def move_agents(team_id: int) -> Response:
    """Move the chosen agents to another team; their history goes with them."""
    team = teams.team_or_404(team_id)
    form = MoveForm()
    chosen = set(form.agent_ids.data or [])
    agents = [a for a in teams.agents_of(team) if a.id in chosen]
    target = db.session.get(Team, form.target_id.data or 0)
    try:
        moved = teams.move_agents(agents=agents, source=team, target=target, actor=current_user)
    except DomainError as error:
        return _team_page(team, move_form=form, move_error=str(error.message), status=422)
    db.session.commit()
    destination = target.name if target is not None else ""
    flash(
        ngettext(
            "Moved %(num)d agent to %(team)s.",
            "Moved %(num)d agents to %(team)s.",
            moved,
            team=destination,
        )
    )
    return redirect(url_for("setup.team_page", team_id=team.id), code=303)


@bp.post("/admin/teams/<int:team_id>/archive")
@login_required
@admin_only
def archive_team(team_id: int) -> Response:
    """Archive: the team leaves every choice of team; its records stay readable."""
    team = teams.team_or_404(team_id)
    try:
        teams.archive_team(team=team, actor=current_user, now=clock.now())
    except DomainError as error:
        return _team_page(team, state_error=str(error.message), status=422)
    db.session.commit()
    flash(_("Team %(name)s archived.", name=team.name))
    return redirect(url_for("setup.teams_page"), code=303)


@bp.post("/admin/teams/<int:team_id>/restore")
@login_required
@admin_only
def restore_team(team_id: int) -> Response:
    """Bring an archived team back into every choice of team."""
    team = teams.team_or_404(team_id)
    teams.restore_team(team=team, actor=current_user)
    db.session.commit()
    flash(_("Team %(name)s restored.", name=team.name))
    return redirect(url_for("setup.team_page", team_id=team.id), code=303)


@bp.post("/admin/teams/<int:team_id>/delete")
@login_required
@admin_only
def delete_team(team_id: int) -> Response:
    """Delete a team made by mistake: only one with no people, invitations or history."""
    team = teams.team_or_404(team_id)
    name = team.name
    try:
        teams.delete_team(team=team, actor=current_user)
    except DomainError as error:
        return _team_page(team, state_error=str(error.message), status=422)
    db.session.commit()
    flash(_("Team %(name)s deleted.", name=name))
    return redirect(url_for("setup.teams_page"), code=303)


# --- helpers -----------------------------------------------------------------------------------


def _teams_page(form: TeamNameForm, status: int = 200) -> Response:
    rows = teams.team_rows()
    return render(
        "setup/teams.html",
        "setup/teams.html",
        status=status,
        form=form,
        active=[row for row in rows if row.team.archived_at is None],
        archived=[row for row in rows if row.team.archived_at is not None],
    )


def _team_page(
    team: Team,
    *,
    name_form: TeamNameForm | None = None,
    managers_form: ManagersForm | None = None,
    move_form: MoveForm | None = None,
    move_error: str = "",
    state_error: str = "",
    status: int = 200,
) -> Response:
    agents = teams.agents_of(team)
    if name_form is None:
        name_form = TeamNameForm(formdata=None, name=team.name)
    if managers_form is None:
        managers_form = ManagersForm(formdata=None, manager_ids=[m.id for m in team.managers])
        managers_form.offer(teams.managers_on_offer(team))
    if move_form is None:
        move_form = MoveForm(formdata=None)
    targets = [t for t in teams.active_teams() if t.id != team.id]
    move_form.offer(agents, targets)
    return render(
        "setup/team.html",
        "setup/team.html",
        status=status,
        team=team,
        agents=agents,
        name_form=name_form,
        managers_form=managers_form,
        move_form=move_form,
        move_error=move_error,
        state_error=state_error,
        deletable=teams.can_be_deleted(team),
    )

"""An agent's coaching log, focus items and data, and the list of agents a person may open."""

import sqlalchemy.orm as so
from flask import Blueprint, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import audit, clock
from coachapp.extensions import db
from coachapp.followups.service import current_ladder
from coachapp.htmx import render
from coachapp.log import export, service
from coachapp.log.access import myself_or_404
from coachapp.log.explain import why_it_comes_back
from coachapp.models import FocusItem, User
from coachapp.parsing import parse_id
from coachapp.roles import role_required
from coachapp.scope import agent_or_404, visible_agents
from coachapp.shadowing.forms import StartSessionForm
from coachapp.threads import service as threads
from coachapp.threads.service import may_write
from coachapp.unit_of_work import commits

bp = Blueprint("log", __name__)


@bp.get("/agents/<int:agent_id>")
@login_required
@commits
def agent(agent_id: int) -> Response:
    """An agent's log: ended sessions newest first, strengths first within each, with threads;
    htmx gets the filtered list alone."""
    person = agent_or_404(current_user, agent_id)
    _audit_other(person, "")
    log_filter = service.LogFilter.from_args(request.args)
    before = parse_id(request.args.get("before"))
    page = service.log_of(person, log_filter, before=before)
    sessions = page.sessions
    shown = [o for entry in sessions for o in entry.ordered]
    return render(
        "log/agent.html",
        # "Show older sessions" swaps in the next page alone; the filter, the whole list.
        "log/_log_page.html" if before is not None else "log/_log.html",
        person=person,
        sessions=sessions,
        more_before=page.more_before,
        older=before is not None,
        log_filter=log_filter,
        behaviours=service.filter_behaviours(person),
        threads=threads.threads_for(shown, current_user, clock.now()),
        can_write=bool(shown) and may_write(current_user, shown[0]),
        focus_items=[i for i in service.focus_items_of(person) if i.pending],
        today=clock.today(),
        start_form=StartSessionForm(formdata=None),
    )


@bp.get("/agents/<int:agent_id>/focus-items")
@login_required
@commits
def focus_items(agent_id: int) -> Response:
    """Each focus item with its history on the ladder, the next check, why it comes back, and
    the agent's self-check."""
    person = agent_or_404(current_user, agent_id)
    _audit_other(person, "focus")
    return render(
        "log/focus_items.html",
        "log/focus_items.html",
        person=person,
        items=service.focus_items_of(person),
        ladder=current_ladder(),
        today=clock.today(),
    )


@bp.get("/agents/<int:agent_id>/data")
@login_required
def my_data(agent_id: int) -> Response:
    """My data: export everything about me, and who opened my log."""
    agent = myself_or_404(current_user, agent_id)
    return render("log/my_data.html", "log/my_data.html", person=agent)


@bp.get("/agents/<int:agent_id>/data.json")
@login_required
@commits
def export_json(agent_id: int) -> Response:
    """Everything about me as one JSON document."""
    agent = myself_or_404(current_user, agent_id)
    audit.record("data.exported", actor=agent, subject=agent, details="json")
    return export.json_download(agent, now=clock.now())


@bp.get("/agents/<int:agent_id>/data.csv")
@login_required
@commits
def export_csv(agent_id: int) -> Response:
    """Everything about me as CSV: one row per field of each record."""
    agent = myself_or_404(current_user, agent_id)
    audit.record("data.exported", actor=agent, subject=agent, details="csv")
    return export.csv_download(agent, now=clock.now())


@bp.get("/people")
@login_required
@role_required("manager", "trainer")
def people() -> Response:
    """The agents this person may open, by team."""
    agents = db.session.scalars(
        visible_agents(current_user)
        .options(so.selectinload(User.team))
        .order_by(User.team_id, User.name)
    ).all()
    return render("log/people.html", "log/people.html", agents=agents)


@bp.app_context_processor
def focus_helpers() -> dict[str, object]:
    """What a focus item card needs to say why the item comes back."""
    return {"why_it_comes_back": _why}


def _why(item: FocusItem) -> list[str]:
    recorded = item.recorded
    return why_it_comes_back(
        item.state, current_ladder(), recorded[-1].outcome if recorded else None
    )


def _audit_other(person: User, part: str) -> None:
    # Principle 2: the agent can see who opened their log, and which part of it.
    if person.id != current_user.id:
        audit.record("log.viewed", actor=current_user, subject=person, details=part)

"""An agent's coaching log and the list of agents a person may open."""

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from coachapp import audit, clock
from coachapp.extensions import db
from coachapp.followups.service import current_ladder
from coachapp.htmx import render
from coachapp.models import FocusItem, Observation, ShadowSession, User, order_for_reading
from coachapp.roles import role_required
from coachapp.scope import agent_or_404, visible_agents
from coachapp.shadowing.forms import StartSessionForm
from coachapp.shadowing.service import count_by_kind

bp = Blueprint("log", __name__)


@bp.get("/agents/<int:agent_id>")
@login_required
def agent(agent_id: int) -> Response:
    """An agent's log: ended sessions newest first, strengths first within each."""
    person = agent_or_404(current_user, agent_id)
    if person.id != current_user.id:
        # Principle 2: the agent can see who opened their log.
        audit.record("log.viewed", actor=current_user, subject=person)
    sessions = db.session.scalars(
        sa.select(ShadowSession)
        .where(ShadowSession.agent_id == person.id, ShadowSession.ended_at.is_not(None))
        .options(
            so.selectinload(ShadowSession.observations).selectinload(Observation.behaviour),
            so.selectinload(ShadowSession.manager),
        )
        .order_by(ShadowSession.started_at.desc())
    ).all()
    focus_items = db.session.scalars(
        sa.select(FocusItem)
        .where(FocusItem.agent_id == person.id)
        .options(
            so.selectinload(FocusItem.followups),
            so.joinedload(FocusItem.behaviour),
            so.joinedload(FocusItem.opening_observation),
        )
        .order_by(FocusItem.status, FocusItem.opened_on.desc())
    ).all()
    entries = [
        (shadow, order_for_reading(shadow.observations), count_by_kind(shadow.observations))
        for shadow in sessions
    ]
    return render(
        "log/agent.html",
        "log/agent.html",
        person=person,
        entries=entries,
        focus_items=focus_items,
        ladder=current_ladder(),
        today=clock.today(),
        start_form=StartSessionForm(formdata=None),
    )


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

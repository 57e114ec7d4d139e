"""Who may see whom: one query per kind of ownership, and 404 for everything outside it."""

import sqlalchemy as sa
from flask import abort

from coachapp.extensions import db
from coachapp.models import Role, ShadowSession, User, manager_teams


def visible_agents(viewer: User) -> sa.Select[tuple[User]]:
    """The agents whose coaching records `viewer` may read."""
    query = sa.select(User).where(User.role == Role.AGENT)
    match viewer.role:
        case Role.AGENT:
            return query.where(User.id == viewer.id)
        case Role.MANAGER:
            managed = sa.select(manager_teams.c.team_id).where(
                manager_teams.c.manager_id == viewer.id
            )
            return query.where(User.team_id.in_(managed))
        case Role.TRAINER:
            return query
        case _:
            # Admins run the organisation's set-up; coaching records are not theirs to read.
            return query.where(sa.false())


def agent_or_404(viewer: User, agent_id: int) -> User:
    agent = db.session.scalar(visible_agents(viewer).where(User.id == agent_id))
    if agent is None:
        abort(404)
    return agent


def coachable_agent_or_404(manager: User, agent_id: int) -> User:
    """An active agent of the manager's teams, whom the manager may shadow."""
    if manager.role != Role.MANAGER:
        abort(404)
    agent = agent_or_404(manager, agent_id)
    if not agent.active:
        abort(404)
    return agent


def own_session_or_404(manager: User, session_id: int) -> ShadowSession:
    """A shadowing session the manager is running (or ran) with an agent still in their teams."""
    session = db.session.get(ShadowSession, session_id)
    if session is None or session.manager_id != manager.id:
        abort(404)
    agent_or_404(manager, session.agent_id)
    return session

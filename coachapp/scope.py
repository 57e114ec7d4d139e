"""Who may see whom: one query per kind of ownership, and 404 for everything outside it."""

import functools
import uuid

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm.attributes import set_committed_value

from coachapp.extensions import db
from coachapp.models import (
    FocusItem,
    FollowUp,
    Observation,
    Role,
    SelfCheck,
    ShadowSession,
    User,
    manager_teams,
)


def visible_agents(viewer: User) -> sa.Select[tuple[User]]:
    """The agents whose coaching records `viewer` may read."""
    return _visible_agents(viewer.role, viewer.id)


def _visible_agents(role: Role, viewer_id: object) -> sa.Select[tuple[User]]:
    """`visible_agents` for a role; `viewer_id` an id or a bind parameter standing for one."""
    query = sa.select(User).where(User.role == Role.AGENT)
    match role:
        case Role.AGENT:
            return query.where(User.id == viewer_id)
        case Role.MANAGER:
            managed = sa.select(manager_teams.c.team_id).where(
                manager_teams.c.manager_id == viewer_id
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


@functools.cache
def _coachable_followup_statement() -> sa.Select[tuple[User, FocusItem, FollowUp, SelfCheck]]:
    """Built once: every outcome a manager records runs it."""
    viewer_id = sa.bindparam("viewer_id")
    return (
        _visible_agents(Role.MANAGER, viewer_id)
        .where(User.active.is_(True))
        .add_columns(FocusItem, FollowUp, SelfCheck)
        .join(FocusItem, FocusItem.agent_id == User.id)
        .join(FollowUp, FollowUp.focus_item_id == FocusItem.id)
        .outerjoin(SelfCheck, SelfCheck.followup_id == FollowUp.id)
        .where(FollowUp.id == sa.bindparam("key"))
    )


def coachable_followup_or_404(manager: User, followup_id: int) -> FollowUp:
    """A check of an active agent of the manager's teams (the rule of coachable_agent_or_404),
    with its item, agent and the agent's self-check for it, in one statement."""
    if manager.role != Role.MANAGER:
        abort(404)
    row = db.session.execute(
        _coachable_followup_statement(), {"viewer_id": manager.id, "key": followup_id}
    ).first()
    if row is None:
        abort(404)
    agent, item, followup, self_check = row
    set_committed_value(item, "agent", agent)
    set_committed_value(followup, "focus_item", item)
    set_committed_value(followup, "self_check", self_check)
    return followup


def own_session_or_404(manager: User, session_id: int) -> ShadowSession:
    """A shadowing session the manager is running (or ran) with an agent still in their teams."""
    return _own_session_or_404(manager, "id", session_id)


@functools.cache
def _own_session_statement(role: Role, by: str) -> sa.Select[tuple[User, ShadowSession]]:
    """Built once per role and key (`id` or `client_uuid`): every save runs it."""
    viewer_id = sa.bindparam("viewer_id")
    return (
        _visible_agents(role, viewer_id)
        .add_columns(ShadowSession)
        .join(ShadowSession, ShadowSession.agent_id == User.id)
        .where(
            ShadowSession.manager_id == viewer_id,
            getattr(ShadowSession, by) == sa.bindparam("key"),
        )
    )


def own_open_session_where(
    manager_id: sa.BindParameter[int], by: str, key: sa.BindParameter[object]
) -> sa.Select[tuple[User]]:
    """The FROM and WHERE of the manager's open session by `id` or `client_uuid`, joined to its
    agent (`User`) under own_session_or_404's rule, for a statement that picks its own columns:
    a write into the session that checks it in the same statement."""
    return (
        _visible_agents(Role.MANAGER, manager_id)
        .join(ShadowSession, ShadowSession.agent_id == User.id)
        .where(
            ShadowSession.manager_id == manager_id,
            getattr(ShadowSession, by) == key,
            ShadowSession.ended_at.is_(None),
        )
    )


def _own_session_or_404(manager: User, by: str, key: object) -> ShadowSession:
    """The manager's session with its agent in one statement; 404 for a session of another
    manager, or with an agent no longer in the manager's teams."""
    row = db.session.execute(
        _own_session_statement(manager.role, by), {"viewer_id": manager.id, "key": key}
    ).first()
    if row is None:
        abort(404)
    agent, session = row
    # Held by the session object: the identity map keeps rows only while something refers to them.
    set_committed_value(session, "agent", agent)
    return session


def own_session_by_uuid_or_404(manager: User, client_uuid: uuid.UUID) -> ShadowSession:
    """The manager's session the phone named, with its agent, in one statement (as above)."""
    return _own_session_or_404(manager, "client_uuid", client_uuid)


def own_observation_by_uuid_or_404(author: User, client_uuid: uuid.UUID) -> Observation:
    """An entry the manager wrote, with its session and agent, in one statement, under the same
    rule as its session."""
    row = db.session.execute(
        visible_agents(author)
        .add_columns(ShadowSession, Observation)
        .join(ShadowSession, ShadowSession.agent_id == User.id)
        .join(Observation, Observation.session_id == ShadowSession.id)
        .where(
            ShadowSession.manager_id == author.id,
            Observation.author_id == author.id,
            Observation.client_uuid == client_uuid,
        )
    ).first()
    if row is None:
        abort(404)
    agent, session, observation = row
    set_committed_value(session, "agent", agent)
    set_committed_value(observation, "agent", agent)
    set_committed_value(observation, "session", session)
    return observation

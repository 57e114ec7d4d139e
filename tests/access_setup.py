"""Access-table rows of the first-run checklist, organisation settings and teams."""

import uuid
from datetime import UTC, datetime

from flask import url_for

from coachapp.extensions import db
from coachapp.models import Team, User
from tests.access import Ids, Route, only


def team_of_agent(ids: Ids) -> int:
    """Team A, where the access world's agent works."""
    agent = db.session.get(User, ids.agent)
    assert agent is not None and agent.team_id is not None
    return agent.team_id


def spare_team(*, archived: bool = False) -> int:
    """A team with nobody in it, so that archive and delete can go through."""
    team = Team(
        name=f"Spare {uuid.uuid4().hex[:8]}",
        archived_at=datetime.now(UTC) if archived else None,
    )
    db.session.add(team)
    db.session.commit()
    return team.id


def team_url(endpoint: str, team_id=team_of_agent):  # type: ignore[no-untyped-def]
    return lambda ids: url_for(endpoint, team_id=team_id(ids))


ADMIN_ONLY_GET = only({"admin": 200})
ADMIN_ONLY_POST = only({"admin": 303})

ROUTES: dict[str, Route] = {
    "setup.checklist_page": Route(
        "GET", lambda ids: url_for("setup.checklist_page"), ADMIN_ONLY_GET
    ),
    "setup.teams_page": Route("GET", lambda ids: url_for("setup.teams_page"), ADMIN_ONLY_GET),
    "setup.add_team": Route(
        "POST",
        lambda ids: url_for("setup.add_team"),
        ADMIN_ONLY_POST,
        lambda world: {"name": "Chat"},
    ),
    "setup.team_page": Route("GET", team_url("setup.team_page"), ADMIN_ONLY_GET),
    "setup.rename_team": Route(
        "POST", team_url("setup.rename_team"), ADMIN_ONLY_POST, lambda world: {"name": "Calls"}
    ),
    "setup.set_managers": Route(
        "POST",
        team_url("setup.set_managers"),
        ADMIN_ONLY_POST,
        lambda world: {"manager_ids": [str(world.manager_maria.id), str(world.manager_mo.id)]},
    ),
    "setup.move_agents": Route(
        "POST",
        team_url("setup.move_agents"),
        ADMIN_ONLY_POST,
        lambda world: {"agent_ids": [str(world.agent_alex.id)], "target_id": str(world.team_b.id)},
    ),
    "setup.archive_team": Route(
        "POST", team_url("setup.archive_team", lambda ids: spare_team()), ADMIN_ONLY_POST
    ),
    "setup.restore_team": Route(
        "POST",
        team_url("setup.restore_team", lambda ids: spare_team(archived=True)),
        ADMIN_ONLY_POST,
    ),
    "setup.delete_team": Route(
        "POST", team_url("setup.delete_team", lambda ids: spare_team()), ADMIN_ONLY_POST
    ),
}

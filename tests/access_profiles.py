"""Access-table rows of role profiles, the starter library and "My role".

Admins and trainers edit; managers read every profile; an agent reads only their own, on My role.
"""

import json

from flask import url_for

from coachapp.extensions import db
from coachapp.models import User
from tests.access import Ids, Route, only

READ = only({"admin": 200, "trainer": 200, "manager": 200, "other_manager": 200})
EDIT_GET = only({"admin": 200, "trainer": 200})
EDIT_POST = only({"admin": 303, "trainer": 303})


def profile_of_agent(ids: Ids) -> int:
    """The contact-centre profile the access world's agent is coached against."""
    agent = db.session.get(User, ids.agent)
    assert agent is not None and agent.role_profile_id is not None
    return agent.role_profile_id


def competency_of_agent(ids: Ids) -> int:
    agent = db.session.get(User, ids.agent)
    assert agent is not None and agent.role_profile is not None
    return agent.role_profile.competencies[0].id


def behaviour_of_agent(ids: Ids) -> int:
    agent = db.session.get(User, ids.agent)
    assert agent is not None and agent.role_profile is not None
    return agent.role_profile.competencies[0].behaviours[0].id


def profile_url(endpoint: str):  # type: ignore[no-untyped-def]
    return lambda ids: url_for(endpoint, profile_id=profile_of_agent(ids))


def competency_url(endpoint: str):  # type: ignore[no-untyped-def]
    return lambda ids: url_for(endpoint, competency_id=competency_of_agent(ids))


NIGHT_DESK = json.dumps(
    {
        "name": "Night desk",
        "competencies": [
            {
                "name": "Care",
                "kind": "attitude",
                "behaviours": [{"name": f"B{n}"} for n in range(3)],
            }
        ],
    }
)

ROUTES: dict[str, Route] = {
    "profiles.index": Route("GET", lambda ids: url_for("profiles.index"), READ),
    "profiles.show": Route("GET", profile_url("profiles.show"), READ),
    "profiles.my_role": Route("GET", lambda ids: url_for("profiles.my_role"), only({"agent": 200})),
    "profiles.export": Route("GET", profile_url("profiles.export"), EDIT_GET),
    "profiles.new": Route("GET", lambda ids: url_for("profiles.new"), EDIT_GET),
    "profiles.create": Route(
        "POST", lambda ids: url_for("profiles.create"), EDIT_POST, lambda w: {"name": "Chat agent"}
    ),
    "profiles.copy": Route(
        "POST", lambda ids: url_for("profiles.copy"), EDIT_POST, lambda w: {"starter": "front_desk"}
    ),
    "profiles.import_file": Route(
        "POST",
        lambda ids: url_for("profiles.import_file"),
        EDIT_POST,
        lambda w: {"json": NIGHT_DESK},
    ),
    "profiles.edit": Route("GET", profile_url("profiles.edit"), EDIT_GET),
    "profiles.update": Route(
        "POST",
        profile_url("profiles.update"),
        EDIT_POST,
        lambda w: {"name": "Phones agent", "description": "Answers the phone."},
    ),
    "profiles.add_competency": Route(
        "POST",
        profile_url("profiles.add_competency"),
        EDIT_POST,
        lambda w: {"name": "Systems", "kind": "knowledge"},
    ),
    "profiles.update_competency": Route(
        "POST",
        competency_url("profiles.update_competency"),
        EDIT_POST,
        lambda w: {"name": "Call handling", "kind": "skill"},
    ),
    "profiles.move_competency": Route(
        "POST",
        competency_url("profiles.move_competency"),
        EDIT_POST,
        lambda w: {"direction": "down"},
    ),
    "profiles.add_behaviour": Route(
        "POST",
        competency_url("profiles.add_behaviour"),
        EDIT_POST,
        lambda w: {"name": "Smiles while talking"},
    ),
    "profiles.update_behaviour": Route(
        "POST",
        lambda ids: url_for("profiles.update_behaviour", behaviour_id=behaviour_of_agent(ids)),
        EDIT_POST,
        lambda w: {"name": "Greets the customer by name", "example": "Hello Ms Costa."},
    ),
    "profiles.behaviour_action": Route(
        "POST",
        lambda ids: url_for(
            "profiles.behaviour_action", behaviour_id=behaviour_of_agent(ids), action="move"
        ),
        EDIT_POST,
        lambda w: {"direction": "down"},
    ),
}

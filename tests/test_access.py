"""Every route, every persona: who gets the page, who is sent to sign in, who meets a 404.

A new route without a row in ACCESS fails test_every_route_is_in_the_access_table.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import url_for
from flask.testing import FlaskClient

from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import ObservationKind
from tests.conftest import Auth, World, make_observation, make_session

PERSONAS = ["anonymous", "agent", "manager", "other_manager", "trainer", "admin"]
SIGN_IN = 302  # Flask-Login sends anonymous people to the sign-in page


@dataclass
class Ids:
    agent: int
    session: int
    observation: int
    followup: int


@dataclass
class Route:
    method: str
    url: Callable[[Ids], str]
    expected: dict[str, int]
    data: Callable[[World], dict[str, str]] = field(default=lambda world: {})


def everyone(status: int, **exceptions: int) -> dict[str, int]:
    return {persona: exceptions.get(persona, status) for persona in PERSONAS}


def only(persona_status: dict[str, int], anonymous: int = SIGN_IN) -> dict[str, int]:
    answers = everyone(404, anonymous=anonymous)
    answers.update(persona_status)
    return answers


def observation_data(world: World) -> dict[str, str]:
    return {
        "kind": "strength",
        "behaviour_id": str(world.behaviours[0].id),
        "client_uuid": str(uuid.uuid4()),
    }


ACCESS: dict[str, Route] = {
    "core.home": Route("GET", lambda ids: url_for("core.home"), everyone(302)),
    "core.healthz": Route("GET", lambda ids: url_for("core.healthz"), everyone(200)),
    "static": Route("GET", lambda ids: url_for("static", filename="css/app.css"), everyone(200)),
    "auth.signin": Route("GET", lambda ids: url_for("auth.signin"), everyone(302, anonymous=200)),
    # Demo sign-in does not exist unless demo mode is on.
    "auth.demo_signin": Route("POST", lambda ids: url_for("auth.demo_signin"), everyone(404)),
    "auth.signout": Route(
        "POST", lambda ids: url_for("auth.signout"), everyone(303, anonymous=302)
    ),
    "log.agent": Route(
        "GET",
        lambda ids: url_for("log.agent", agent_id=ids.agent),
        only({"agent": 200, "manager": 200, "trainer": 200}),
    ),
    "log.people": Route(
        "GET",
        lambda ids: url_for("log.people"),
        only({"manager": 200, "other_manager": 200, "trainer": 200}),
    ),
    "shadowing.today": Route(
        "GET", lambda ids: url_for("shadowing.today"), only({"manager": 200, "other_manager": 200})
    ),
    "shadowing.start": Route(
        "POST",
        lambda ids: url_for("shadowing.start", agent_id=ids.agent),
        only({"manager": 303}),
        lambda world: {"client_uuid": str(uuid.uuid4())},
    ),
    "shadowing.session": Route(
        "GET",
        lambda ids: url_for("shadowing.session", session_id=ids.session),
        only({"manager": 200}),
    ),
    "shadowing.add_observation": Route(
        "POST",
        lambda ids: url_for("shadowing.add_observation", session_id=ids.session),
        only({"manager": 303}),
        observation_data,
    ),
    "shadowing.edit_observation": Route(
        "GET",
        lambda ids: url_for("shadowing.edit_observation", observation_id=ids.observation),
        only({"manager": 200}),
    ),
    "shadowing.show_observation": Route(
        "GET",
        lambda ids: url_for("shadowing.show_observation", observation_id=ids.observation),
        only({"manager": 302}),
    ),
    "shadowing.update_observation": Route(
        "POST",
        lambda ids: url_for("shadowing.update_observation", observation_id=ids.observation),
        only({"manager": 303}),
        observation_data,
    ),
    "shadowing.remove_observation": Route(
        "POST",
        lambda ids: url_for("shadowing.remove_observation", observation_id=ids.observation),
        only({"manager": 303}),
    ),
    "shadowing.undo_observation": Route(
        "POST",
        lambda ids: url_for("shadowing.undo_observation", observation_id=ids.observation),
        only({"manager": 303}),
    ),
    "shadowing.end": Route(
        "POST", lambda ids: url_for("shadowing.end", session_id=ids.session), only({"manager": 303})
    ),
    "followups.check": Route(
        "GET",
        lambda ids: url_for("followups.check", followup_id=ids.followup),
        only({"manager": 200}),
    ),
    "followups.record": Route(
        "POST",
        lambda ids: url_for("followups.record", followup_id=ids.followup),
        only({"manager": 303}),
        lambda world: {"outcome": "no_chance", "client_uuid": str(uuid.uuid4())},
    ),
    "admin.settings": Route(
        "GET", lambda ids: url_for("admin.settings"), only({"admin": 200})
    ),
    "admin.save_settings": Route(
        "POST",
        lambda ids: url_for("admin.save_settings"),
        only({"admin": 303}),
        lambda world: {"gaps": "2, 5, 7, 14, 28, 56", "working_days": ["0", "1", "2", "3", "4"]},
    ),
    "core.service_worker": Route(
        "GET", lambda ids: url_for("core.service_worker"), everyone(200)
    ),
    "reminders.settings": Route(
        "GET",
        lambda ids: url_for("reminders.settings"),
        only({"manager": 200, "other_manager": 200}),
    ),
    "reminders.push_key": Route(
        "GET",
        lambda ids: url_for("reminders.push_key"),
        only({"manager": 200, "other_manager": 200}),
    ),
    # Form data is not a push subscription: a manager reaches the view and is told why (422).
    "reminders.subscribe": Route(
        "POST",
        lambda ids: url_for("reminders.subscribe"),
        only({"manager": 422, "other_manager": 422}),
    ),
    "reminders.unsubscribe": Route(
        "POST",
        lambda ids: url_for("reminders.unsubscribe"),
        only({"manager": 422, "other_manager": 422}),
    ),
    "reminders.create_calendar": Route(
        "POST",
        lambda ids: url_for("reminders.create_calendar"),
        only({"manager": 200, "other_manager": 200}),
    ),
    "reminders.delete_calendar": Route(
        "POST",
        lambda ids: url_for("reminders.delete_calendar"),
        only({"manager": 303, "other_manager": 303}),
    ),
    # No sign-in: the secret token is the key, and a token that opens nothing is a 404.
    "reminders.calendar_feed": Route(
        "GET", lambda ids: url_for("reminders.calendar_feed", token="not-a-token"), everyone(404)
    ),
    # --- passkeys and invitations (JSON ceremonies answer 401 to whom they cannot serve) ---
    "auth.invitation": Route(
        "GET", lambda ids: url_for("auth.invitation", token="not-a-token"), everyone(404)
    ),
    # An empty body asks to add a passkey for the signed-in person; anonymous needs an invitation.
    "auth.register_options": Route(
        "POST", lambda ids: url_for("auth.register_options"), everyone(200, anonymous=401)
    ),
    "auth.register_verify": Route(
        "POST", lambda ids: url_for("auth.register_verify"), everyone(400, anonymous=401)
    ),
    "auth.signin_options": Route("POST", lambda ids: url_for("auth.signin_options"), everyone(200)),
    # No challenge was asked for: refused as a bad request, whoever asks.
    "auth.signin_verify": Route("POST", lambda ids: url_for("auth.signin_verify"), everyone(400)),
    "auth.account_page": Route(
        "GET", lambda ids: url_for("auth.account_page"), everyone(200, anonymous=SIGN_IN)
    ),
    "auth.sign_out_others": Route(
        "POST", lambda ids: url_for("auth.sign_out_others"), everyone(303, anonymous=SIGN_IN)
    ),
    # Nobody in the access world has a passkey: another person's (or no) passkey is a 404.
    "auth.rename_passkey": Route(
        "POST",
        lambda ids: url_for("auth.rename_passkey", passkey_id=ids.agent),
        everyone(404, anonymous=SIGN_IN),
        lambda world: {"name": "Phone"},
    ),
    "auth.remove_passkey": Route(
        "POST",
        lambda ids: url_for("auth.remove_passkey", passkey_id=ids.agent),
        everyone(404, anonymous=SIGN_IN),
    ),
    "people.invitations_page": Route(
        "GET",
        lambda ids: url_for("people.invitations_page"),
        only({"admin": 200, "manager": 200, "other_manager": 200}),
    ),
    # An agent for team A: Maria's team, not Mo's.
    "people.create_invitation": Route(
        "POST",
        lambda ids: url_for("people.create_invitation"),
        only({"admin": 200, "manager": 200}),
        lambda world: {"name": "Nia Novak", "role": "agent", "team_id": str(world.team_a.id)},
    ),
    "people.revoke_invitation": Route(
        "POST",
        lambda ids: url_for("people.revoke_invitation", invitation_id=ids.agent),
        only({}),
    ),
    "people.index": Route("GET", lambda ids: url_for("people.index"), only({"admin": 200})),
    "people.person": Route(
        "GET", lambda ids: url_for("people.person", person_id=ids.agent), only({"admin": 200})
    ),
    "people.change_role": Route(
        "POST",
        lambda ids: url_for("people.change_role", person_id=ids.agent),
        only({"admin": 303}),
        lambda world: {"role": "agent", "team_id": str(world.team_b.id)},
    ),
    "people.deactivate": Route(
        "POST", lambda ids: url_for("people.deactivate", person_id=ids.agent), only({"admin": 303})
    ),
    "people.reactivate": Route(
        "POST", lambda ids: url_for("people.reactivate", person_id=ids.agent), only({"admin": 303})
    ),
    "people.reset_passkeys": Route(
        "POST",
        lambda ids: url_for("people.reset_passkeys", person_id=ids.agent),
        only({"admin": 200}),
    ),
    "people.audit_page": Route(
        "GET", lambda ids: url_for("people.audit_page"), only({"admin": 200})
    ),
}


def test_every_route_is_in_the_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ACCESS.keys() == set(), "add the new routes to ACCESS"
    assert ACCESS.keys() - endpoints == set(), "ACCESS names routes that no longer exist"


def persona_user(world: World, persona: str):  # type: ignore[no-untyped-def]
    return {
        "agent": world.agent_alex,
        "manager": world.manager_maria,
        "other_manager": world.manager_mo,
        "trainer": world.trainer_tara,
        "admin": world.admin_ada,
    }.get(persona)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", sorted(ACCESS))
def test_access(endpoint: str, persona: str, client: FlaskClient, auth: Auth, world: World):
    shadow = make_session(world.manager_maria, world.agent_alex)
    observation = make_observation(shadow, behaviour_id=world.behaviours[0].id)
    correction = make_observation(
        shadow, kind=ObservationKind.CORRECTION, behaviour_id=world.behaviours[1].id
    )
    item = apply_correction(correction, current_ladder())
    assert item is not None and item.pending is not None
    ids = Ids(
        agent=world.agent_alex.id,
        session=shadow.id,
        observation=observation.id,
        followup=item.pending.id,
    )
    user = persona_user(world, persona)
    if user is not None:
        auth.login(user)
    route = ACCESS[endpoint]
    response = client.open(route.url(ids), method=route.method, data=route.data(world))
    assert response.status_code == route.expected[persona], response.get_data(as_text=True)[:300]

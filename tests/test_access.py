"""Every route, every persona: who gets the page, who is sent to sign in, who meets a 404.

A new route without a row in ACCESS fails test_every_route_is_in_the_access_table.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import url_for
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import (
    CommentKind,
    FollowUp,
    Observation,
    ObservationKind,
    ShadowSession,
    SuggestionKind,
    User,
)
from coachapp.selfcheck import service as self_view
from coachapp.threads import service as threads
from coachapp.voice import service as voice
from tests.access import PERSONAS, SIGN_IN, Ids, Route, everyone, only
from tests.access_dashboard import ROUTES as DASHBOARD_ROUTES
from tests.access_i18n import ROUTES as I18N_ROUTES
from tests.access_ops import ROUTES as OPS_ROUTES
from tests.access_people_import import ROUTES as PEOPLE_IMPORT_ROUTES
from tests.access_profiles import ROUTES as PROFILE_ROUTES
from tests.access_sessions import ROUTES as SESSION_ROUTES
from tests.access_setup import ROUTES as SETUP_ROUTES
from tests.access_today import ROUTES as TODAY_ROUTES
from tests.conftest import Auth, World, make_observation, make_session


def observation_data(world: World) -> dict[str, str]:
    return {
        "kind": "strength",
        "behaviour_id": str(world.behaviours[0].id),
        "client_uuid": str(uuid.uuid4()),
    }


# --- records of the agent's side, made when a row's URL needs one ------------------------------


def shared_observation(ids: Ids) -> int:
    """An entry of an ended session with the agent: what the agent reads and answers."""
    shadow = db.session.get(ShadowSession, ids.session)
    assert shadow is not None
    ended = make_session(shadow.manager, shadow.agent, ended_at=datetime.now(UTC))
    return make_observation(ended).id


def agents_reply(ids: Ids) -> int:
    """A reply the agent wrote under a shared observation, not read by anyone yet."""
    observation = db.session.get(Observation, shared_observation(ids))
    assert observation is not None
    comment = threads.post(
        observation=observation,
        author=observation.agent,
        kind=CommentKind.REPLY,
        body="Thanks, noted.",
        client_uuid=uuid.uuid4(),
        now=datetime.now(UTC),
    )
    return comment.id


def focus_item(ids: Ids) -> int:
    followup = db.session.get(FollowUp, ids.followup)
    assert followup is not None
    return followup.focus_item_id


def self_assessment(ids: Ids) -> int:
    """Last January's self-assessment of the agent (this month's is still to fill in)."""
    agent = db.session.get(User, ids.agent)
    assert agent is not None
    entry = self_view.AssessmentInput(
        ratings={b.id: 3 for b in self_view.profile_behaviours(agent)},
        proud_of="Calm calls",
        want_to_improve="Closing",
        goal="Recap every call",
    )
    return self_view.submit_assessment(
        agent=agent, period="2026-01", entry=entry, now=datetime.now(UTC)
    ).id


def agents_suggestion(ids: Ids) -> int:
    agent = db.session.get(User, ids.agent)
    assert agent is not None
    return voice.raise_suggestion(
        author=agent,
        kind=SuggestionKind.OBSTACLE,
        text="The knowledge base search times out.",
        client_uuid=uuid.uuid4(),
        now=datetime.now(UTC),
    ).id


def message(kind: str = "reply") -> Callable[[World], dict[str, str]]:
    return lambda world: {
        "kind": kind,
        "body": "Could you say more?",
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
    "admin.settings": Route("GET", lambda ids: url_for("admin.settings"), only({"admin": 200})),
    "admin.save_settings": Route(
        "POST",
        lambda ids: url_for("admin.save_settings"),
        only({"admin": 303}),
        lambda world: {
            "name": "Northwind",
            "timezone": "Europe/Lisbon",
            "gaps": "2, 5, 7, 14, 28, 56",
            "working_days": ["0", "1", "2", "3", "4"],
        },
    ),
    "core.service_worker": Route("GET", lambda ids: url_for("core.service_worker"), everyone(200)),
    # --- installable and offline: the manifest and the offline page are for everyone ---
    "core.manifest": Route("GET", lambda ids: url_for("core.manifest"), everyone(200)),
    "core.offline": Route("GET", lambda ids: url_for("core.offline"), everyone(200)),
    "shadowing.shadow_agent": Route(
        "GET",
        lambda ids: url_for("shadowing.shadow_agent", agent_id=ids.agent),
        only({"manager": 200}),
    ),
    # The write API answers 401 (not a redirect) to the signed-out: the phone keeps its outbox.
    # Form data is not the JSON it wants: a manager reaches the view and is told why (422).
    "sync.openapi_document": Route(
        "GET", lambda ids: url_for("sync.openapi_document"), everyone(200)
    ),
    "sync.session_info": Route(
        "GET", lambda ids: url_for("sync.session_info"), everyone(200, anonymous=401)
    ),
    "sync.start_session": Route(
        "POST",
        lambda ids: url_for("sync.start_session"),
        only({"manager": 422, "other_manager": 422}, anonymous=401),
    ),
    "sync.add_observation": Route(
        "POST",
        lambda ids: url_for("sync.add_observation", session_uuid=uuid.uuid4()),
        only({"manager": 422, "other_manager": 422}, anonymous=401),
    ),
    # An entry the server does not hold, or that is another's, is a 404 (issue 11).
    "sync.change_observation": Route(
        "PUT",
        lambda ids: url_for("sync.change_observation", observation_uuid=uuid.uuid4()),
        only({}, anonymous=401),
    ),
    # The outbox counts a replayed removal's 404 as done.
    "sync.remove_observation": Route(
        "DELETE",
        lambda ids: url_for("sync.remove_observation", observation_uuid=uuid.uuid4()),
        only({}, anonymous=401),
    ),
    "sync.record_outcome": Route(
        "POST",
        lambda ids: url_for("sync.record_outcome", followup_id=ids.followup),
        only({"manager": 422, "other_manager": 422}, anonymous=401),
    ),
    "sync.end_session": Route(
        "POST",
        lambda ids: url_for("sync.end_session", session_uuid=uuid.uuid4()),
        only({"manager": 422, "other_manager": 422}, anonymous=401),
    ),
    # Anyone signed in may send a batch; each item then answers what its own write would (404
    # to a non-manager). Form data is no batch: 422.
    "sync.batch": Route("POST", lambda ids: url_for("sync.batch"), everyone(422, anonymous=401)),
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
    # --- the agent's side: their log, threads, self-checks, self-assessments, voice, data ---
    "log.focus_items": Route(
        "GET",
        lambda ids: url_for("log.focus_items", agent_id=ids.agent),
        only({"agent": 200, "manager": 200, "trainer": 200}),
    ),
    "log.my_data": Route(
        "GET", lambda ids: url_for("log.my_data", agent_id=ids.agent), only({"agent": 200})
    ),
    "log.export_json": Route(
        "GET", lambda ids: url_for("log.export_json", agent_id=ids.agent), only({"agent": 200})
    ),
    "log.export_csv": Route(
        "GET", lambda ids: url_for("log.export_csv", agent_id=ids.agent), only({"agent": 200})
    ),
    "threads.thread": Route(
        "GET",
        lambda ids: url_for("threads.thread", observation_id=shared_observation(ids)),
        only({"agent": 200, "manager": 200, "trainer": 200}),
    ),
    # Trainers read threads but write in none.
    "threads.post_comment": Route(
        "POST",
        lambda ids: url_for("threads.post_comment", observation_id=shared_observation(ids)),
        only({"agent": 303, "manager": 303}),
        message(),
    ),
    "threads.edit_comment": Route(
        "POST",
        lambda ids: url_for("threads.edit_comment", comment_id=agents_reply(ids)),
        only({"agent": 303}),
        lambda world: {"body": "Thanks, will do."},
    ),
    "threads.remove_comment": Route(
        "POST",
        lambda ids: url_for("threads.remove_comment", comment_id=agents_reply(ids)),
        only({"agent": 303}),
    ),
    "selfcheck.save_self_check": Route(
        "POST",
        lambda ids: url_for("selfcheck.save_self_check", item_id=focus_item(ids)),
        only({"agent": 303}),
        lambda world: {"rating": "partly", "note": "Most calls."},
    ),
    "selfcheck.assessments": Route(
        "GET",
        lambda ids: url_for("selfcheck.assessments", agent_id=ids.agent),
        only({"agent": 200, "manager": 200, "trainer": 200}),
    ),
    "selfcheck.new_assessment": Route(
        "GET",
        lambda ids: url_for("selfcheck.new_assessment", agent_id=ids.agent),
        only({"agent": 200}),
    ),
    "selfcheck.submit_assessment": Route(
        "POST",
        lambda ids: url_for("selfcheck.submit_assessment", agent_id=ids.agent),
        only({"agent": 303}),
        lambda world: {f"level-{b.id}": "2" for b in world.behaviours},
    ),
    "selfcheck.assessment": Route(
        "GET",
        lambda ids: url_for(
            "selfcheck.assessment", agent_id=ids.agent, assessment_id=self_assessment(ids)
        ),
        only({"agent": 200, "manager": 200, "trainer": 200}),
    ),
    "voice.index": Route(
        "GET",
        lambda ids: url_for("voice.index"),
        only({"agent": 200, "manager": 200, "other_manager": 200}),
    ),
    "voice.raise_suggestion": Route(
        "POST",
        lambda ids: url_for("voice.raise_suggestion"),
        only({"agent": 303, "manager": 303, "other_manager": 303}),
        lambda world: {"kind": "obstacle", "text": "Slow CRM", "client_uuid": str(uuid.uuid4())},
    ),
    # The author follows their own; trainers read them all; nobody else sees one.
    "voice.suggestion": Route(
        "GET",
        lambda ids: url_for("voice.suggestion", suggestion_id=agents_suggestion(ids)),
        only({"agent": 200, "trainer": 200}),
    ),
    "voice.change_status": Route(
        "POST",
        lambda ids: url_for("voice.change_status", suggestion_id=agents_suggestion(ids)),
        only({"trainer": 303}),
        lambda world: {"status": "acknowledged"},
    ),
    "voice.inbox": Route("GET", lambda ids: url_for("voice.inbox"), only({"trainer": 200})),
    **SETUP_ROUTES,
    **PROFILE_ROUTES,
    **PEOPLE_IMPORT_ROUTES,
    **DASHBOARD_ROUTES,
    **I18N_ROUTES,
    **OPS_ROUTES,
    **SESSION_ROUTES,
    **TODAY_ROUTES,
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

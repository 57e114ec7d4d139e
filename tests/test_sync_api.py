"""The JSON write API the phone's outbox replays: idempotent on the phone's UUIDs, the author from
the session, the phone's clock kept and checked, refusals in words, and no 500 whatever comes in."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import FollowUp, Observation, ObservationKind, ShadowSession
from coachapp.sync import openapi
from tests.conftest import Auth, FrozenClock, World, make_observation, make_session

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def call(
    client: FlaskClient, method: str, url: str, body: Any = None, **kwargs: Any
) -> TestResponse:
    return client.open(url, method=method, json=body, **kwargs)


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def maria(client: FlaskClient, auth: Auth, world: World, frozen_clock: FrozenClock):
    """Maria signed in on her phone, the clock frozen at Monday 2 March 2026, 10:00 UTC."""
    auth.login(world.manager_maria)
    return world.manager_maria


def start(client: FlaskClient, world: World, **body: Any) -> TestResponse:
    payload = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id, **body}
    return call(client, "POST", "/api/sessions", payload)


def entry(**overrides: Any) -> dict[str, Any]:
    return {
        "client_uuid": str(uuid.uuid4()),
        "kind": "strength",
        "note": "Warm welcome.",
        **overrides,
    }


def observations_url(session_uuid: str) -> str:
    return f"/api/sessions/{session_uuid}/observations"


@pytest.fixture
def session_uuid(client: FlaskClient, maria, world: World) -> str:
    """A session Maria started from the phone with Alex at 9:00."""
    answer = start(client, world, started_at="2026-03-02T09:00:00Z")
    assert answer.status_code == 201
    return answer.json["session"]["client_uuid"]


# --- starting -----------------------------------------------------------------------------


def test_a_replayed_start_answers_the_same_session(client: FlaskClient, maria, world: World):
    body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
    first = call(client, "POST", "/api/sessions", body)
    again = call(client, "POST", "/api/sessions", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert count(ShadowSession) == 1


def test_a_start_keeps_the_phones_time(client: FlaskClient, maria, world: World):
    answer = start(client, world, started_at="2026-03-02T08:15:00+01:00")
    assert answer.json["session"]["started_at"] == "2026-03-02T07:15:00+00:00"


def test_a_start_while_one_is_open_answers_the_open_one(client: FlaskClient, maria, world: World):
    """Started offline while a session with the agent was still open: the phone is told which
    session its later entries belong to."""
    shadow = make_session(world.manager_maria, world.agent_alex)
    answer = start(client, world)
    assert answer.status_code == 200
    assert answer.json["session"]["client_uuid"] == str(shadow.client_uuid)
    assert count(ShadowSession) == 1


def test_a_start_dated_far_in_the_future_is_refused(client: FlaskClient, maria, world: World):
    answer = start(client, world, started_at=(NOW + timedelta(hours=2)).isoformat())
    assert answer.status_code == 422
    assert answer.json["field"] == "started_at"
    assert "future" in answer.json["error"]
    assert count(ShadowSession) == 0


def test_nobody_starts_a_session_for_another_team(client: FlaskClient, maria, world: World):
    answer = call(
        client,
        "POST",
        "/api/sessions",
        {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_bo.id},
    )
    assert answer.status_code == 404
    assert answer.json["error"]
    assert count(ShadowSession) == 0


# --- entries ------------------------------------------------------------------------------


def test_a_replayed_entry_is_stored_once(client: FlaskClient, session_uuid: str):
    body = entry()
    first = call(client, "POST", observations_url(session_uuid), body)
    again = call(client, "POST", observations_url(session_uuid), body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert count(Observation) == 1


def test_an_entry_keeps_the_phones_time_beside_the_servers(client: FlaskClient, session_uuid: str):
    answer = call(
        client, "POST", observations_url(session_uuid), entry(occurred_at="2026-03-02T09:41:00Z")
    )
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.occurred_at, stored.recorded_at) == (
        datetime(2026, 3, 2, 9, 41, tzinfo=UTC),
        NOW,
    )
    assert answer.json["observation"]["occurred_at"] == "2026-03-02T09:41:00+00:00"


def test_an_entry_dated_far_in_the_future_is_refused_in_words(
    client: FlaskClient, session_uuid: str
):
    later = (NOW + timedelta(days=1)).isoformat()
    answer = call(client, "POST", observations_url(session_uuid), entry(occurred_at=later))
    assert answer.status_code == 422
    assert answer.json == {
        "error": "This entry is dated in the future; check the phone's clock.",
        "field": "occurred_at",
    }
    assert count(Observation) == 0


def test_the_author_is_whoever_is_signed_in(client: FlaskClient, session_uuid: str, world: World):
    body = entry(author_id=world.manager_mo.id, agent_id=world.agent_bo.id)
    assert call(client, "POST", observations_url(session_uuid), body).status_code == 201
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.author_id, stored.agent_id) == (world.manager_maria.id, world.agent_alex.id)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "obstacle", "note": ""}, "note", "Say in a few words what gets in the way."),
        ({"kind": "strength", "note": ""}, "note", "Tap a behaviour or write a note."),
        ({"kind": "praise"}, "kind", "Not a valid choice."),
        ({"kind": "strength", "note": "x" * 4001}, "note", "Keep this under 4000 characters."),
        ({"kind": "strength", "note": 7}, "note", "note has the wrong type."),
        ({"client_uuid": "not-a-uuid"}, "client_uuid", "client_uuid is not a UUID."),
        ({"note": "nul\x00"}, "note", "note holds a character that cannot be stored."),
    ],
)
def test_a_refused_entry_says_why(
    client: FlaskClient, session_uuid: str, body: dict[str, Any], field: str, message: str
):
    answer = call(client, "POST", observations_url(session_uuid), {**entry(), **body})
    assert answer.status_code == 422
    assert (answer.json["field"], answer.json["error"]) == (field, message)


def test_a_behaviour_of_another_profile_is_refused(
    client: FlaskClient, session_uuid: str, world: World
):
    body = entry(behaviour_id=world.foreign_behaviour.id, note="")
    answer = call(client, "POST", observations_url(session_uuid), body)
    assert answer.status_code == 422
    assert answer.json["error"] == "Choose one of this agent's behaviours."


def test_an_entry_for_a_session_the_server_never_saw_is_a_404(client: FlaskClient, maria):
    answer = call(client, "POST", observations_url(str(uuid.uuid4())), entry())
    assert answer.status_code == 404


def test_another_managers_session_takes_nothing_and_answers_as_a_made_up_one(
    client: FlaskClient, auth: Auth, session_uuid: str, world: World
):
    auth.login(world.manager_mo)
    answer = call(client, "POST", observations_url(session_uuid), entry())
    made_up = call(client, "POST", observations_url(str(uuid.uuid4())), entry())
    assert (answer.status_code, answer.json) == (made_up.status_code, made_up.json)
    assert answer.status_code == 404
    assert count(Observation) == 0


def test_an_entry_after_the_end_is_refused_but_its_replay_is_not(
    client: FlaskClient, session_uuid: str
):
    saved = entry()
    call(client, "POST", observations_url(session_uuid), saved)
    call(client, "POST", f"/api/sessions/{session_uuid}/end", {})
    assert call(client, "POST", observations_url(session_uuid), saved).status_code == 200
    late = call(client, "POST", observations_url(session_uuid), entry())
    assert late.status_code == 409
    assert late.json["error"] == "This shadowing session has already ended."


def test_a_change_replayed_after_the_end_is_not_an_error(client: FlaskClient, session_uuid: str):
    saved = entry()
    call(client, "POST", observations_url(session_uuid), saved)
    change = {"kind": "obstacle", "note": "The CRM froze."}
    url = f"/api/observations/{saved['client_uuid']}"
    assert call(client, "PUT", url, change).status_code == 200
    assert call(client, "PUT", url, change).status_code == 200
    call(client, "POST", f"/api/sessions/{session_uuid}/end", {})
    assert call(client, "PUT", url, change).status_code == 200
    different = call(client, "PUT", url, {"kind": "strength", "note": "Other words."})
    assert different.status_code == 409
    stored = db.session.scalars(sa.select(Observation)).one()
    assert (stored.kind, stored.note) == (ObservationKind.OBSTACLE, "The CRM froze.")


def test_a_replayed_removal_meets_the_404_of_an_entry_never_made(
    client: FlaskClient, session_uuid: str
):
    """The outbox counts a removal's 404 as done: the entry is gone either way."""
    saved = entry()
    call(client, "POST", observations_url(session_uuid), saved)
    url = f"/api/observations/{saved['client_uuid']}"
    first = call(client, "DELETE", url)
    again = call(client, "DELETE", url)
    made_up = call(client, "DELETE", f"/api/observations/{uuid.uuid4()}")
    assert first.status_code == 200
    assert first.json == {"removed": True, "client_uuid": saved["client_uuid"]}
    assert (again.status_code, again.json) == (made_up.status_code, made_up.json)
    assert again.status_code == 404
    assert count(Observation) == 0


def test_a_change_to_a_removed_entry_is_a_404(client: FlaskClient, maria):
    answer = call(
        client, "PUT", f"/api/observations/{uuid.uuid4()}", {"kind": "strength", "note": "x"}
    )
    assert answer.status_code == 404


# --- ending -------------------------------------------------------------------------------


def test_a_replayed_end_keeps_the_first_end(client: FlaskClient, session_uuid: str):
    call(client, "POST", f"/api/sessions/{session_uuid}/observations", entry())
    url = f"/api/sessions/{session_uuid}/end"
    first = call(
        client, "POST", url, {"summary_note": "Good shift.", "ended_at": "2026-03-02T09:50:00Z"}
    )
    again = call(client, "POST", url, {"summary_note": "Other words."})
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json == again.json
    shadow = db.session.scalars(sa.select(ShadowSession)).one()
    assert (shadow.summary_note, shadow.ended_at) == (
        "Good shift.",
        datetime(2026, 3, 2, 9, 50, tzinfo=UTC),
    )


def test_an_end_before_the_start_by_the_phones_clock_ends_at_the_start(
    client: FlaskClient, maria, world: World
):
    session_uuid = start(client, world, started_at="2026-03-02T09:00:00Z").json["session"][
        "client_uuid"
    ]
    call(client, "POST", f"/api/sessions/{session_uuid}/observations", entry())
    call(client, "POST", f"/api/sessions/{session_uuid}/end", {"ended_at": "2026-03-02T08:00:00Z"})
    shadow = db.session.scalars(sa.select(ShadowSession)).one()
    assert shadow.ended_at == shadow.started_at


# --- re-observations ----------------------------------------------------------------------


@pytest.fixture
def pending_check(world: World, frozen_clock: FrozenClock) -> FollowUp:
    """Alex's check on "Confirms next steps", opened by a correction four days ago."""
    shadow = make_session(world.manager_maria, world.agent_alex, started_at=NOW - timedelta(days=4))
    correction = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[1].id,
        occurred_at=NOW - timedelta(days=4),
    )
    item = apply_correction(correction, current_ladder())
    assert item is not None and item.pending is not None
    return item.pending


def outcome(**overrides: Any) -> dict[str, Any]:
    return {"client_uuid": str(uuid.uuid4()), "outcome": "sustained", **overrides}


def test_a_replayed_outcome_is_recorded_once(client: FlaskClient, maria, pending_check: FollowUp):
    url = f"/api/followups/{pending_check.id}/outcome"
    body = outcome(occurred_at="2026-03-02T09:30:00Z")
    first = call(client, "POST", url, body)
    again = call(client, "POST", url, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json == again.json
    assert first.json["followup"]["outcome"] == "sustained"
    assert first.json["followup"]["next_due_on"] == "2026-03-09"
    recorded = db.session.scalars(sa.select(FollowUp).where(FollowUp.outcome.is_not(None))).all()
    assert [f.client_uuid for f in recorded] == [uuid.UUID(body["client_uuid"])]


def test_a_second_outcome_for_the_same_check_is_refused(
    client: FlaskClient, maria, pending_check: FollowUp
):
    url = f"/api/followups/{pending_check.id}/outcome"
    call(client, "POST", url, outcome())
    answer = call(client, "POST", url, outcome(outcome="partly"))
    assert answer.status_code == 409
    assert answer.json["error"].startswith("This check was already recorded.")


def test_checks_saved_offline_apply_in_the_order_they_happened(
    client: FlaskClient, maria, pending_check: FollowUp
):
    """The check recorded on Monday is followed by one the phone dated Saturday: refused."""
    call(client, "POST", f"/api/followups/{pending_check.id}/outcome", outcome(outcome="partly"))
    db.session.expire_all()
    following = pending_check.focus_item.pending
    assert following is not None
    answer = call(
        client,
        "POST",
        f"/api/followups/{following.id}/outcome",
        outcome(occurred_at="2026-02-28T12:00:00Z"),
    )
    assert answer.status_code == 422
    assert "before the last recorded check" in answer.json["error"]
    assert following.outcome is None


def test_an_outcome_dated_far_in_the_future_is_refused(
    client: FlaskClient, maria, pending_check: FollowUp
):
    later = (NOW + timedelta(days=2)).isoformat()
    url = f"/api/followups/{pending_check.id}/outcome"
    answer = call(client, "POST", url, outcome(occurred_at=later))
    assert answer.status_code == 422
    assert answer.json["field"] == "occurred_at"


def test_an_outcome_for_a_check_outside_my_teams_is_404(
    client: FlaskClient, auth: Auth, world: World, pending_check: FollowUp
):
    auth.login(world.manager_mo)
    answer = call(client, "POST", f"/api/followups/{pending_check.id}/outcome", outcome())
    assert answer.status_code == 404
    assert pending_check.outcome is None


# --- who may call, and with what token ----------------------------------------------------


def test_the_signed_out_get_401_in_json(client: FlaskClient, world: World):
    for method, url in [
        ("GET", "/api/session"),
        ("POST", "/api/sessions"),
        ("DELETE", f"/api/observations/{uuid.uuid4()}"),
    ]:
        answer = call(client, method, url, {})
        assert answer.status_code == 401
        assert answer.json["code"] == "signin"
        assert "Sign in again" in answer.json["error"]


def test_the_session_call_names_the_person_and_gives_a_token(
    client: FlaskClient, auth: Auth, world: World
):
    auth.login(world.manager_maria)
    maria_tag = client.get("/api/session").json["user"]
    auth.login(world.manager_mo)
    mo = client.get("/api/session").json
    assert re.fullmatch(r"[0-9a-f]{24}", maria_tag)
    assert mo["user"] != maria_tag and mo["csrf_token"]
    assert client.get("/today").headers["X-Coachapp-User"] == mo["user"]


@pytest.fixture
def csrf_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)


def test_a_write_without_the_token_is_refused_as_such(
    client: FlaskClient, maria, world: World, csrf_on: None
):
    body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
    for headers in ({}, {"X-CSRFToken": "forged"}):
        answer = call(client, "POST", "/api/sessions", body, headers=headers)
        assert answer.status_code == 403
        assert answer.json["code"] == "csrf"
    token = client.get("/api/session").json["csrf_token"]
    accepted = call(client, "POST", "/api/sessions", body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_a_token_taken_long_ago_still_works(
    client: FlaskClient, maria, world: World, csrf_on: None, frozen_clock: FrozenClock
):
    """An outbox replayed after a long time offline: the token lives as long as the session."""
    token = client.get("/api/session").json["csrf_token"]
    frozen_clock.advance(hours=10)
    body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
    assert (
        call(client, "POST", "/api/sessions", body, headers={"X-CSRFToken": token}).status_code
        == 201
    )


def test_a_write_from_another_site_is_refused(client: FlaskClient, maria, world: World):
    body = {"client_uuid": str(uuid.uuid4()), "agent_id": world.agent_alex.id}
    answer = call(client, "POST", "/api/sessions", body, headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403
    assert count(ShadowSession) == 0


# --- the OpenAPI document -----------------------------------------------------------------


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_openapi_document_describes_every_write(app: Flask, client: FlaskClient):
    document = client.get("/api/openapi.json").json
    assert document["openapi"] == "3.1.0"
    described = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    served = {
        (method, re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("sync.") and rule.endpoint != "sync.openapi_document"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == served
    for ref in refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        assert node, ref


# --- fuzzing: whatever arrives, an answer and never a 500 ----------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3)
    ),
    max_leaves=8,
)
field_values = st.one_of(
    json_values,
    st.uuids().map(str),
    st.sampled_from(["strength", "correction", "obstacle", "sustained", "slipped", "no_chance"]),
    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.sampled_from(
        ["2026-03-02T10:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
    ),
    st.integers(min_value=-1, max_value=2**64),
)
FIELDS = [
    "client_uuid",
    "agent_id",
    "started_at",
    "kind",
    "behaviour_id",
    "note",
    "coached",
    "occurred_at",
    "outcome",
    "summary_note",
    "ended_at",
]
bodies = st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=8))
WRITES = [
    ("POST", "/api/sessions"),
    ("POST", "/api/sessions/{session}/observations"),
    ("PUT", "/api/observations/{observation}"),
    ("DELETE", "/api/observations/{observation}"),
    ("POST", "/api/followups/{followup}/outcome"),
    ("POST", "/api/sessions/{session}/end"),
]


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(write=st.sampled_from(WRITES), body=bodies, fresh_ids=st.booleans())
def test_the_write_api_never_answers_500(
    client: FlaskClient, maria, world: World, pending_check: FollowUp, write, body, fresh_ids: bool
):
    shadow = db.session.scalars(
        sa.select(ShadowSession).where(ShadowSession.ended_at.is_(None)).limit(1)
    ).first() or make_session(world.manager_maria, world.agent_alex)
    observation = db.session.scalars(sa.select(Observation).limit(1)).first()
    method, template = write
    url = template.format(
        session=uuid.uuid4() if fresh_ids else shadow.client_uuid,
        observation=uuid.uuid4() if fresh_ids or observation is None else observation.client_uuid,
        followup=pending_check.id,
    )
    answer = call(client, method, url, body)
    assert answer.status_code < 500, (method, url, body, answer.get_data(as_text=True)[:300])
    assert answer.is_json
    db.session.rollback()


def test_openapi_schemas_name_the_fields_the_fuzzer_sends():
    named = {field for schema in openapi.SCHEMAS.values() for field in schema.get("properties", {})}
    assert set(FIELDS) <= named


def test_phone_dates_that_have_no_utc_form_are_refused(client: FlaskClient, session_uuid: str):
    for when in ["0001-01-01T00:00:00+14:00", "1999-12-31T23:00:00Z", "yesterday"]:
        answer = call(client, "POST", observations_url(session_uuid), entry(occurred_at=when))
        assert answer.status_code == 422, when
    assert date(2026, 3, 2) == NOW.date()

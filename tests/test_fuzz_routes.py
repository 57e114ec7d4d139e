"""Property-based: every registered route that takes input, for every persona, fed what an
attacker or a clumsy user sends (hostile ids, numbers, dates, text and JSON), never answers 5xx
and stores nothing when it refuses.

Bounded and derandomized so that CI sees the same examples every run; the named regressions of
each cause found so far are in test_hostile_input.py.
"""

import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import ObservationKind
from tests.access import PERSONAS
from tests.conftest import Auth, World, make_observation, make_session

EXAMPLES_PER_PERSONA = 100
#: Tables a refusal may still write to: the audit log (refusals are audited) and sign-in state.
MAY_CHANGE_ON_REFUSAL = {"audit_event", "login_session", "webauthn_challenge", "challenge"}
SKIPPED = {"static", "auth.signout"}  # signing out would end the persona's visit

HOSTILE = [
    " 1",
    "1\u2028",
    "\u00b2",
    "\u0661",
    "9" * 20,
    "9" * 5000,
    "-1",
    "0",
    "2147483648",
    "1.5",
    "a\x00b",
    "\x07",
    "9999-12-31",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2026-02-30",
    "x" * 3000,
    "<script>alert(1)</script>",
    "",
]
FIELDS = [
    "action",
    "agent_id",
    "agent_ids",
    "behaviour",
    "behaviour_id",
    "body",
    "client_uuid",
    "coached",
    "competency_id",
    "credential",
    "csv",
    "direction",
    "email",
    "end",
    "endpoint",
    "figure",
    "focus_item_id",
    "followup_id",
    "gaps",
    "goal",
    "invitation",
    "json",
    "kind",
    "level",
    "managed_team_ids",
    "manager_ids",
    "name",
    "note",
    "occurred_at",
    "outcome",
    "page",
    "period",
    "person",
    "proud_of",
    "q",
    "rating",
    "remove_existing",
    "replace",
    "role",
    "role_profile_id",
    "start",
    "starter",
    "status",
    "summary_note",
    "target_id",
    "team",
    "team_id",
    "text",
    "timezone",
    "trained_on",
    "user_id",
    "want_to_improve",
    "working_days",
    "worklist",
]

text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20))
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS), inner),
    max_leaves=8,
)
json_body = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_value, max_size=6).map(lambda d: d),
    json_value,
)
RAW_JSON = ["[" * 1000 + "]" * 1000, '{"a":' * 900 + "1" + "}" * 900, '{"note": "\\ud800"}', "{"]


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


PLACEHOLDER = re.compile(r"<(?:([a-z]+)(\([^)]*\))?:)?([a-z_]+)>")


def _path(rule: str, own: dict[str, int | str], pick) -> str:  # type: ignore[no-untyped-def]
    def fill(match: re.Match[str]) -> str:
        converter, args, name = match.group(1) or "default", match.group(2) or "", match.group(3)
        if converter == "any":
            return pick(st.sampled_from(re.findall(r"[a-z]+", args)))
        if converter == "uuid":
            return str(pick(st.sampled_from([own["session_uuid"], own["observation_uuid"]])))
        if converter == "int":
            real = own.get(name, own["agent_id"])
            return quote(str(pick(st.sampled_from([real, real, "0", "9" * 20, "\u00b2"]))), safe="")
        return quote(pick(text) or "x", safe="")

    return PLACEHOLDER.sub(fill, rule)


def _counts() -> dict[str, int]:
    """The rows of every table that a refusal must leave alone, read in one statement."""
    tables = [t for t in db.metadata.sorted_tables if t.name not in MAY_CHANGE_ON_REFUSAL]
    counts = sa.select(
        *(
            sa.select(sa.func.count()).select_from(table).scalar_subquery().label(table.name)
            for table in tables
        )
    )
    with db.engine.connect() as connection:
        return dict(connection.execute(counts).one()._mapping)


@pytest.fixture
def own(world: World) -> dict[str, int | str]:
    shadow = make_session(world.manager_maria, world.agent_alex)
    observation = make_observation(shadow, behaviour_id=world.behaviours[0].id)
    correction = make_observation(
        shadow, kind=ObservationKind.CORRECTION, behaviour_id=world.behaviours[1].id
    )
    item = apply_correction(correction, current_ladder())
    db.session.commit()
    assert item is not None and item.pending is not None
    return {
        "agent_id": world.agent_alex.id,
        "session_id": shadow.id,
        "observation_id": observation.id,
        "followup_id": item.pending.id,
        "item_id": item.id,
        "team_id": world.team_a.id,
        "person_id": world.agent_alex.id,
        "profile_id": world.profile.id,
        "behaviour_id": world.behaviours[0].id,
        "competency_id": world.profile.competencies[0].id,
        "session_uuid": str(shadow.client_uuid),
        "observation_uuid": str(observation.client_uuid),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_input_to_any_route_gets_a_server_error(
    persona: str, app: Flask, client: FlaskClient, auth: Auth, world: World, own
):
    user = {
        "anonymous": None,
        "manager": world.manager_maria,
        "other_manager": world.manager_mo,
        "agent": world.agent_alex,
        "admin": world.admin_ada,
        "trainer": world.trainer_tara,
    }[persona]
    routes = _routes(app)

    @settings(
        max_examples=EXAMPLES_PER_PERSONA,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        endpoint, method, rule = data.draw(st.sampled_from(routes), label="route")
        if user is None:
            auth.logout()
        else:
            auth.login(user)
        url = _path(rule, own, data.draw)
        shape = data.draw(st.sampled_from(["form", "query", "json", "raw"]), label="shape")
        kwargs: dict[str, object] = {}
        if shape == "form":
            kwargs["data"] = data.draw(st.dictionaries(st.sampled_from(FIELDS), text), label="form")
        elif shape == "query":
            kwargs["query_string"] = data.draw(
                st.dictionaries(st.sampled_from(FIELDS), text), label="query"
            )
        elif shape == "json":
            kwargs["json"] = data.draw(json_body, label="json")
        else:
            kwargs["data"] = data.draw(st.sampled_from(RAW_JSON), label="raw")
            kwargs["content_type"] = "application/json"
        before = _counts()
        answer = client.open(url, method=method, **kwargs)
        assert answer.status_code < 500, (endpoint, method, url[:200], kwargs)
        if answer.status_code >= 400:
            db.session.rollback()
            assert _counts() == before, f"{endpoint} stored something on a {answer.status_code}"

    check()


def test_the_route_list_covers_every_input_taking_route(app: Flask):
    endpoints = {endpoint for endpoint, _method, _rule in _routes(app)}
    every = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == every - SKIPPED

"""Schemathesis, in process, over /api/openapi.json: positive and negative cases for every
operation, signed in as a manager; no 5xx, and data that breaks the schema is refused."""

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Auth, World, make_session

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: E402

EXAMPLES = 60


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema_under_fuzzing(
    mode: GenerationMode,
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
):
    make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    # The token check is on, as in production: a case that leaves the token out to break the
    # schema must meet the 403; one that sends a token sends the real one.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = client.get("/api/session").json["csrf_token"]
    cookie = client.get_cookie("session")
    assert cookie is not None
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    checks = [not_a_server_error] + ([negative_data_rejection] if mode.is_negative else [])

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(schema.as_strategy(generation_mode=mode))
        # The generated session cookie is replaced by Maria's; a case that leaves it out to
        # break the schema goes without one (and must meet the 401).
        if (case.cookies or {}).get("session"):
            case.cookies["session"] = cookie.value
        if "X-CSRFToken" in (case.headers or {}):
            case.headers["X-CSRFToken"] = token
        response = case.call()
        assert response.status_code < 500, (case.method, case.path)
        case.validate_response(response, checks=checks)

    check()

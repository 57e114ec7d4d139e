"""Named regressions for each cause of a server error the fuzzing run found, kind by kind.

Each test sends what a clumsy user or an attacker sent and checks the answer is a refusal in
words (or a 404 for an id in the path) with nothing stored: never a 500.
"""

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from flask import url_for

from coachapp import parsing
from coachapp.bodies import without_controls
from coachapp.extensions import db
from coachapp.models import AuditEvent, Invitation, Observation, SelfAssessment
from tests.conftest import make_observation, make_session

NOT_DIGITS = [" 1", "1 ", "1\u2028", "\u00b2", "\u0661", "9" * 5000, "9" * 20, "-1", "1.5", "0x1"]


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# --- the parsers themselves --------------------------------------------------------------------


@pytest.mark.parametrize("raw", NOT_DIGITS + ["", "0", "2147483648", None, True, 2**31])
def test_parse_id_refuses_what_int_would_accept_or_the_database_cannot_hold(raw):
    assert parsing.parse_id(raw) is None


def test_parse_id_accepts_plain_ascii_digits_up_to_the_integer_column():
    assert parsing.parse_id("1") == 1
    assert parsing.parse_id("2147483647") == 2**31 - 1
    assert parsing.parse_id(7) == 7


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+14:00",  # year 1 ahead of UTC has no UTC form
        "0001-01-01T00:00:00Z",  # year 1 would not show west of UTC
        "9999-12-31T23:59:59-12:00",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "2026-03-02T10:00:00",  # no offset
        "2026-03-02T10:00:00+99:00",
        "\u0662026-03-02T10:00:00Z",
        "x" * 5000,
    ],
)
def test_parse_moment_keeps_to_the_supported_years_after_the_shift_to_utc(raw):
    assert parsing.parse_moment(raw) is None


@pytest.mark.parametrize(
    "raw", ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "²026-01-01"]
)
def test_parse_date_keeps_to_the_supported_years(raw):
    assert parsing.parse_date(raw) is None
    assert parsing.parse_date("2100-12-31") == date(2100, 12, 31)


# --- ids in the path ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["9" * 20, "9" * 5000, "2147483648"])
def test_an_id_in_the_path_too_big_for_the_database_is_a_404(raw, client, auth, world):
    auth.login(world.manager_maria)
    assert client.get(f"/agents/{raw}").status_code == 404
    assert client.post(f"/sessions/{raw}/end").status_code == 404
    assert client.post(f"/api/followups/{raw}/outcome", json={}).status_code == 404


# --- ids and numbers in forms and query strings ------------------------------------------------


@pytest.mark.parametrize("raw", NOT_DIGITS)
def test_a_behaviour_that_is_not_an_id_is_refused_by_the_entry_form(raw, client, auth, world):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    before = count(Observation)
    answer = client.post(
        url_for("shadowing.add_observation", session_id=shadow.id),
        data={"kind": "strength", "behaviour_id": raw, "client_uuid": str(uuid.uuid4())},
    )
    assert answer.status_code == 422
    assert "Choose one of this agent" in answer.get_data(as_text=True)
    assert count(Observation) == before


@pytest.mark.parametrize("raw", ["\u00b2", "3\u00b2", "9" * 5000, "0", "5"])
def test_a_self_assessment_level_that_is_not_one_of_the_four_steps_is_refused(
    raw, client, auth, world
):
    auth.login(world.agent_alex)
    answer = client.post(
        url_for("selfcheck.submit_assessment", agent_id=world.agent_alex.id),
        data={f"level-{b.id}": raw for b in world.behaviours},
    )
    assert answer.status_code == 422
    assert "Choose one of the four steps" in answer.get_data(as_text=True)
    assert count(SelfAssessment) == 0


def test_a_follow_up_id_with_a_superscript_digit_is_not_a_follow_up(app):
    from werkzeug.datastructures import MultiDict

    from coachapp.selfcheck.forms import SelfCheckForm

    with app.test_request_context():
        form = SelfCheckForm(formdata=MultiDict({"rating": "partly", "followup_id": "\u00b2"}))
        assert form.chosen_followup_id is None


@pytest.mark.parametrize("gaps", ["2, \u00b2", "2, 5, " + "9" * 5000, "2,5\u00b2"])
def test_ladder_gaps_that_are_not_whole_numbers_are_refused_in_settings(gaps, client, auth, world):
    auth.login(world.admin_ada)
    answer = client.post(
        url_for("admin.save_settings"),
        data={"name": "Northwind", "timezone": "UTC", "gaps": gaps, "working_days": ["0", "1"]},
    )
    assert answer.status_code == 422
    assert "2,5,7,14,28,56" in db.session.get(type(world.org), world.org.id).ladder_gaps


@pytest.mark.parametrize("raw", ["\u00b2", "9" * 20, "9" * 5000])
def test_the_logs_behaviour_filter_ignores_what_is_not_an_id(raw, client, auth, world):
    auth.login(world.manager_maria)
    answer = client.get(url_for("log.agent", agent_id=world.agent_alex.id, behaviour=raw))
    assert answer.status_code == 200


@pytest.mark.parametrize("raw", ["9" * 20, "\u00b2", "-1"])
def test_a_page_number_of_twenty_digits_shows_a_page(raw, client, auth, world):
    auth.login(world.admin_ada)
    assert client.get(url_for("people.audit_page", page=raw)).status_code == 200
    auth.login(world.trainer_tara)
    assert client.get(url_for("voice.inbox", page=raw)).status_code == 200


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", ""), ("", "9999-12-31"), ("0001-01-01", "9999-12-31")]
)
def test_audit_filter_dates_outside_the_supported_years_in_a_zone_ahead_of_utc(
    start, end, client, auth, world
):
    world.org.timezone = "Pacific/Kiritimati"
    db.session.commit()
    auth.login(world.admin_ada)
    answer = client.get(url_for("people.audit_page", start=start, end=end))
    assert answer.status_code == 200
    assert "Choose a day between 2000 and 2100" in answer.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["9" * 20, "9" * 5000, "\u00b2"])
def test_a_huge_person_filter_in_the_audit_log_is_ignored(raw, client, auth, world):
    auth.login(world.admin_ada)
    assert client.get(url_for("people.audit_page", person=raw)).status_code == 200


@pytest.mark.parametrize("raw", ["9" * 20, "9" * 5000, "\u00b2"])
def test_a_huge_user_id_at_demo_sign_in_is_a_404(raw, app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    world.org.is_demo = True
    db.session.commit()
    assert client.post(url_for("auth.demo_signin"), data={"user_id": raw}).status_code == 404


@pytest.mark.parametrize("raw", ["9" * 20, "\u00b2"])
def test_an_invitation_for_a_team_id_too_big_for_the_database_is_refused(raw, client, auth, world):
    auth.login(world.admin_ada)
    answer = client.post(
        url_for("people.create_invitation"),
        data={"name": "Nia Novak", "role": "agent", "team_id": raw},
    )
    assert answer.status_code == 422
    assert count(Invitation) == 0


@pytest.mark.parametrize("raw", ["9" * 20, "\u00b2"])
def test_moving_agents_to_a_team_id_too_big_for_the_database_is_refused(raw, client, auth, world):
    auth.login(world.admin_ada)
    answer = client.post(
        url_for("setup.move_agents", team_id=world.team_a.id),
        data={"target_id": raw, "agent_ids": [str(world.agent_alex.id)]},
    )
    assert answer.status_code in (404, 422)
    assert world.agent_alex.team_id == world.team_a.id


# --- dates in an entry ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]
)
def test_an_entry_dated_year_one_is_refused_and_the_pages_still_show_west_of_utc(
    when, client, auth, world
):
    world.org.timezone = "America/Los_Angeles"
    db.session.commit()
    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow, behaviour_id=world.behaviours[0].id)
    auth.login(world.manager_maria)
    before = count(Observation)
    form = {"kind": "strength", "behaviour_id": str(world.behaviours[0].id), "occurred_at": when}
    answer = client.post(
        url_for("shadowing.add_observation", session_id=shadow.id),
        data={**form, "client_uuid": str(uuid.uuid4())},
    )
    assert answer.status_code == 422
    api = client.post(
        url_for("sync.add_observation", session_uuid=shadow.client_uuid),
        json={**form, "client_uuid": str(uuid.uuid4())},
    )
    assert api.status_code == 422
    assert count(Observation) == before
    assert client.get(url_for("shadowing.session", session_id=shadow.id)).status_code == 200
    auth.login(world.agent_alex)
    assert client.get(url_for("log.agent", agent_id=world.agent_alex.id)).status_code == 200


def test_audit_events_are_untouched_by_refused_filters(client, auth, world):
    auth.login(world.admin_ada)
    before = count(AuditEvent)
    client.get(url_for("people.audit_page", start="9999-12-31"))
    assert count(AuditEvent) == before


# --- JSON bodies ---------------------------------------------------------------------------------

NESTED = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def api_writes(world, shadow) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    some = uuid.uuid4()
    return [
        ("POST", url_for("sync.start_session")),
        ("POST", url_for("sync.add_observation", session_uuid=shadow.client_uuid)),
        ("PUT", url_for("sync.change_observation", observation_uuid=some)),
        ("DELETE", url_for("sync.remove_observation", observation_uuid=some)),
        ("POST", url_for("sync.record_outcome", followup_id=1)),
        ("POST", url_for("sync.end_session", session_uuid=shadow.client_uuid)),
        ("POST", url_for("reminders.subscribe")),
        ("POST", url_for("reminders.unsubscribe")),
    ]


@pytest.mark.parametrize(
    "body", [NESTED, DEEP_OBJECT, "[1, 2]", '"entry"', "1e99999", "{", '{"note": "\\ud800"}']
)
def test_json_writes_refuse_deep_arrays_and_unencodable_bodies_with_a_422(
    body, client, auth, world
):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    before = count(Observation)
    for method, url in api_writes(world, shadow):
        answer = client.open(url, method=method, data=body, content_type="application/json")
        assert answer.status_code == 422, (method, url, answer.get_data(as_text=True)[:200])
        assert answer.is_json and answer.json["error"]
    assert count(Observation) == before
    assert db.session.get(type(shadow), shadow.id).ended_at is None


def test_a_json_body_larger_than_the_limit_is_refused_before_parsing(client, auth, world):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    answer = client.post(
        url_for("sync.add_observation", session_uuid=shadow.client_uuid),
        data='{"note": "' + "x" * 70_000 + '"}',
        content_type="application/json",
    )
    assert answer.status_code == 413


def test_push_unsubscribe_with_a_lone_surrogate_is_a_422(client, auth, world):
    auth.login(world.manager_maria)
    answer = client.post(
        url_for("reminders.unsubscribe"),
        data='{"endpoint": "https://push.example/\\ud800"}',
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert answer.json["field"] == "endpoint"


def test_an_invitation_token_with_a_lone_surrogate_is_refused(client):
    answer = client.post(
        url_for("auth.register_options"),
        data='{"invitation": "\\ud800abc"}',
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert set(answer.json) == {"error"}


@pytest.mark.parametrize("body", ['{"kind": "strength"}', NESTED, "[1]"])
def test_form_endpoints_refuse_json_bodies(body, client, auth, world):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    before = count(Observation)
    for url in (
        url_for("shadowing.add_observation", session_id=shadow.id),
        url_for("shadowing.end", session_id=shadow.id),
        url_for("voice.raise_suggestion"),
    ):
        answer = client.post(url, data=body, content_type="application/json")
        assert answer.status_code == 415, url
    assert count(Observation) == before


# --- control characters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Warm\x00 greeting", "Warm\x07 greeting\x1b", "Warm\x7f greeting"]
)
def test_nul_and_control_characters_in_a_note_are_stripped_on_every_backend(
    text, client, auth, world
):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    answer = client.post(
        url_for("shadowing.add_observation", session_id=shadow.id),
        data={"kind": "strength", "note": text + "\nand\tclear", "client_uuid": str(uuid.uuid4())},
    )
    assert answer.status_code == 303
    stored = db.session.scalar(sa.select(Observation.note))
    assert stored == without_controls(text) + "\nand\tclear"
    assert "\x00" not in stored and "\x07" not in stored


def test_nul_in_a_comment_and_a_team_name_is_stripped(client, auth, world):
    shadow = make_session(world.manager_maria, world.agent_alex, ended_at=parsing.EARLIEST_TIME)
    observation = make_observation(shadow)
    auth.login(world.agent_alex)
    answer = client.post(
        url_for("threads.post_comment", observation_id=observation.id),
        data={"kind": "reply", "body": "Th\x00anks", "client_uuid": str(uuid.uuid4())},
    )
    assert answer.status_code == 303
    from coachapp.models import Comment, Team

    assert db.session.scalar(sa.select(Comment.body)) == "Thanks"
    auth.login(world.admin_ada)
    assert client.post(url_for("setup.add_team"), data={"name": "Ch\x00at"}).status_code == 303
    assert db.session.scalar(sa.select(Team).where(Team.name == "Chat")) is not None


def test_nul_in_a_json_note_is_a_422_naming_the_field(client, auth, world):
    shadow = make_session(world.manager_maria, world.agent_alex)
    auth.login(world.manager_maria)
    answer = client.post(
        url_for("sync.add_observation", session_uuid=shadow.client_uuid),
        json={"client_uuid": str(uuid.uuid4()), "kind": "strength", "note": "a\x00b"},
    )
    assert answer.status_code == 422
    assert answer.json["field"] == "note"
    assert count(Observation) == 0


def test_nul_in_a_query_string_is_dropped(client, auth, world):
    auth.login(world.manager_maria)
    answer = client.get(url_for("log.agent", agent_id=world.agent_alex.id, kind="str\x00ength"))
    assert answer.status_code == 200

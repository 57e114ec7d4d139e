"""My data: everything about the agent as JSON and CSV, audited; who opened my log."""

import csv
import io
import json
import uuid

import pytest
import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.models import AuditEvent, CommentKind, ObservationKind, SuggestionKind
from coachapp.selfcheck import service as self_view
from coachapp.threads import service as threads
from coachapp.voice import service as voice
from tests.conftest import make_observation, make_session
from tests.test_agent_log import correction, ended_session, observe, path


@pytest.fixture
def alexs_records(world, frozen_clock):  # type: ignore[no-untyped-def]
    """One of everything about Alex, and a few things about others that must stay out."""
    now = frozen_clock.now()
    shadow = ended_session(world, frozen_clock)
    strength = observe(shadow, frozen_clock, note='=HYPERLINK("x") warm greeting')
    threads.post(
        observation=strength,
        author=world.agent_alex,
        kind=CommentKind.QUESTION,
        body="Which call was it?",
        client_uuid=uuid.uuid4(),
        now=now,
    )
    _, item = correction(world, frozen_clock, note="No recap")
    self_view.save_self_check(
        item=item,
        agent=world.agent_alex,
        for_followup_id=None,
        rating=self_view.SelfRating.PARTLY,
        note="Getting there",
        now=now,
    )
    self_view.submit_assessment(
        agent=world.agent_alex,
        period="2026-03",
        entry=self_view.AssessmentInput(
            ratings={b.id: 2 for b in world.behaviours},
            proud_of="Patience",
            want_to_improve="Recaps",
            goal="Recap every call",
        ),
        now=now,
    )
    voice.raise_suggestion(
        author=world.agent_alex,
        kind=SuggestionKind.OBSTACLE,
        text="Headset drops calls",
        client_uuid=uuid.uuid4(),
        now=now,
    )
    # Not Alex's: Bo's log, Maria's own suggestion, and a session still being written.
    bo_session = ended_session(world, frozen_clock, agent=world.agent_bo, manager=world.manager_mo)
    observe(bo_session, frozen_clock, note="About Bo only")
    voice.raise_suggestion(
        author=world.manager_maria,
        kind=SuggestionKind.SUGGESTION,
        text="Maria's idea",
        client_uuid=uuid.uuid4(),
        now=now,
    )
    make_observation(
        make_session(world.manager_maria, world.agent_alex), note="Draft in a running session"
    )


def test_the_json_export_holds_everything_about_me(client, auth, world, alexs_records):
    auth.login(world.manager_maria)
    client.get(path("log.agent", agent_id=world.agent_alex.id))  # Maria opens Alex's log
    auth.login(world.agent_alex)
    answer = client.get(path("log.export_json", agent_id=world.agent_alex.id))
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="coachapp-my-data-2026-03-02.json"'
    )
    data = json.loads(answer.get_data(as_text=True))
    assert data["person"]["name"] == "Alex Adams"
    notes = [o["note"] for s in data["sessions"] for o in s["observations"]]
    assert '=HYPERLINK("x") warm greeting' in notes and "No recap" in notes
    thread = [m for s in data["sessions"] for o in s["observations"] for m in o["thread"]]
    assert [(m["kind"], m["body"]) for m in thread] == [("question", "Which call was it?")]
    (item,) = data["focus_items"]
    assert item["behaviour"] == "Greets by name" and item["next_check_on"] == "2026-03-04"
    assert item["checks"][0]["self_check"]["rating"] == "partly"
    (assessment,) = data["self_assessments"]
    assert assessment["goal"] == "Recap every call" and len(assessment["ratings"]) == 2
    assert [s["text"] for s in data["suggestions"]] == ["Headset drops calls"]
    assert [v["by"] for v in data["log_views"]] == ["Maria Santos"]
    text = json.dumps(data)
    for foreign in ("About Bo only", "Maria's idea", "Draft in a running session"):
        assert foreign not in text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "data.exported"))
    assert event is not None and event.details == "json"
    assert event.actor_id == event.subject_id == world.agent_alex.id


def test_the_csv_export_has_a_row_per_field_and_defuses_formulas(
    client, auth, world, alexs_records
):
    auth.login(world.agent_alex)
    answer = client.get(path("log.export_csv", agent_id=world.agent_alex.id))
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["Record", "Id", "Part of", "Field", "Value"]
    by_field = {(r[0], r[3]): r for r in rows[1:]}
    assert by_field[("person", "name")][4] == "Alex Adams"
    notes = [r for r in rows if r[0] == "observation" and r[3] == "note"]
    assert any(r[4] == '\'=HYPERLINK("x") warm greeting' for r in notes)
    question = next(r for r in rows if r[0] == "message" and r[3] == "body")
    assert question[4] == "Which call was it?" and question[2].startswith("observation ")
    self_check = next(r for r in rows if r[0] == "self_check" and r[3] == "rating")
    assert self_check[4] == "partly" and self_check[2].startswith("check ")
    assert any(r[0] == "rating" and r[3] == "level" and r[4] == "2" for r in rows)
    assert any(r[0] == "suggestion" and r[4] == "Headset drops calls" for r in rows)
    assert "About Bo only" not in text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "data.exported"))
    assert event is not None and event.details == "csv"


def test_my_data_page_offers_the_downloads_and_who_opened_my_log(client, auth, world):
    auth.login(world.trainer_tara)
    client.get(path("log.agent", agent_id=world.agent_alex.id))
    auth.login(world.agent_alex)
    page = client.get(path("log.my_data", agent_id=world.agent_alex.id)).get_data(as_text=True)
    assert "<h1>My data</h1>" in page
    assert path("log.export_json", agent_id=world.agent_alex.id) in page
    assert path("log.export_csv", agent_id=world.agent_alex.id) in page
    section = page[page.index("Who opened my log") :]
    assert "Tara Lindqvist" in section


@pytest.mark.parametrize("who", ["manager_maria", "trainer_tara", "agent_bo", "admin_ada"])
def test_nobody_else_exports_an_agents_data(client, auth, world, alexs_records, who):
    auth.login(getattr(world, who))
    for endpoint in ("log.my_data", "log.export_json", "log.export_csv"):
        assert client.get(path(endpoint, agent_id=world.agent_alex.id)).status_code == 404
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "data.exported")
        )
        == 0
    )


def test_an_agent_with_no_records_exports_an_empty_document(client, auth, world):
    auth.login(world.agent_bo)
    data = client.get(path("log.export_json", agent_id=world.agent_bo.id)).get_json(force=True)
    assert data["sessions"] == [] and data["focus_items"] == [] and data["log_views"] == []
    assert ObservationKind.STRENGTH.value not in json.dumps(data)

"""The calendar feed: a secret, revocable link to one all-day event per pending check, parsed
back with the icalendar package, and nothing in it about who or what."""

import hashlib
import re
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import url_for
from flask.testing import FlaskClient
from icalendar import Calendar

from coachapp import clock, scheduling
from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.models import Behaviour, CalendarFeed, FollowUp, ObservationKind, User
from tests.conftest import Auth, World, make_observation, make_session

NOW = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)
TODAY = date(2025, 3, 5)
FEED_URL = re.compile(r"https?://[^\s\"<>]+/calendar/[A-Za-z0-9_-]+\.ics")


@pytest.fixture(autouse=True)
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def pending_check(world: World, manager: User, agent: User, due_on: date) -> FollowUp:
    """A correction on a behaviour of its own, its pending check moved to `due_on`."""
    competency = world.profile.competencies[0]
    behaviour = Behaviour(name=f"Behaviour due {due_on}", competency=competency, position=9)
    db.session.add(behaviour)
    db.session.commit()
    shadow = make_session(manager, agent)
    correction = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=behaviour.id,
        note="Talked over the customer",
        occurred_at=NOW - timedelta(days=1),
    )
    item = apply_correction(correction, current_ladder())
    assert item is not None and item.pending is not None
    followup = item.pending
    followup.due_on = due_on
    item.due_on = due_on
    db.session.commit()
    return followup


def make_feed(client: FlaskClient, **headers: str) -> str:
    response = client.post("/reminders/calendar", headers=headers)
    assert response.status_code == 200
    urls = set(FEED_URL.findall(response.get_data(as_text=True)))
    assert len(urls) == 1
    return urls.pop()


def fetch(client: FlaskClient, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    return Calendar.from_ical(response.data)


def test_feed_has_one_all_day_event_per_pending_check(client: FlaskClient, auth: Auth, world):
    maria, alex = world.manager_maria, world.agent_alex
    inside = [
        pending_check(world, maria, alex, TODAY - timedelta(days=30)),
        pending_check(world, maria, alex, TODAY),
        pending_check(world, maria, alex, TODAY + timedelta(days=120)),
    ]
    pending_check(world, maria, alex, TODAY - timedelta(days=31))
    pending_check(world, maria, alex, TODAY + timedelta(days=121))
    pending_check(world, world.manager_mo, world.agent_bo, TODAY)  # Mo's agent
    auth.login(maria)
    url = make_feed(client)
    auth.logout()  # the calendar app has no session

    response = client.get(url)
    calendar = Calendar.from_ical(response.data)

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    assert str(calendar["X-WR-CALNAME"]) == "coachapp follow-ups"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data
    events = calendar.walk("VEVENT")
    assert [str(event["UID"]) for event in events] == [f"followup-{f.id}@coachapp" for f in inside]
    for event, followup in zip(events, inside, strict=True):
        start = event["DTSTART"].dt
        assert type(start) is date and start == followup.due_on
        assert event["DTEND"].dt == followup.due_on + timedelta(days=1)
        assert str(event["SUMMARY"]) == "Follow-up check"
        with client.application.test_request_context():
            link = url_for("followups.check", followup_id=followup.id, _external=True)
        assert link in str(event["DESCRIPTION"])
    text = response.get_data(as_text=True)
    for private in ("Alex", "Adams", "Bo Berg", "Talked over", "Behaviour due", "Greets"):
        assert private not in text


def test_recorded_and_closed_checks_are_not_in_the_feed(client, auth, world):
    maria, alex = world.manager_maria, world.agent_alex
    shown = pending_check(world, maria, alex, TODAY)
    recorded = pending_check(world, maria, alex, TODAY)
    recorded.outcome = scheduling.Outcome.SUSTAINED
    closed = pending_check(world, maria, alex, TODAY)
    closed.focus_item.status = scheduling.CLOSED
    db.session.commit()
    auth.login(maria)

    events = fetch(client, make_feed(client)).walk("VEVENT")

    assert [str(event["UID"]) for event in events] == [f"followup-{shown.id}@coachapp"]


def test_uids_stay_the_same_from_one_fetch_to_the_next(client, auth, world):
    pending_check(world, world.manager_maria, world.agent_alex, TODAY)
    auth.login(world.manager_maria)
    url = make_feed(client)

    first = [str(e["UID"]) for e in fetch(client, url).walk("VEVENT")]
    second = [str(e["UID"]) for e in fetch(client, url).walk("VEVENT")]

    assert first == second and len(first) == 1


def test_the_link_is_shown_once_and_only_its_hash_is_kept(client, auth, world):
    auth.login(world.manager_maria)
    url = make_feed(client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")

    page = client.get("/reminders").get_data(as_text=True)

    assert token not in page
    assert "Your calendar link is active" in page
    feed = db.session.scalar(sa.select(CalendarFeed))
    assert feed is not None
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_a_new_link_stops_the_old_one(client, auth, world):
    auth.login(world.manager_maria)
    old = make_feed(client)

    new = make_feed(client)

    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(CalendarFeed.id))) == 1


def test_stopping_the_link(client, auth, world):
    auth.login(world.manager_maria)
    url = make_feed(client)

    response = client.post("/reminders/calendar/delete")

    assert response.status_code == 303
    assert client.get(url).status_code == 404
    assert "You have no calendar link" in client.get("/reminders").get_data(as_text=True)


def test_htmx_gets_the_calendar_section_only(client, auth, world):
    auth.login(world.manager_maria)

    created = client.post("/reminders/calendar", headers={"HX-Request": "true"})
    stopped = client.post("/reminders/calendar/delete", headers={"HX-Request": "true"})

    for response in (created, stopped):
        assert response.status_code == 200
        assert "<html" not in response.get_data(as_text=True)
        assert 'id="calendar-feed"' in response.get_data(as_text=True)
    assert FEED_URL.search(created.get_data(as_text=True))
    assert not FEED_URL.search(stopped.get_data(as_text=True))


def test_each_manager_sees_only_their_agents(client, auth, world):
    pending_check(world, world.manager_maria, world.agent_alex, TODAY)
    mine = pending_check(world, world.manager_mo, world.agent_bo, TODAY)
    auth.login(world.manager_mo)

    events = fetch(client, make_feed(client)).walk("VEVENT")

    assert [str(event["UID"]) for event in events] == [f"followup-{mine.id}@coachapp"]


def test_a_deactivated_managers_link_stops(client, auth, world):
    auth.login(world.manager_maria)
    url = make_feed(client)
    world.manager_maria.active = False
    db.session.commit()

    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "token", ["garbage", "A" * 43, "x" * 500, "%00", hashlib.sha256(b"x").hexdigest()]
)
def test_a_token_that_opens_nothing_is_404(client, world, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_is_rate_limited(app, client, auth, world):
    auth.login(world.manager_maria)
    url = make_feed(client)

    # An address of its own: the limiter's memory outlives a test.
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    answers = [client.get(url, environ_base={"REMOTE_ADDR": address}) for _ in range(61)]

    assert {r.status_code for r in answers[:60]} == {200}
    assert answers[60].status_code == 429

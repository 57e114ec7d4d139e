"""The agent's log: who wrote each entry and when, strengths first, filters, nothing hidden;
the focus items page with the ladder, the next check and why it comes back."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import url_for
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.followups.service import apply_correction, current_ladder
from coachapp.log.explain import why_it_comes_back
from coachapp.models import AuditEvent, FocusItem, Observation, ObservationKind, ShadowSession
from coachapp.scheduling import CLOSED, SUSTAINED, ItemState, Ladder, Outcome
from tests.conftest import FrozenClock, World, make_observation, make_session

HTMX = {"HX-Request": "true"}


# --- helpers shared by the agent's-side tests ----------------------------------------------


def ended_session(world: World, frozen_clock: FrozenClock, *, agent=None, manager=None):  # type: ignore[no-untyped-def]
    """A session Maria (or `manager`) shadowed and ended now, by the frozen clock."""
    return make_session(
        manager or world.manager_maria,
        agent or world.agent_alex,
        started_at=frozen_clock.now() - timedelta(hours=1),
        ended_at=frozen_clock.now(),
    )


def observe(shadow: ShadowSession, frozen_clock: FrozenClock, **values: object) -> Observation:
    values.setdefault("occurred_at", frozen_clock.now() - timedelta(minutes=30))
    return make_observation(shadow, **values)


def correction(world: World, frozen_clock: FrozenClock, behaviour_index: int = 0, **values):  # type: ignore[no-untyped-def]
    """A correction in an ended session, applied to the ladder: it opens (or slips) an item."""
    shadow = ended_session(world, frozen_clock, agent=values.pop("agent", None))
    observation = observe(
        shadow,
        frozen_clock,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[behaviour_index].id,
        note=values.pop("note", "Forgot to confirm the next steps."),
        coached=values.pop("coached", "Practised a closing sentence."),
    )
    item = apply_correction(observation, current_ladder())
    assert item is not None
    return observation, item


def path(endpoint: str, **values: object) -> str:
    """A URL as the pages write it: without the scheme and host."""
    return url_for(endpoint, _external=False, **values)


def log_page(client: FlaskClient, agent_id: int, **args: str) -> str:
    answer = client.get(url_for("log.agent", agent_id=agent_id, **args))
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


# --- the log -------------------------------------------------------------------------------


def test_each_entry_says_who_wrote_it_and_when(client, auth, world, frozen_clock):
    shadow = ended_session(world, frozen_clock)
    observe(shadow, frozen_clock, note="Warm greeting", behaviour_id=world.behaviours[0].id)
    auth.login(world.agent_alex)
    page = log_page(client, world.agent_alex.id)
    assert "Written by Maria Santos on 2 Mar 2026, 09:30" in page
    assert "Warm greeting" in page and "Greets by name" in page


def test_strengths_come_first_within_a_session_and_nothing_is_hidden(
    client, auth, world, frozen_clock
):
    shadow = ended_session(world, frozen_clock)
    observe(shadow, frozen_clock, kind=ObservationKind.OBSTACLE, note="The CRM froze")
    observe(
        shadow,
        frozen_clock,
        kind=ObservationKind.CORRECTION,
        note="Rushed the close",
        coached="Agreed a closing line",
    )
    observe(
        shadow,
        frozen_clock,
        kind=ObservationKind.STRENGTH,
        note="Calm with an upset caller",
        occurred_at=frozen_clock.now() - timedelta(minutes=50),
    )
    still_open = make_session(world.manager_maria, world.agent_alex)
    make_observation(still_open, note="Still being written")
    auth.login(world.agent_alex)
    page = log_page(client, world.agent_alex.id)
    assert page.index("Calm with an upset caller") < page.index("Rushed the close")
    assert page.index("Rushed the close") < page.index("The CRM froze")
    # What the manager coached is the agent's to read too.
    assert "Agreed a closing line" in page
    # A session still running is shown once it ends, when the manager has finished writing.
    assert "Still being written" not in page


@pytest.fixture
def mixed_log(world: World, frozen_clock: FrozenClock) -> dict[str, Observation]:
    """Two ended sessions: a strength and a correction, then only a strength."""
    first = ended_session(world, frozen_clock)
    frozen_clock.advance(days=1)
    second = ended_session(world, frozen_clock)
    greets, confirms = world.behaviours
    return {
        "strength": observe(first, frozen_clock, note="Named the caller", behaviour_id=greets.id),
        "correction": observe(
            first,
            frozen_clock,
            kind=ObservationKind.CORRECTION,
            note="No recap at the end",
            behaviour_id=confirms.id,
        ),
        "later": observe(second, frozen_clock, note="Recap done well", behaviour_id=confirms.id),
    }


def test_the_log_filters_by_kind(client, auth, world, mixed_log):
    auth.login(world.agent_alex)
    page = log_page(client, world.agent_alex.id, kind="correction")
    assert "No recap at the end" in page
    assert "Named the caller" not in page and "Recap done well" not in page
    # The session without a correction is left out; counts still describe the whole session.
    assert page.count('class="card session-summary"') == 1
    assert "1 strength" in page and "1 correction" in page
    assert '<option value="correction" selected>' in page


def test_the_log_filters_by_behaviour_and_kind_together(client, auth, world, mixed_log):
    auth.login(world.agent_alex)
    confirms = world.behaviours[1].id
    page = log_page(client, world.agent_alex.id, behaviour=str(confirms))
    assert "No recap at the end" in page and "Recap done well" in page
    assert "Named the caller" not in page
    both = log_page(client, world.agent_alex.id, behaviour=str(confirms), kind="strength")
    assert "Recap done well" in both and "No recap at the end" not in both
    empty = log_page(client, world.agent_alex.id, kind="obstacle")
    assert "Nothing in the log matches this filter." in empty


@pytest.mark.parametrize(
    "args", [{"kind": "praise"}, {"behaviour": "abc"}, {"behaviour": "999999"}, {"kind": ""}]
)
def test_an_unknown_filter_shows_what_it_can_never_a_500(client, auth, world, mixed_log, args):
    auth.login(world.agent_alex)
    page = log_page(client, world.agent_alex.id, **args)
    assert "<h1>My coaching log</h1>" in page


def test_htmx_gets_the_filtered_list_alone(client, auth, world, mixed_log):
    auth.login(world.agent_alex)
    answer = client.get(
        url_for("log.agent", agent_id=world.agent_alex.id, kind="strength"), headers=HTMX
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "HX-Request" in answer.headers["Vary"]
    assert "<html" not in body
    assert 'id="log"' in body and 'hx-target="this"' in body
    assert "Named the caller" in body and "No recap at the end" not in body


def test_a_manager_filters_the_log_of_an_agent_of_their_team(client, auth, world, mixed_log):
    auth.login(world.manager_maria)
    page = log_page(client, world.agent_alex.id, kind="strength")
    assert "Named the caller" in page and "No recap at the end" not in page


def test_the_agent_finds_every_part_of_their_side_from_the_log(client, auth, world):
    auth.login(world.agent_alex)
    page = log_page(client, world.agent_alex.id)
    for endpoint in ("log.focus_items", "selfcheck.assessments", "log.my_data"):
        assert f'href="{path(endpoint, agent_id=world.agent_alex.id)}"' in page
    assert f'href="{path("voice.index")}"' in page
    auth.login(world.manager_maria)
    managers = log_page(client, world.agent_alex.id)
    assert path("log.my_data", agent_id=world.agent_alex.id) not in managers


# --- focus items ---------------------------------------------------------------------------


def test_my_focus_items_show_the_next_check_and_why_it_comes_back(
    client, auth, world, frozen_clock
):
    _, item = correction(world, frozen_clock)
    auth.login(world.agent_alex)
    log = log_page(client, world.agent_alex.id)
    assert "What I am working on" in log
    assert "next check around Wed 4 Mar" in log
    page = client.get(url_for("log.focus_items", agent_id=world.agent_alex.id))
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>My focus items</h1>" in body
    assert "Greets by name" in body
    assert "Next check around Wednesday 4 March" in body and "(in 2 days)" in body
    assert "check 1 of 6" in body
    assert "your manager looks again after 2 days" in body
    assert "It is not a score." in body
    assert "Forgot to confirm the next steps." in body  # the correction that opened it
    assert "My self-check before the next check" in body


def test_the_history_on_the_ladder_shows_every_check(client, auth, world, frozen_clock):
    _, item = correction(world, frozen_clock)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    client.post(
        url_for("followups.record", followup_id=item.pending.id),
        data={"outcome": "sustained", "client_uuid": "6f1c1b1e-7e6a-4d8e-9a39-3b7f7a0b8e11"},
    )
    auth.login(world.agent_alex)
    body = client.get(url_for("log.focus_items", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    assert "Sustained" in body and "on time" in body
    assert "It held at the last check, so the checks move further apart" in body
    assert "check 2 of 6" in body


def test_a_manager_opens_the_focus_items_and_the_agent_sees_it(client, auth, world, frozen_clock):
    _, item = correction(world, frozen_clock)
    auth.login(world.manager_maria)
    body = client.get(url_for("log.focus_items", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    assert "Focus items of Alex Adams" in body
    assert path("followups.check", followup_id=item.pending.id) in body
    assert "No self-check yet for the next check." in body
    assert 'name="rating"' not in body  # only the agent rates themselves
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "log.viewed"))
    assert event is not None and event.details == "focus"
    assert event.subject_id == world.agent_alex.id


@pytest.mark.parametrize("who", ["agent_bo", "manager_mo", "admin_ada"])
def test_someone_elses_focus_items_are_404(client, auth, world, frozen_clock, who):
    correction(world, frozen_clock)
    viewer = {"agent_bo": world.agent_bo, "manager_mo": world.manager_mo}.get(who, world.admin_ada)
    auth.login(viewer)
    assert client.get(url_for("log.focus_items", agent_id=world.agent_alex.id)).status_code == 404


def test_closed_items_come_after_open_ones(client, auth, world, frozen_clock):
    _, first = correction(world, frozen_clock, behaviour_index=0)
    _, second = correction(world, frozen_clock, behaviour_index=1)
    first.status = CLOSED
    first.due_on = None
    for followup in list(first.followups):
        if followup.outcome is None:
            first.followups.remove(followup)
    db.session.commit()
    auth.login(world.agent_alex)
    body = client.get(url_for("log.focus_items", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    assert body.index(f'id="item-{second.id}"') < body.index(f'id="item-{first.id}"')
    assert "closed: it holds" in body and "no more checks" in body
    assert body.count('name="rating"') == 3  # only the open item can be rated


# --- why it comes back, in plain words -----------------------------------------------------


def state(**values: object) -> ItemState:
    start = date(2026, 3, 2)
    base: dict[str, object] = {
        "level": 0,
        "resume_level": None,
        "streak": 0,
        "lapses": 0,
        "last_coached_on": start,
        "opened_on": start,
        "status": "active",
        "escalated": False,
        "due_on": start + timedelta(days=2),
        "due_gap": 2,
    }
    base.update(values)
    return ItemState(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item_state", "last", "says"),
    [
        (state(), None, "your manager looks again after 2 days"),
        (state(level=2, streak=2), Outcome.SUSTAINED, "It held at the last 2 checks"),
        (state(level=1, streak=1), Outcome.SUSTAINED, "the next one about 5 days after it"),
        (state(resume_level=1, lapses=1), Outcome.SLIPPED, "comes soon, after 2 days"),
        (state(level=0, resume_level=1), Outcome.PARTLY, "shortly after a slip"),
        (state(level=3), Outcome.PARTLY, "the same gap as before, about 14 days"),
        (state(), Outcome.NO_CHANCE, "did not come up at the last check"),
        (state(level=5, streak=4, status=SUSTAINED), Outcome.SUSTAINED, "held for eight weeks"),
        (state(status=CLOSED, due_on=None), Outcome.SUSTAINED, "it is closed: no more checks"),
    ],
    ids=[
        "new",
        "held-twice",
        "held-once",
        "slipped",
        "partly-recovering",
        "partly",
        "no-chance",
        "sustained",
        "closed",
    ],
)
def test_why_it_comes_back(app, item_state, last, says):
    with app.test_request_context():
        words = " ".join(why_it_comes_back(item_state, Ladder(), last))
    assert says in words
    if item_state.status != CLOSED:
        assert "after 2, 5, 7, 14, 28, 56 days" in words


def test_a_focus_item_without_a_pending_check_is_counted_out_of_the_log_summary(
    client, auth, world, frozen_clock
):
    _, item = correction(world, frozen_clock)
    db.session.execute(sa.update(FocusItem).values(status=CLOSED, due_on=None))
    for followup in list(item.followups):
        db.session.delete(followup)
    db.session.commit()
    auth.login(world.agent_alex)
    assert "What I am working on" not in log_page(client, world.agent_alex.id)


def test_the_log_page_needs_the_same_number_of_queries_however_long_it_is(
    client, auth, world, frozen_clock
):
    """Sessions, entries, authors, behaviours and threads are loaded up front, and reading the
    replies does not make the page fetch it all again."""
    import uuid

    from coachapp.models import CommentKind
    from coachapp.threads import service as threads

    def add_sessions(count: int) -> None:
        for _ in range(count):
            shadow = ended_session(world, frozen_clock)
            for index in range(3):
                observation = observe(shadow, frozen_clock, behaviour_id=world.behaviours[0].id)
                threads.post(
                    observation=observation,
                    author=world.manager_maria,
                    kind=CommentKind.REPLY,
                    body=f"Answer {index}",
                    client_uuid=uuid.uuid4(),
                    now=frozen_clock.now(),
                )

    def statements_for_the_log() -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(path("log.agent", agent_id=world.agent_alex.id)).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    auth.login(world.agent_alex)
    add_sessions(2)
    short = statements_for_the_log()
    add_sessions(6)
    assert statements_for_the_log() == short


def test_a_year_of_sessions_comes_a_page_at_a_time(client, auth, world, frozen_clock):
    """Twenty sessions, newest first, then "Show older sessions": a plain link that opens the
    next page, and for htmx only the next page, swapped in where the link was."""
    import re
    from datetime import timedelta

    from coachapp.log.service import LOG_PAGE

    for week in range(LOG_PAGE + 5):
        shadow = make_session(
            world.manager_maria,
            world.agent_alex,
            started_at=frozen_clock.now() - timedelta(weeks=week, hours=1),
            ended_at=frozen_clock.now() - timedelta(weeks=week),
        )
        observe(shadow, frozen_clock, note=f"Week {week} note")
    auth.login(world.agent_alex)
    first = log_page(client, world.agent_alex.id)
    assert first.count('class="session-date"') == LOG_PAGE
    assert "Week 0 note" in first and f"Week {LOG_PAGE} note" not in first
    older = re.search(r'<a class="button wide" href="([^"]+)"[^>]*>Show older sessions', first)
    assert older, "a link to the older sessions"
    url = older.group(1).replace("&amp;", "&")
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.count('class="session-date"') == 5
    assert "<html" not in fragment and "Show older sessions" not in fragment
    assert f"Week {LOG_PAGE + 4} note" in fragment
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and f"Week {LOG_PAGE} note" in page and "Week 0 note" not in page


def test_a_filtered_log_pages_over_the_matching_sessions(client, auth, world, frozen_clock):
    from datetime import timedelta

    from coachapp.log.service import LOG_PAGE

    for week in range(LOG_PAGE + 2):
        shadow = make_session(
            world.manager_maria,
            world.agent_alex,
            started_at=frozen_clock.now() - timedelta(weeks=week, hours=1),
            ended_at=frozen_clock.now() - timedelta(weeks=week),
        )
        observe(shadow, frozen_clock, note=f"Week {week}", kind=ObservationKind.STRENGTH)
        if week % 2:
            observe(shadow, frozen_clock, note="Rushed", kind=ObservationKind.CORRECTION)
    auth.login(world.agent_alex)
    shown = log_page(client, world.agent_alex.id, kind="correction")
    assert shown.count('class="session-date"') == (LOG_PAGE + 2) // 2
    assert "Show older sessions" not in shown

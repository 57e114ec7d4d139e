"""Obstacles and suggestions: agents and managers raise them, trainers move them through their
statuses, and the author follows along."""

import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import Suggestion, SuggestionStatus, SuggestionUpdate
from tests.test_agent_log import HTMX, path

SLOW = "The knowledge base search takes a minute while the caller waits."


def raise_one(client: FlaskClient, kind: str = "obstacle", text: str = SLOW, **extra: str):  # type: ignore[no-untyped-def]
    data = {"kind": kind, "text": text, "client_uuid": str(uuid.uuid4()), **extra}
    return client.post(path("voice.raise_suggestion"), data=data)


def suggestions() -> list[Suggestion]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Suggestion).order_by(Suggestion.id)))


def change(client: FlaskClient, suggestion: Suggestion, status: str, note: str = "", htmx=True):  # type: ignore[no-untyped-def]
    return client.post(
        path("voice.change_status", suggestion_id=suggestion.id),
        data={"status": status, "note": note},
        headers=HTMX if htmx else {},
    )


def test_an_agent_raises_an_obstacle_and_follows_its_status(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    sent = raise_one(client)
    assert sent.status_code == 303 and sent.headers["Location"] == path("voice.index")
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Sent to the trainers." in page
    assert SLOW in page and ">New</span>" in page
    (obstacle,) = suggestions()
    assert obstacle.author_id == world.agent_alex.id and obstacle.status == SuggestionStatus.NEW

    auth.login(world.trainer_tara)
    inbox = client.get(path("voice.inbox")).get_data(as_text=True)
    assert SLOW in inbox and "Alex Adams" in inbox and "Open (1)" in inbox
    answer = change(client, obstacle, "acknowledged", "We asked IT for a faster index.")
    assert answer.status_code == 200 and "HX-Request" in answer.headers["Vary"]
    assert "Saved. The person who raised it sees it now." in answer.get_data(as_text=True)
    frozen_clock.advance(days=3)
    change(client, obstacle, "being_fixed")

    auth.login(world.agent_alex)
    mine = client.get(path("voice.suggestion", suggestion_id=obstacle.id)).get_data(as_text=True)
    assert "Being fixed" in mine and "We asked IT for a faster index." in mine
    assert "by Tara Lindqvist" in mine
    assert 'name="status"' not in mine  # the author follows; trainers change it
    listing = client.get(path("voice.index")).get_data(as_text=True)
    assert "Being fixed" in listing and "status changed 5 Mar" in listing


def test_wont_fix_needs_a_reason_which_the_author_reads(client, auth, world, frozen_clock):
    auth.login(world.manager_maria)
    raise_one(client, "suggestion", "Let agents see the queue length on their screen.")
    (suggestion,) = suggestions()
    auth.login(world.trainer_tara)
    refused = change(client, suggestion, "wont_fix")
    assert refused.status_code == 422
    assert "Say why it will not be fixed" in refused.get_data(as_text=True)
    assert suggestions()[0].status == SuggestionStatus.NEW
    change(client, suggestion, "wont_fix", "The phone system cannot show it; we ask again in May.")
    auth.login(world.manager_maria)
    page = client.get(path("voice.suggestion", suggestion_id=suggestion.id)).get_data(as_text=True)
    assert "Won&#39;t fix" in page or "Won't fix" in page
    assert "we ask again in May." in page


def test_the_same_status_without_a_note_changes_nothing(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    raise_one(client)
    (obstacle,) = suggestions()
    auth.login(world.trainer_tara)
    answer = change(client, obstacle, "new")
    assert answer.status_code == 422
    assert "Choose another status, or write a note to add." in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SuggestionUpdate)) == 0
    # A note on the same status is added to the history.
    assert change(client, obstacle, "new", "Looking at it next week.").status_code == 200
    assert suggestions()[0].status_changed_at is None


def test_a_plain_status_change_goes_back_to_the_suggestion(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    raise_one(client)
    (obstacle,) = suggestions()
    auth.login(world.trainer_tara)
    answer = change(client, obstacle, "fixed", "Fixed in the March release.", htmx=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == path("voice.suggestion", suggestion_id=obstacle.id)
    assert suggestions()[0].status == SuggestionStatus.FIXED


def test_the_inbox_filters_by_status(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    raise_one(client, text="Open one")
    raise_one(client, text="Fixed one")
    fixed = suggestions()[1]
    auth.login(world.trainer_tara)
    change(client, fixed, "fixed", "Done.")
    open_only = client.get(path("voice.inbox")).get_data(as_text=True)
    assert "Open one" in open_only and "Fixed one" not in open_only
    only_fixed = client.get(path("voice.inbox", status="fixed")).get_data(as_text=True)
    assert "Fixed one" in only_fixed and "Open one" not in only_fixed
    everything = client.get(path("voice.inbox", status="all")).get_data(as_text=True)
    assert "Fixed one" in everything and "Open one" in everything
    unknown = client.get(path("voice.inbox", status="lost"))
    assert unknown.status_code == 200 and "Open one" in unknown.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"text": "   "}, "Say in a few words what gets in the way, or what would help."),
        ({"text": "x" * 4001}, "Keep this under 4000 characters."),
        ({"kind": "", "text": "Kept words"}, "Choose obstacle or suggestion."),
        ({"kind": "complaint", "text": "Kept words"}, "Not a valid choice"),
    ],
    ids=["empty", "too-long", "no-kind", "unknown-kind"],
)
def test_bad_input_is_refused_with_the_typing_kept(client, auth, world, data, says):
    auth.login(world.agent_alex)
    answer = raise_one(client, **data)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert says in body
    if data["text"].strip():
        assert data["text"] in body
    assert suggestions() == []


def test_a_double_tap_raises_it_once(client, auth, world):
    auth.login(world.agent_alex)
    same = str(uuid.uuid4())
    raise_one(client, client_uuid=same)
    raise_one(client, client_uuid=same)
    assert len(suggestions()) == 1


def test_nobody_but_the_author_and_trainers_reads_one(client, auth, world):
    auth.login(world.agent_alex)
    raise_one(client)
    (obstacle,) = suggestions()
    url = path("voice.suggestion", suggestion_id=obstacle.id)
    for outsider in (world.agent_bo, world.manager_maria, world.manager_mo, world.admin_ada):
        auth.login(outsider)
        assert client.get(url).status_code == 404
        assert change(client, obstacle, "fixed", "No").status_code == 404
    for other_author in (world.agent_bo, world.manager_maria):
        auth.login(other_author)
        assert SLOW not in client.get(path("voice.index")).get_data(as_text=True)
    auth.login(world.agent_alex)
    assert client.get(path("voice.inbox")).status_code == 404
    assert change(client, obstacle, "fixed", "Self-fixed").status_code == 404
    assert suggestions()[0].status == SuggestionStatus.NEW


def test_an_unknown_suggestion_is_404(client, auth, world):
    auth.login(world.trainer_tara)
    assert client.get(path("voice.suggestion", suggestion_id=999_999)).status_code == 404
    answer = client.post(
        path("voice.change_status", suggestion_id=999_999), data={"status": "fixed"}
    )
    assert answer.status_code == 404


def test_managers_and_trainers_find_the_way_from_the_agents_page(client, auth, world):
    auth.login(world.manager_maria)
    assert path("voice.index") in client.get(path("log.people")).get_data(as_text=True)
    auth.login(world.trainer_tara)
    assert path("voice.inbox") in client.get(path("log.people")).get_data(as_text=True)


def test_obstacles_logged_while_shadowing_reach_the_inbox_once_the_session_ends(world):
    """Under the manager's name, without the agent: it is about the work (principle 3)."""
    from coachapp.models import ObservationKind, Suggestion, SuggestionKind
    from coachapp.shadowing import service as shadowing
    from tests.conftest import make_observation, make_session

    shadow = make_session(world.manager_maria, world.agent_alex)
    make_observation(shadow, kind=ObservationKind.OBSTACLE, note="The CRM freezes at 10:00.")
    make_observation(shadow, kind=ObservationKind.STRENGTH, note="Warm greeting.")
    assert db.session.scalars(sa.select(Suggestion)).all() == []  # not while it can be fixed

    for _ in range(2):  # ending again (a replay) sends nothing more
        shadowing.end_session(session=shadow, summary_note="", now=shadow.started_at)
    [obstacle] = db.session.scalars(sa.select(Suggestion)).all()
    assert obstacle.kind == SuggestionKind.OBSTACLE
    assert obstacle.text == "The CRM freezes at 10:00."
    assert obstacle.author_id == world.manager_maria.id

"""Threads under observations: seen, replies, questions and answers; what is unread on Today;
no changing a message once read; bad input and other people's observations."""

import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.models import AuditEvent, Comment, CommentKind, Observation, ObservationKind
from tests.conftest import FrozenClock, World, make_observation, make_session
from tests.test_agent_log import HTMX, ended_session, observe, path

QUESTION = "What should I say instead?"


@pytest.fixture
def shared(world: World, frozen_clock: FrozenClock) -> Observation:
    """A correction Maria wrote about Alex in a session that has ended."""
    return observe(
        ended_session(world, frozen_clock),
        frozen_clock,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[1].id,
        note="Ended the call without a recap.",
    )


def message(kind: str = "reply", body: str = QUESTION, **extra: str) -> dict[str, str]:
    return {"kind": kind, "body": body, "client_uuid": str(uuid.uuid4()), **extra}


def post(client: FlaskClient, observation: Observation, data: dict[str, str], htmx: bool = True):  # type: ignore[no-untyped-def]
    return client.post(
        path("threads.post_comment", observation_id=observation.id),
        data=data,
        headers=HTMX if htmx else {},
    )


def comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Comment).order_by(Comment.id)))


def today(client: FlaskClient) -> str:
    answer = client.get(path("shadowing.today"))
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


# --- the happy path ------------------------------------------------------------------------


def test_the_agent_marks_an_observation_as_seen_once(client, auth, world, shared):
    auth.login(world.agent_alex)
    page = client.get(path("log.agent", agent_id=world.agent_alex.id)).get_data(as_text=True)
    assert "Mark as seen" in page and "Reply or ask" in page
    first = post(client, shared, {"kind": "seen", "client_uuid": str(uuid.uuid4())})
    again = post(client, shared, {"kind": "seen", "client_uuid": str(uuid.uuid4())})
    assert first.status_code == again.status_code == 200
    assert [c.kind for c in comments()] == [CommentKind.SEEN]
    body = again.get_data(as_text=True)
    assert "Seen" in body and "Mark as seen" not in body
    assert "HX-Request" in again.headers["Vary"]
    # A "seen" is not a reply waiting for the manager.
    auth.login(world.manager_maria)
    assert "Unread replies" not in today(client)


def test_a_question_reaches_todays_unread_replies_and_the_answer_reaches_the_agent(
    client, auth, world, shared, frozen_clock
):
    auth.login(world.agent_alex)
    asked = post(client, shared, message("question"))
    assert asked.status_code == 200
    body = asked.get_data(as_text=True)
    assert QUESTION in body and "Asks for clarification" in body and "Sent." in body

    frozen_clock.advance(hours=1)
    auth.login(world.manager_maria)
    page = today(client)
    assert "Unread replies" in page
    section = page[page.index("Unread replies") :]
    assert "Alex Adams" in section and "asks for clarification" in section
    assert "Confirms next steps" in section and QUESTION in section
    thread_url = path("threads.thread", observation_id=shared.id)
    assert f'href="{thread_url}"' in section

    # Opening the thread reads the question: it leaves Today, and Alex sees when it was read.
    thread = client.get(thread_url).get_data(as_text=True)
    assert "Ended the call without a recap." in thread and "Your answer" in thread
    assert "Unread replies" not in today(client)
    (question,) = comments()
    assert question.read_by_id == world.manager_maria.id
    assert question.read_at == frozen_clock.now()

    answered = post(client, shared, message("reply", "Say what happens next, then recap."))
    assert answered.status_code == 200
    auth.login(world.agent_alex)
    log = client.get(path("log.agent", agent_id=world.agent_alex.id)).get_data(as_text=True)
    assert "Say what happens next, then recap." in log
    assert "read today, 11:00" in log  # the question, read by Maria
    answer = comments()[1]
    assert answer.author_id == world.manager_maria.id and answer.read_at is not None


def test_a_plain_form_goes_to_the_thread_page(client, auth, world, shared):
    auth.login(world.agent_alex)
    answer = post(client, shared, message(), htmx=False)
    assert answer.status_code == 303
    assert answer.headers["Location"] == path("threads.thread", observation_id=shared.id)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "<h1>About this observation</h1>" in page and QUESTION in page


def test_a_double_tap_sends_one_message(client, auth, world, shared):
    auth.login(world.agent_alex)
    data = message()
    assert post(client, shared, data).status_code == 200
    assert post(client, shared, data).status_code == 200
    assert len(comments()) == 1


def test_only_managers_of_the_agents_team_see_the_unread_reply(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message())
    auth.login(world.manager_mo)
    assert "Unread replies" not in today(client)
    auth.login(world.manager_maria)
    assert "Unread replies" in today(client)


def test_a_trainer_reads_along_without_taking_the_unread_mark(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message())
    auth.login(world.trainer_tara)
    page = client.get(path("threads.thread", observation_id=shared.id))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and QUESTION in body
    assert "<textarea" not in body
    assert comments()[0].read_at is None
    assert post(client, shared, message()).status_code == 404
    viewed = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.details == "thread"))
    assert viewed is not None and viewed.actor_id == world.trainer_tara.id


# --- once read, it stays -------------------------------------------------------------------


def test_a_message_can_be_changed_or_taken_back_until_it_is_read(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message(body="Frist draft"))
    post(client, shared, message(body="Never mind"))
    first, second = comments()
    changed = client.post(
        path("threads.edit_comment", comment_id=first.id),
        data={"body": "First draft"},
        headers=HTMX,
    )
    assert changed.status_code == 200 and "First draft" in changed.get_data(as_text=True)
    removed = client.post(path("threads.remove_comment", comment_id=second.id), headers=HTMX)
    assert removed.status_code == 200 and "Never mind" not in removed.get_data(as_text=True)
    (kept,) = comments()
    assert kept.body == "First draft" and kept.updated_at is not None


def test_a_read_message_can_be_neither_changed_nor_taken_back(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message(body="Is this about every call?"))
    (mine,) = comments()
    auth.login(world.manager_maria)
    client.get(path("threads.thread", observation_id=shared.id))
    auth.login(world.agent_alex)

    edit = client.post(
        path("threads.edit_comment", comment_id=mine.id),
        data={"body": "Rewritten after it was read"},
        headers=HTMX,
    )
    assert edit.status_code == 409
    body = edit.get_data(as_text=True)
    assert "This message has already been read, so it stays as it is" in body
    assert "Rewritten after it was read" in body  # the typing is not lost
    gone = client.post(path("threads.remove_comment", comment_id=mine.id), headers=HTMX)
    assert gone.status_code == 409
    assert [c.body for c in comments()] == ["Is this about every call?"]
    # Nothing offers to change it any more.
    page = client.get(path("threads.thread", observation_id=shared.id)).get_data(as_text=True)
    assert "Change or take back" not in page


def test_the_manager_cannot_change_an_answer_the_agent_has_read(client, auth, world, shared):
    auth.login(world.manager_maria)
    post(client, shared, message(body="Recap, then say goodbye."))
    (answer,) = comments()
    auth.login(world.agent_alex)
    client.get(path("log.agent", agent_id=world.agent_alex.id))
    auth.login(world.manager_maria)
    refused = client.post(
        path("threads.edit_comment", comment_id=answer.id), data={"body": "Changed"}
    )
    assert refused.status_code == 409
    assert comments()[0].body == "Recap, then say goodbye."


def test_nobody_changes_someone_elses_message(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message())
    (mine,) = comments()
    auth.login(world.manager_maria)
    edit = path("threads.edit_comment", comment_id=mine.id)
    assert client.post(edit, data={"body": "Changed"}).status_code == 404
    assert client.post(path("threads.remove_comment", comment_id=mine.id)).status_code == 404
    assert comments()[0].body == QUESTION


# --- bad input: a clear message, nothing lost, never a 500 ---------------------------------


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (message(body="   "), "Write your message first."),
        (message(body="x" * 4001), "Keep your message under 4000 characters."),
        (message(kind="praise"), "Choose whether to reply or to ask."),
        (
            {"kind": "reply", "body": "No id", "client_uuid": "not-a-uuid"},
            "This form had expired. Your message is kept: send it again.",
        ),
    ],
    ids=["empty", "too-long", "unknown-kind", "bad-uuid"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_bad_reply_is_refused_with_the_typing_kept(client, auth, world, shared, data, says, htmx):
    auth.login(world.agent_alex)
    answer = post(client, shared, data, htmx=htmx)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert says in body
    if data["body"].strip():
        assert data["body"] in body
    assert comments() == []


def test_a_reply_of_exactly_4000_characters_is_kept(client, auth, world, shared):
    auth.login(world.agent_alex)
    assert post(client, shared, message(body="y" * 4000)).status_code == 200
    assert len(comments()[0].body) == 4000


def test_an_empty_change_is_refused_and_the_message_kept(client, auth, world, shared):
    auth.login(world.agent_alex)
    post(client, shared, message())
    (mine,) = comments()
    answer = client.post(
        path("threads.edit_comment", comment_id=mine.id), data={"body": " "}, headers=HTMX
    )
    assert answer.status_code == 422
    assert "To take it back, use" in answer.get_data(as_text=True)
    assert comments()[0].body == QUESTION


@pytest.mark.parametrize("kind", ["question", "seen"])
def test_a_manager_answers_but_does_not_ask_or_mark_seen(client, auth, world, shared, kind):
    auth.login(world.manager_maria)
    answer = post(client, shared, message(kind=kind))
    assert answer.status_code == 422
    assert "Only the agent can" in answer.get_data(as_text=True)
    assert QUESTION in answer.get_data(as_text=True)
    assert comments() == []


def test_replying_to_someone_elses_observation_is_404(client, auth, world, frozen_clock):
    bos = observe(
        ended_session(world, frozen_clock, agent=world.agent_bo, manager=world.manager_mo),
        frozen_clock,
    )
    auth.login(world.agent_alex)
    assert post(client, bos, message()).status_code == 404
    assert client.get(path("threads.thread", observation_id=bos.id)).status_code == 404
    auth.login(world.manager_maria)
    assert post(client, bos, message()).status_code == 404
    assert comments() == []


def test_an_observation_in_a_running_session_has_no_thread_yet(client, auth, world):
    running = make_observation(make_session(world.manager_maria, world.agent_alex))
    auth.login(world.agent_alex)
    assert post(client, running, message()).status_code == 404
    assert client.get(path("threads.thread", observation_id=running.id)).status_code == 404


def test_an_unknown_observation_or_message_is_404(client, auth, world):
    auth.login(world.agent_alex)
    assert (
        client.post(
            path("threads.post_comment", observation_id=999_999), data=message()
        ).status_code
        == 404
    )
    assert client.post(path("threads.edit_comment", comment_id=999_999)).status_code == 404
    assert client.post(path("threads.remove_comment", comment_id=999_999)).status_code == 404


def test_what_people_write_in_a_thread_is_shown_as_text(client, auth, world, shared):
    typed = '<script>alert("x")</script>'
    auth.login(world.agent_alex)
    body = post(client, shared, message(body=typed)).get_data(as_text=True)
    assert typed not in body and "&lt;script&gt;" in body

"""Self-checks before a re-observation (and how they compare with it), and the monthly
self-assessment beside what was observed."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from coachapp.extensions import db
from coachapp.followups.service import current_ladder, withdraw_correction
from coachapp.models import (
    AuditEvent,
    FocusItem,
    ObservationKind,
    SelfAssessment,
    SelfCheck,
)
from coachapp.scheduling import CLOSED, Outcome
from tests.conftest import make_observation, make_session
from tests.test_agent_log import HTMX, correction, ended_session, observe, path


def self_check(client: FlaskClient, item: FocusItem, htmx: bool = True, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        path("selfcheck.save_self_check", item_id=item.id),
        data=data,
        headers=HTMX if htmx else {},
    )


def self_checks() -> list[SelfCheck]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SelfCheck).order_by(SelfCheck.id)))


def record(client: FlaskClient, item: FocusItem, outcome: str):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    pending = db.session.get(FocusItem, item.id).pending
    return client.post(
        path("followups.record", followup_id=pending.id),
        data={"outcome": outcome, "client_uuid": str(uuid.uuid4())},
        headers=HTMX,
    )


@pytest.fixture
def item(world, frozen_clock) -> FocusItem:  # type: ignore[no-untyped-def]
    """Alex's open focus item on "Greets by name", due in two days."""
    return correction(world, frozen_clock)[1]


# --- the self-check ------------------------------------------------------------------------


def test_the_agent_rates_themselves_before_the_next_check(client, auth, world, item):
    auth.login(world.agent_alex)
    answer = self_check(client, item, rating="partly", note="Most calls, not the long ones.")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Saved. Your manager sees it beside the next check." in body
    assert "HX-Request" in answer.headers["Vary"]
    (check,) = self_checks()
    assert (check.rating.value, check.note) == ("partly", "Most calls, not the long ones.")
    assert check.followup_id == item.pending.id and check.agent_id == world.agent_alex.id


def test_a_self_check_can_be_changed_until_the_check_is_recorded(client, auth, world, item):
    auth.login(world.agent_alex)
    self_check(client, item, rating="sustained")
    self_check(client, item, rating="slipped", note="Thought again: I forgot twice.")
    (check,) = self_checks()
    assert check.rating.value == "slipped" and check.updated_at is not None


def test_the_manager_sees_it_beside_the_re_observation(client, auth, world, item, frozen_clock):
    auth.login(world.agent_alex)
    self_check(client, item, rating="partly", note="Most calls.")
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    card = client.get(path("followups.check", followup_id=item.pending.id)).get_data(as_text=True)
    assert "Alex's self-check:" in card and ">Partly</span>" in card and "Most calls." in card
    shadowing = make_session(world.manager_maria, world.agent_alex)
    screen = client.get(path("shadowing.session", session_id=shadowing.id)).get_data(as_text=True)
    assert "Alex's self-check:" in screen


@pytest.mark.parametrize(
    ("rating", "outcome", "difference", "says"),
    [
        ("partly", "sustained", -1, "Alex saw it going less well than was observed."),
        ("sustained", "slipped", 2, "Alex saw it going better than was observed."),
        ("partly", "partly", 0, "The same as was observed."),
        ("sustained", "no_chance", None, None),
    ],
)
def test_recording_the_check_stores_the_difference(
    client, auth, world, item, frozen_clock, rating, outcome, difference, says
):
    auth.login(world.agent_alex)
    self_check(client, item, rating=rating)
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    answer = record(client, item, outcome)
    assert answer.status_code == 200
    (check,) = self_checks()
    assert check.observed_outcome == Outcome(outcome)
    assert check.difference == difference
    if says:
        assert says in answer.get_data(as_text=True)


def test_a_recorded_check_locks_its_self_check_and_the_next_one_starts_fresh(
    client, auth, world, item, frozen_clock
):
    auth.login(world.agent_alex)
    self_check(client, item, rating="sustained")
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    record(client, item, "sustained")
    auth.login(world.agent_alex)
    page = client.get(path("log.focus_items", agent_id=world.agent_alex.id)).get_data(as_text=True)
    assert "self-check: Sustained" in page  # in the history, beside the check
    self_check(client, item, rating="partly")
    first, second = self_checks()
    assert first.rating.value == "sustained" and first.observed_outcome == Outcome.SUSTAINED
    assert second.rating.value == "partly" and second.followup_id != first.followup_id


def test_a_slip_logged_while_shadowing_is_compared_too_and_undone_with_it(
    client, auth, world, item, frozen_clock
):
    auth.login(world.agent_alex)
    self_check(client, item, rating="sustained")
    frozen_clock.advance(days=1)
    shadow = make_session(world.manager_maria, world.agent_alex)
    slip = make_observation(
        shadow,
        kind=ObservationKind.CORRECTION,
        behaviour_id=world.behaviours[0].id,
        occurred_at=frozen_clock.now(),
    )
    from coachapp.followups.service import apply_correction

    apply_correction(slip, current_ladder())
    (check,) = self_checks()
    assert (check.observed_outcome, check.difference) == (Outcome.SLIPPED, 2)
    withdraw_correction(slip, current_ladder())
    (check,) = self_checks()
    assert (check.observed_outcome, check.difference) == (None, None)


def test_a_self_check_on_a_closed_item_is_refused_clearly(client, auth, world, item):
    db.session.execute(sa.update(FocusItem).values(status=CLOSED, due_on=None))
    for followup in list(item.followups):
        db.session.delete(followup)
    db.session.commit()
    auth.login(world.agent_alex)
    answer = self_check(client, item, rating="sustained", note="Kept note")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "This focus item is closed" in body
    assert self_checks() == []


def test_a_check_recorded_meanwhile_refuses_the_self_check_and_keeps_the_note(
    client, auth, world, item, frozen_clock
):
    seen_on_screen = item.pending.id
    frozen_clock.advance(days=2)
    auth.login(world.manager_maria)
    record(client, item, "sustained")
    auth.login(world.agent_alex)
    answer = self_check(
        client,
        item,
        rating="partly",
        note="Typed before it was recorded",
        followup_id=str(seen_on_screen),
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Your manager recorded this check a moment ago" in body
    assert "Typed before it was recorded" in body
    assert self_checks() == []


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"note": "Kept note"}, "Tap Sustained, Partly or Slipped."),
        ({"rating": "great", "note": "Kept note"}, "Tap Sustained, Partly or Slipped."),
        ({"rating": "partly", "note": "n" * 4001}, "Keep this under 4000 characters."),
    ],
    ids=["no-rating", "unknown-rating", "note-too-long"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_a_bad_self_check_is_refused_with_the_note_kept(
    client, auth, world, item, data, says, htmx
):
    auth.login(world.agent_alex)
    answer = self_check(client, item, htmx=htmx, **data)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert says in body and data["note"] in body
    assert self_checks() == []


def test_a_plain_self_check_goes_back_to_the_focus_items(client, auth, world, item):
    auth.login(world.agent_alex)
    answer = self_check(client, item, htmx=False, rating="partly")
    assert answer.status_code == 303
    assert answer.headers["Location"] == path(
        "log.focus_items", agent_id=world.agent_alex.id, _anchor=f"item-{item.id}"
    )


@pytest.mark.parametrize("who", ["agent_bo", "manager_maria", "trainer_tara"])
def test_a_self_check_on_someone_elses_item_is_404(client, auth, world, item, who):
    auth.login(getattr(world, who))
    assert self_check(client, item, rating="partly").status_code == 404
    assert self_checks() == []


def test_an_unknown_item_is_404(client, auth, world):
    auth.login(world.agent_alex)
    answer = client.post(
        path("selfcheck.save_self_check", item_id=999_999), data={"rating": "partly"}
    )
    assert answer.status_code == 404


# --- the self-assessment -------------------------------------------------------------------


def levels(world, level: str = "3", **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**{f"level-{b.id}": level for b in world.behaviours}, **extra}


def submit(client: FlaskClient, world, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path("selfcheck.submit_assessment", agent_id=world.agent_alex.id), data=data)


def assessments() -> list[SelfAssessment]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(SelfAssessment).order_by(SelfAssessment.id)))


def test_the_form_asks_about_every_behaviour_on_the_four_step_scale(
    client, auth, world, frozen_clock
):
    auth.login(world.agent_alex)
    page = client.get(path("selfcheck.assessments", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    assert "Fill in my self-assessment for March 2026" in page
    form = client.get(path("selfcheck.new_assessment", agent_id=world.agent_alex.id))
    body = form.get_data(as_text=True)
    assert form.status_code == 200
    assert "Contact-centre agent skills" in body
    for behaviour in world.behaviours:
        assert f'name="level-{behaviour.id}"' in body and behaviour.name in body
    for step in ("I need support", "I am getting there", "I do it on my own", "I can teach others"):
        assert step in body
    for question in (
        "Strengths I am proud of",
        "What I want to improve",
        "My goal for the next weeks",
    ):
        assert question in body


def test_a_self_assessment_is_shown_beside_what_was_observed(client, auth, world, frozen_clock):
    greets, confirms = world.behaviours
    shadow = ended_session(world, frozen_clock)
    observe(shadow, frozen_clock, behaviour_id=greets.id)
    observe(shadow, frozen_clock, behaviour_id=greets.id)
    correction(world, frozen_clock, behaviour_index=1)
    old = ended_session(world, frozen_clock)
    observe(
        old,
        frozen_clock,
        behaviour_id=greets.id,
        occurred_at=frozen_clock.now() - timedelta(days=120),
    )
    make_observation(make_session(world.manager_maria, world.agent_alex), behaviour_id=greets.id)

    auth.login(world.agent_alex)
    sent = submit(
        client,
        world,
        {
            f"level-{greets.id}": "4",
            f"level-{confirms.id}": "1",
            "proud_of": "I stay calm.",
            "want_to_improve": "The recap.",
            "goal": "Recap on every call for two weeks.",
        },
    )
    assert sent.status_code == 303
    (assessment,) = assessments()
    assert assessment.period == "2026-03"
    assert sent.headers["Location"] == path(
        "selfcheck.assessment", agent_id=world.agent_alex.id, assessment_id=assessment.id
    )
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "My self-assessment for March 2026" in page
    assert "from 1 Jan 2026 to 31 Mar 2026" in page
    competency = page[page.index("Contact-centre agent skills") :]
    # Two strengths this quarter (not the one from November, not the running session's).
    assert "2 strengths observed" in competency and "1 correction observed" in competency
    assert "1 open focus item" in competency
    greets_row = competency[
        competency.index("Greets by name") : competency.index("Confirms next steps")
    ]
    assert "I can teach others" in greets_row and "2 strengths" in greets_row
    confirms_row = competency[competency.index("Confirms next steps") :]
    assert "I need support" in confirms_row and "open focus item" in confirms_row
    assert "Recap on every call for two weeks." in page


def test_the_manager_of_the_team_sees_it_and_others_do_not(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    submit(client, world, levels(world))
    (assessment,) = assessments()
    url = path("selfcheck.assessment", agent_id=world.agent_alex.id, assessment_id=assessment.id)
    auth.login(world.manager_maria)
    page = client.get(url).get_data(as_text=True)
    assert "Self-assessment of Alex Adams for March 2026" in page and "Self-view:" in page
    listing = client.get(path("selfcheck.assessments", agent_id=world.agent_alex.id)).get_data(
        as_text=True
    )
    assert "March 2026" in listing and "Fill in" not in listing
    viewed = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "log.viewed")
    )
    assert set(viewed) == {"self-assessment", "self-assessments"}
    for outsider in (world.manager_mo, world.agent_bo, world.admin_ada):
        auth.login(outsider)
        assert client.get(url).status_code == 404
    # Bo's own page cannot be used to open Alex's assessment either.
    auth.login(world.agent_bo)
    other = path("selfcheck.assessment", agent_id=world.agent_bo.id, assessment_id=assessment.id)
    assert client.get(other).status_code == 404


def test_a_second_self_assessment_in_the_same_month_is_refused_with_nothing_lost(
    client, auth, world, frozen_clock
):
    auth.login(world.agent_alex)
    submit(client, world, levels(world, goal="First goal"))
    frozen_clock.advance(days=10)
    again = submit(client, world, levels(world, "1", goal="A second goal typed later"))
    body = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "You have already filled in your self-assessment for this month" in body
    assert "A second goal typed later" in body
    assert 'value="1" checked' in body
    assert "See the one you sent" in body
    (kept,) = assessments()
    assert kept.goal == "First goal" and {r.level for r in kept.ratings} == {3}
    # Opening the form again leads to the one already sent.
    opened = client.get(path("selfcheck.new_assessment", agent_id=world.agent_alex.id))
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/self-assessments/{kept.id}")


def test_next_month_opens_a_new_one(client, auth, world, frozen_clock):
    auth.login(world.agent_alex)
    submit(client, world, levels(world))
    frozen_clock.advance(days=30)  # 1 April
    assert submit(client, world, levels(world, "4")).status_code == 303
    assert [a.period for a in assessments()] == ["2026-03", "2026-04"]


@pytest.mark.parametrize(
    ("fill", "says"),
    [
        (lambda world: {"proud_of": "Kept words"}, "Choose one of the four steps."),
        (
            lambda world: levels(world, **{f"level-{world.behaviours[0].id}": "7"}),
            "Choose one of the four steps.",
        ),
        (lambda world: levels(world, goal="g" * 4001), "Keep this under 4000 characters."),
    ],
    ids=["no-levels", "level-out-of-range", "goal-too-long"],
)
def test_a_bad_self_assessment_is_refused_with_the_typing_kept(
    client, auth, world, frozen_clock, fill, says
):
    auth.login(world.agent_alex)
    data = fill(world)
    answer = submit(client, world, data)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert says in body
    for typed in ("Kept words", "g" * 4001):
        if typed in data.values():
            assert typed in body
    assert assessments() == []


@pytest.mark.parametrize("who", ["manager_maria", "trainer_tara", "agent_bo"])
def test_only_the_agent_fills_in_their_self_assessment(client, auth, world, frozen_clock, who):
    auth.login(getattr(world, who))
    assert (
        client.get(path("selfcheck.new_assessment", agent_id=world.agent_alex.id)).status_code
        == 404
    )
    assert submit(client, world, levels(world)).status_code == 404
    assert assessments() == []


def test_an_agent_without_a_role_profile_is_told_why(client, auth, world, frozen_clock):
    world.agent_alex.role_profile = None
    db.session.commit()
    auth.login(world.agent_alex)
    page = client.get(path("selfcheck.new_assessment", agent_id=world.agent_alex.id))
    assert "You have no role profile yet" in page.get_data(as_text=True)
    answer = submit(client, world, {})
    assert answer.status_code == 409
    assert assessments() == []

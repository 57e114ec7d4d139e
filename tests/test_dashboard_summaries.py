"""The dashboard's summary rows (coachapp.dashboard.summaries) equal a recomputation from the
checks after every kind of write: an outcome recorded, a replayed outcome, a slip recorded by a
correction, an item opened by a correction, an item closed by graduation, a correction
withdrawn, a change of the working days, an agent moving team."""

import uuid
from datetime import UTC, date, datetime, time

import sqlalchemy as sa

from coachapp import clock, scheduling
from coachapp.dashboard import summaries
from coachapp.dashboard.models import CheckDay, CountedCheck, ItemSummary
from coachapp.extensions import db
from coachapp.followups import service as followups
from coachapp.followups.service import current_ladder
from coachapp.models import FocusItem, FollowUp, ObservationKind, User
from coachapp.scheduling import Outcome
from tests.conftest import FrozenClock, World, make_observation, make_session
from tests.test_admin_settings import ORG
from tests.test_followups import correct


def assert_summaries_exact() -> None:
    db.session.flush()
    assert summaries.stored() == summaries.expected()


def record(world: World, item: FocusItem, outcome: Outcome, on: date,
           key: uuid.UUID | None = None) -> FollowUp:  # fmt: skip
    followup = item.pending
    assert followup is not None
    recorded, _created = followups.record_outcome(
        followup=followup,
        author=world.manager_maria,
        entry=followups.OutcomeInput(
            outcome=outcome, observed_on=on, note="", coached="", client_uuid=key or uuid.uuid4()
        ),  # fmt: skip
        ladder=current_ladder(),
        today=on,
        now=datetime.combine(on, time(12), tzinfo=UTC),
    )
    return recorded


def test_every_write_keeps_the_summary_rows_exact(
    client, auth, world: World, frozen_clock: FrozenClock
) -> None:
    # An item opened by a correction: only its pending check, nothing counted yet.
    item = correct(world, frozen_clock)
    other = correct(world, frozen_clock, behaviour_index=1, agent=world.agent_bo,
                    manager=world.manager_mo)  # fmt: skip
    assert_summaries_exact()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CountedCheck)) == 0

    # Outcomes recorded, on time and late; a replay of the same tap changes nothing.
    frozen_clock.advance(days=2)
    key = uuid.uuid4()
    record(world, item, Outcome.SUSTAINED, clock.today(), key)
    assert_summaries_exact()
    before = summaries.stored()
    record_again = followups.record_outcome(
        followup=item.followups[0],
        author=world.manager_maria,
        entry=followups.OutcomeInput(
            outcome=Outcome.SUSTAINED,
            observed_on=clock.today(),
            note="",
            coached="",
            client_uuid=key,
        ),  # fmt: skip
        ladder=current_ladder(),
        today=clock.today(),
        now=frozen_clock.now(),
    )
    assert record_again.followup.id == item.followups[0].id and not record_again.created
    assert summaries.stored() == before
    frozen_clock.advance(days=9)
    record(world, other, Outcome.NO_CHANCE, clock.today())
    assert_summaries_exact()

    # A slip recorded by a correction during shadowing, then that correction withdrawn.
    shadow = make_session(world.manager_maria, world.agent_alex)
    slip = make_observation(shadow, kind=ObservationKind.CORRECTION,
                            behaviour_id=world.behaviours[0].id, note="Again.",
                            occurred_at=frozen_clock.now())  # fmt: skip
    followups.apply_correction(slip, current_ladder())
    assert_summaries_exact()
    assert db.session.get(FocusItem, item.id).lapses == 1  # type: ignore[union-attr]
    followups.withdraw_correction(slip, current_ladder())
    assert_summaries_exact()

    # A correction that opened an item, withdrawn before any check: the item goes.
    opening = make_observation(shadow, kind=ObservationKind.CORRECTION,
                               behaviour_id=world.behaviours[1].id, note="New.",
                               occurred_at=frozen_clock.now())  # fmt: skip
    opened = followups.apply_correction(opening, current_ladder())
    assert opened is not None
    followups.withdraw_correction(opening, current_ladder())
    assert_summaries_exact()

    # Up the ladder until the item graduates (closed): every check counted, S56 included.
    while item.status != scheduling.CLOSED:
        pending = item.pending
        assert pending is not None
        frozen_clock.advance(days=max(0, (pending.due_on - clock.today()).days + 1))
        record(world, item, Outcome.SUSTAINED, clock.today())
        assert_summaries_exact()
    summary = db.session.get(ItemSummary, item.id)
    assert summary is not None and summary.s56_key is not None and summary.slips == 0

    # Bo moves to Alex's team: his checks' counts move with him.
    bo = db.session.get(User, world.agent_bo.id)
    assert bo is not None
    teams_before = set(db.session.scalars(sa.select(CheckDay.team_id).where(CheckDay.done > 0)))
    bo.team_id = world.team_a.id
    assert_summaries_exact()
    assert set(db.session.scalars(
        sa.select(CheckDay.team_id).where(CheckDay.done > 0))) == {world.team_a.id}  # fmt: skip
    assert teams_before == {world.team_a.id, world.team_b.id}
    db.session.commit()

    # The working days change in the settings: every on-time window is worked out again.
    windows = sorted(db.session.scalars(sa.select(CountedCheck.closes_on)))
    auth.login(world.admin_ada)
    response = client.post(
        "/admin/settings",
        data={**ORG, "gaps": "2, 5, 7, 14, 28, 56", "working_days": ["0", "2", "4"]},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert current_ladder().working_days == frozenset({0, 2, 4})
    assert_summaries_exact()
    assert sorted(db.session.scalars(sa.select(CountedCheck.closes_on))) != windows


def test_rebuild_fills_what_the_write_path_keeps(world: World, frozen_clock: FrozenClock) -> None:
    """The bulk path (migration, benchmark, settings) stores what the writes stored."""
    item = correct(world, frozen_clock)
    for outcome in (Outcome.SLIPPED, Outcome.PARTLY, Outcome.SUSTAINED):
        pending = item.pending
        assert pending is not None
        frozen_clock.advance(days=(pending.due_on - clock.today()).days + 3)
        record(world, item, outcome, clock.today())
    kept = summaries.stored()
    assert kept == summaries.expected() and kept["counted_check"]
    summaries.rebuild()
    assert summaries.stored() == kept
    # Three days after their due dates: some checks were done after their window closed.
    assert db.session.scalar(sa.select(sa.func.sum(CheckDay.late_done)))

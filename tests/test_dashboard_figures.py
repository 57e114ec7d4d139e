"""The dashboard's figures aggregated in SQL (coachapp.dashboard.figures) equal coachapp.metrics
over the items' full records: random items and checks, odd gaps, working days other than the
default, every filter, three periods, a trainer and a manager, on SQLite and PostgreSQL."""

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from coachapp import clock
from coachapp.dashboard import figures, service, summaries
from coachapp.extensions import db
from coachapp.followups.service import current_ladder
from coachapp.metrics import CheckRecord, ItemRecord
from coachapp.models import (
    Behaviour,
    FocusItem,
    FollowUp,
    Organisation,
    SelfCheck,
    SelfRating,
    User,
)
from coachapp.scheduling import CLOSED, Outcome
from tests.conftest import FrozenClock, World

GAPS = (1, 2, 3, 5, 7, 11, 14, 28, 40, 56, 90)
OUTCOMES = (Outcome.SUSTAINED, Outcome.PARTLY, Outcome.SLIPPED, Outcome.NO_CHANCE)


def seed(world: World, rng: random.Random, today: date) -> None:
    competencies = world.profile.competencies
    made = []
    for index in range(24):
        behaviour = Behaviour(name=f"Random {index}", position=40 + index)
        competencies[index % len(competencies)].behaviours.append(behaviour)
        made.append(behaviour)
    db.session.flush()
    agents = [(world.agent_alex, world.manager_maria), (world.agent_bo, world.manager_mo)]
    for agent, manager in agents:
        for behaviour in made + [b for b in world.behaviours]:
            for closed in (True, False):
                if rng.random() < 0.25:
                    continue
                opened = today - timedelta(days=rng.randint(0, 420))
                item = FocusItem(
                    agent_id=agent.id,
                    behaviour_id=behaviour.id,
                    opened_by_id=manager.id,
                    opened_on=opened,
                    last_coached_on=opened,
                    status=CLOSED if closed else "active",
                )
                day, slips = opened, 0
                for sequence in range(1, rng.randint(1, 9) + 1):
                    gap = rng.choice(GAPS)
                    due = day + timedelta(days=gap)
                    done: date | None = due + timedelta(days=rng.randint(-6, 14))
                    outcome: Outcome | None = rng.choice(OUTCOMES)
                    if done > today or (not closed and rng.random() < 0.2):  # type: ignore[operator]
                        done, outcome = None, None
                    check = FollowUp(sequence=sequence, due_on=due, gap=gap, level=0,
                                     observed_on=done, outcome=outcome)  # fmt: skip
                    item.followups.append(check)
                    if outcome == Outcome.SLIPPED:
                        slips += 1
                    if done is None:
                        break
                    day = max(done, opened)  # now and then a check is done before its item
                item.lapses = slips
                item.escalated = slips >= 3
                db.session.add(item)
                db.session.flush()
                for check in item.followups:
                    if check.outcome is not None and rng.random() < 0.3:
                        db.session.add(
                            SelfCheck(
                                followup_id=check.id,
                                focus_item_id=item.id,
                                agent_id=agent.id,
                                rating=rng.choice(list(SelfRating)),
                            )
                        )
    # Stored straight into the tables: their summary rows are filled the way a migration does.
    summaries.rebuild()
    db.session.commit()


def reference(viewer: User, filters: service.Filters, options: service.Options) -> service.Data:
    """Every item in scope with its full record: what coachapp.metrics defines the figures on."""
    rows = db.session.execute(
        service._joined(
            sa.select(FocusItem, User.name, User.team_id, Behaviour.competency_id).select_from(
                FocusItem
            )
        ).where(*service._item_filter(viewer, filters))
    ).all()
    items = []
    for item, name, team_id, competency_id in rows:
        checks = []
        for f in sorted(item.followups, key=lambda f: f.sequence):
            rating = f.self_check.rating if f.self_check is not None else None
            done = f.observed_on if f.outcome is not None else None
            checks.append(
                CheckRecord(due_on=f.due_on, gap=f.gap, done_on=done, outcome=f.outcome,
                            self_rating=Outcome(rating) if rating is not None else None)
            )  # fmt: skip
        dates = [c.done_on for c in checks if c.done_on is not None]
        closed_on = max(dates) if item.status == CLOSED and dates else None
        record = ItemRecord(opened_on=item.opened_on, checks=tuple(checks), closed_on=closed_on)
        items.append(
            service.Item(id=item.id, agent_id=item.agent_id, agent_name=name, team_id=team_id,
                         behaviour_id=item.behaviour_id, competency_id=competency_id,
                         status=item.status, record=record)
        )  # fmt: skip
    waiting, now, before = service._obstacles(viewer, filters, service.Periods.ending(
        clock.today(), filters.period))  # fmt: skip
    return service.Data(items=items, options=options, obstacles_waiting=waiting,
                        obstacles_raised=(now, before))  # fmt: skip


def tile_values(tiles: list[service.Tile]) -> list[tuple[object, ...]]:
    return [(t.key, t.value, t.previous, t.n, t.previous_n, t.detail) for t in tiles]


@pytest.mark.parametrize("working_days", ["0,1,2,3,4", "1,3,5", "0,1,2,3,4,5,6"])
def test_the_sql_figures_equal_the_metrics_on_full_records(
    app: object, world: World, frozen_clock: FrozenClock, working_days: str
) -> None:
    org = db.session.scalar(sa.select(Organisation))
    assert org is not None
    org.working_days = working_days
    db.session.commit()
    seed(world, random.Random(working_days), clock.today())
    ladder = current_ladder()
    b0, competency = world.behaviours[0].id, world.profile.competencies[0].id
    cases = [
        (world.trainer_tara, {}),
        (world.trainer_tara, {"period": "28"}),
        (world.trainer_tara, {"period": "364"}),
        (world.trainer_tara, {"team": str(world.team_b.id)}),
        (world.trainer_tara, {"manager": str(world.manager_maria.id)}),
        (world.trainer_tara, {"profile": str(world.profile.id), "period": "182"}),
        (world.trainer_tara, {"competency": str(competency)}),
        (world.trainer_tara, {"behaviour": str(b0)}),
        (world.manager_maria, {}),
    ]
    compared = 0
    for viewer, args in cases:
        options = service.options_for(viewer)
        filters = service.Filters.from_args(args, options)
        periods = service.Periods.ending(clock.today(), filters.period)
        fast = figures.figures(viewer, filters, options, periods, ladder)
        data = reference(viewer, filters, options)
        assert tile_values(fast.tiles) == tile_values(service.tiles(data, ladder, periods)), args
        assert fast.curve == service.curve(data, periods), args
        assert fast.by_manager == service.on_time_by(data, ladder, periods, "manager"), args
        assert fast.by_team == service.on_time_by(data, ladder, periods, "team"), args
        assert fast.by_competency == service.relapse_by(data, periods, "competency"), args
        assert fast.by_behaviour == service.relapse_by(data, periods, "behaviour"), args
        assert fast.load == service.forward_load(data, periods.end)[0], args
        assert fast.more == service.more_figures(data, periods), args
        assert fast.obstacles_raised == data.obstacles_raised
        compared += len(data.items)
    # The data is not trivial: every case has items, and many checks are counted.
    assert compared > 300
    tiles = dict((t.key, t) for t in fast.tiles)
    assert tiles["on_time"].n and tiles["r28"].n and tiles["backlog"].value

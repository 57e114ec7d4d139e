"""Tests for the follow-up ladder (DESIGN §5): named cases on plain dates, then properties."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachapp.scheduling import (
    ACTIVE,
    CLOSED,
    CLOSED_AFTER_DAYS,
    ESCALATION_LAPSES,
    GRADUATION_STREAK,
    RECHECK_DAYS,
    SUSTAINED,
    SUSTAINED_AFTER_DAYS,
    InvalidLadder,
    ItemClosed,
    ItemState,
    Ladder,
    ObservedBeforeOpening,
    Outcome,
    SchedulingError,
    advance,
    on_time,
    open_item,
    replay,
)

# January 2024 starts on a Monday, so weekdays are easy to check by eye.
MON = date(2024, 1, 1)
WED = date(2024, 1, 3)
THU = date(2024, 1, 4)
FRI = date(2024, 1, 5)
SAT = date(2024, 1, 6)
SUN = date(2024, 1, 7)
NEXT_MON = date(2024, 1, 8)

LADDER = Ladder()


def day(n: int, start: date = MON) -> date:
    return start + timedelta(days=n)


def make_state(**overrides) -> ItemState:
    """An active item opened on MON at level 0, with any fields overridden."""
    fields = {
        "level": 0,
        "resume_level": None,
        "streak": 0,
        "lapses": 0,
        "last_coached_on": MON,
        "opened_on": MON,
        "status": ACTIVE,
        "escalated": False,
        "due_on": WED,
        "due_gap": 2,
    }
    fields.update(overrides)
    return ItemState(**fields)


def test_constants_match_the_spec():
    assert LADDER.gaps == (2, 5, 7, 14, 28, 56)
    assert LADDER.working_days == frozenset({0, 1, 2, 3, 4})
    assert LADDER.top_level == 5
    assert (ESCALATION_LAPSES, SUSTAINED_AFTER_DAYS, CLOSED_AFTER_DAYS) == (3, 56, 112)
    assert GRADUATION_STREAK == 3
    assert RECHECK_DAYS == 2


# Opening


def test_opening_on_a_monday_is_due_on_day_two():
    state = open_item(LADDER, MON)
    assert state == make_state()
    assert state.step == 1


def test_opening_on_a_friday_moves_day_two_from_sunday_to_monday():
    state = open_item(LADDER, FRI)
    assert day(2, FRI) == SUN
    assert state.due_on == NEXT_MON
    assert state.due_gap == 2
    assert state.last_coached_on == FRI
    assert state.opened_on == FRI
    assert (state.level, state.streak, state.lapses, state.status) == (0, 0, 0, ACTIVE)


def test_opening_on_a_weekend_is_allowed():
    assert open_item(LADDER, SAT).due_on == NEXT_MON


# The path where every check goes well


def test_all_sustained_from_a_monday_checks_on_days_2_7_14_28_56_112():
    state = open_item(LADDER, MON)
    checks = []
    while state.due_on is not None:
        checks.append(state.due_on)
        state = advance(LADDER, state, Outcome.SUSTAINED, state.due_on)
    assert checks == [day(n) for n in (2, 7, 14, 28, 56, 112)]
    assert all(d.weekday() < 5 for d in checks)
    assert state.status == CLOSED
    assert state.streak == 6
    assert state.level == LADDER.top_level


def test_all_sustained_path_statuses_and_levels():
    state = open_item(LADDER, MON)
    seen = []
    while state.status != CLOSED:
        state = advance(LADDER, state, Outcome.SUSTAINED, state.due_on)
        seen.append((state.level, state.status, state.due_gap))
    assert seen == [
        (1, ACTIVE, 5),
        (2, ACTIVE, 7),
        (3, ACTIVE, 14),  # streak 3, but only 14 days since coaching
        (4, ACTIVE, 28),
        (5, SUSTAINED, 56),  # day 56: streak 5, 56 days
        (5, CLOSED, None),  # day 112
    ]


def test_all_sustained_from_a_thursday_with_weekend_moves():
    state = open_item(LADDER, THU)
    checks = []
    for _ in range(3):
        checks.append(state.due_on)
        state = advance(LADDER, state, Outcome.SUSTAINED, state.due_on)
    checks.append(state.due_on)
    # Thu + 2 = Sat -> Mon 8th; Mon 8th + 5 = Sat -> Mon 15th; + 7 = Mon 22nd; + 14 = Mon 5 Feb.
    assert checks == [NEXT_MON, date(2024, 1, 15), date(2024, 1, 22), date(2024, 2, 5)]


def test_next_due_counts_from_the_observation_not_the_old_due_date():
    state = open_item(LADDER, MON)
    assert state.due_on == WED
    late = advance(LADDER, state, Outcome.SUSTAINED, THU)
    assert late.due_on == THU + timedelta(days=5)  # Tuesday 9th, not Monday 8th
    early = advance(LADDER, state, Outcome.SUSTAINED, date(2024, 1, 2))
    assert early.due_on == date(2024, 1, 8)  # Tuesday 2nd + 5 = Sunday -> Monday 8th


def test_sustained_at_the_top_level_stays_at_the_top():
    state = make_state(level=5, streak=0, last_coached_on=MON)
    after = advance(LADDER, state, Outcome.SUSTAINED, day(10))
    assert after.level == 5
    assert after.due_on == LADDER.next_working_day_on_or_after(day(10 + 56))


# Partly


def test_partly_without_resume_level_keeps_level_and_resets_streak():
    state = make_state(level=2, streak=2, due_on=day(14), due_gap=7)
    after = advance(LADDER, state, Outcome.PARTLY, day(14))
    assert after.level == 2
    assert after.streak == 0
    assert after.resume_level is None
    assert after.due_on == day(21)
    assert after.due_gap == 7
    assert after.lapses == 0
    assert after.last_coached_on == MON


def test_partly_with_resume_level_rechecks_in_two_days():
    state = make_state(level=0, resume_level=2, streak=0, lapses=1, last_coached_on=day(30))
    after = advance(LADDER, state, Outcome.PARTLY, day(31))  # Thursday 1 Feb
    assert after.level == 0
    assert after.resume_level == 2
    assert after.streak == 0
    assert after.due_on == day(35)  # Saturday 3 Feb -> Monday 5 Feb
    assert after.due_gap == RECHECK_DAYS


def test_partly_on_a_sustained_item_keeps_its_status():
    state = make_state(level=5, streak=4, status=SUSTAINED, due_on=day(60), due_gap=56)
    after = advance(LADDER, state, Outcome.PARTLY, day(60))
    assert after.status == SUSTAINED
    assert after.streak == 0


# Slipped


def test_slip_sets_resume_level_two_below_and_rechecks_in_two_days():
    state = make_state(level=4, streak=4, due_on=day(56), due_gap=28)
    after = advance(LADDER, state, Outcome.SLIPPED, day(56))
    assert after.level == 0
    assert after.resume_level == 2
    assert after.streak == 0
    assert after.lapses == 1
    assert after.last_coached_on == day(56)
    assert after.due_on == day(58)
    assert after.due_gap == RECHECK_DAYS
    assert after.status == ACTIVE
    assert after.escalated is False


@pytest.mark.parametrize(("level", "resume"), [(0, 0), (1, 0), (2, 0), (3, 1), (5, 3)])
def test_slip_resume_level_is_never_below_zero(level, resume):
    after = advance(LADDER, make_state(level=level), Outcome.SLIPPED, day(3))
    assert after.resume_level == resume


def test_slip_while_recovering_resets_resume_level_to_zero():
    state = make_state(level=0, resume_level=3, lapses=1, last_coached_on=day(40))
    after = advance(LADDER, state, Outcome.SLIPPED, day(42))
    assert after.resume_level == 0
    assert after.level == 0
    assert after.lapses == 2


def test_slip_on_friday_rechecks_on_monday():
    after = advance(LADDER, make_state(level=3), Outcome.SLIPPED, FRI)
    assert after.due_on == NEXT_MON


def test_sustained_after_a_slip_jumps_back_to_the_resume_level():
    state = replay(LADDER, MON, [(Outcome.SUSTAINED, day(n)) for n in (2, 7, 14, 28)])
    assert state.level == 4
    state = advance(LADDER, state, Outcome.SLIPPED, day(56))
    assert (state.level, state.resume_level) == (0, 2)
    state = advance(LADDER, state, Outcome.SUSTAINED, day(58))
    assert state.level == 2
    assert state.resume_level is None
    assert state.streak == 1
    assert state.due_on == day(65)
    assert state.due_gap == 7


def test_sustained_with_resume_level_zero_stays_at_level_zero():
    state = make_state(level=0, resume_level=0, lapses=1, last_coached_on=day(3))
    after = advance(LADDER, state, Outcome.SUSTAINED, day(7))
    assert after.level == 0
    assert after.resume_level is None
    assert after.due_on == day(9)
    assert advance(LADDER, after, Outcome.SUSTAINED, day(9)).level == 1


# No chance


def test_no_chance_moves_to_the_next_working_day_and_changes_nothing_else():
    state = make_state(level=3, resume_level=1, streak=2, lapses=1, due_on=day(30), due_gap=14)
    after = advance(LADDER, state, Outcome.NO_CHANCE, day(30))  # Wednesday 31 Jan
    assert after == replace(state, due_on=day(31), due_gap=1)


def test_no_chance_on_a_friday_moves_to_monday():
    after = advance(LADDER, make_state(due_on=FRI), Outcome.NO_CHANCE, FRI)
    assert after.due_on == NEXT_MON


def test_no_chance_keeps_a_sustained_status():
    state = make_state(level=5, streak=5, status=SUSTAINED, due_on=day(60), due_gap=56)
    assert advance(LADDER, state, Outcome.NO_CHANCE, day(60)).status == SUSTAINED


# Escalation


def test_escalation_at_three_lapses_while_scheduling_continues():
    state = open_item(LADDER, MON)
    state = advance(LADDER, state, Outcome.SLIPPED, day(2))
    state = advance(LADDER, state, Outcome.SLIPPED, day(4))
    assert state.lapses == 2
    assert state.escalated is False
    state = advance(LADDER, state, Outcome.SLIPPED, day(7))
    assert state.lapses == ESCALATION_LAPSES
    assert state.escalated is True
    assert state.status == ACTIVE
    assert state.due_on == day(9)
    state = advance(LADDER, state, Outcome.SUSTAINED, day(9))
    assert state.escalated is True
    assert state.due_on == day(11)


# Graduation and closing


def test_graduates_to_sustained_with_streak_three_and_56_days_since_coaching():
    state = make_state(level=3, streak=2, due_on=day(56), due_gap=14)
    after = advance(LADDER, state, Outcome.SUSTAINED, day(56))
    assert after.status == SUSTAINED
    assert after.streak == 3
    assert after.due_on == day(56 + 28)


def test_no_graduation_one_day_short_of_56():
    state = make_state(level=3, streak=5, due_on=day(55), due_gap=14)
    assert advance(LADDER, state, Outcome.SUSTAINED, day(55)).status == ACTIVE


def test_no_graduation_with_streak_below_three():
    state = make_state(level=3, streak=1, due_on=day(80), due_gap=14)
    assert advance(LADDER, state, Outcome.SUSTAINED, day(80)).status == ACTIVE


def test_days_since_coaching_count_from_the_last_slip_not_the_opening():
    state = make_state(level=3, streak=4, lapses=1, last_coached_on=day(20), due_on=day(75))
    assert advance(LADDER, state, Outcome.SUSTAINED, day(75)).status == ACTIVE
    assert advance(LADDER, state, Outcome.SUSTAINED, day(76)).status == SUSTAINED


def test_closes_with_streak_three_and_112_days_since_coaching():
    state = make_state(level=5, streak=2, status=SUSTAINED, due_on=day(112), due_gap=56)
    after = advance(LADDER, state, Outcome.SUSTAINED, day(112))
    assert after.status == CLOSED
    assert after.due_on is None
    assert after.due_gap is None
    assert after.streak == 3


def test_does_not_close_one_day_short_of_112():
    state = make_state(level=5, streak=2, due_on=day(111), due_gap=56)
    after = advance(LADDER, state, Outcome.SUSTAINED, day(111))
    assert after.status == SUSTAINED
    assert after.due_on is not None


def test_partly_late_does_not_close_the_item():
    state = make_state(level=5, streak=5, status=SUSTAINED, due_on=day(120), due_gap=56)
    after = advance(LADDER, state, Outcome.PARTLY, day(120))
    assert after.status == SUSTAINED
    assert after.due_on == day(120 + 56)


def test_slip_after_graduation_makes_the_item_active_again():
    state = make_state(level=5, streak=5, status=SUSTAINED, due_on=day(70), due_gap=56)
    after = advance(LADDER, state, Outcome.SLIPPED, day(70))
    assert after.status == ACTIVE
    assert after.resume_level == 3
    assert after.last_coached_on == day(70)
    assert after.due_on == day(72)


def test_advancing_a_closed_item_raises():
    state = replay(LADDER, MON, [(Outcome.SUSTAINED, day(n)) for n in (2, 7, 14, 28, 56, 112)])
    assert state.status == CLOSED
    for outcome in Outcome:
        with pytest.raises(ItemClosed):
            advance(LADDER, state, outcome, day(120))
    assert issubclass(ItemClosed, SchedulingError)
    assert issubclass(SchedulingError, ValueError)


def test_outcome_before_the_opening_raises():
    state = open_item(LADDER, WED)
    with pytest.raises(ObservedBeforeOpening):
        advance(LADDER, state, Outcome.SUSTAINED, MON)
    assert issubclass(ObservedBeforeOpening, SchedulingError)


def test_outcome_on_the_opening_day_is_allowed():
    state = open_item(LADDER, MON)
    assert advance(LADDER, state, Outcome.NO_CHANCE, MON).due_on == date(2024, 1, 2)


def test_outcome_given_as_its_stored_string():
    state = open_item(LADDER, MON)
    assert advance(LADDER, state, "slipped", WED) == advance(LADDER, state, Outcome.SLIPPED, WED)
    with pytest.raises(ValueError):
        advance(LADDER, state, "forgot", WED)


# Replay


def test_replay_of_no_history_is_the_opened_item():
    assert replay(LADDER, FRI, []) == open_item(LADDER, FRI)


def test_replay_matches_stepwise_advance():
    history = [
        (Outcome.SUSTAINED, day(2)),
        (Outcome.NO_CHANCE, day(7)),
        (Outcome.PARTLY, day(8)),
        (Outcome.SLIPPED, day(15)),
        (Outcome.PARTLY, day(17)),
        (Outcome.SUSTAINED, day(19)),
    ]
    state = open_item(LADDER, MON)
    for outcome, observed_on in history:
        state = advance(LADDER, state, outcome, observed_on)
    assert replay(LADDER, MON, history) == state
    assert state.level == 0  # slipped at level 1, so resume level max(0, 1 - 2) = 0
    assert state.lapses == 1


def test_replay_past_closing_raises():
    history = [(Outcome.SUSTAINED, day(n)) for n in (2, 7, 14, 28, 56, 112, 120)]
    with pytest.raises(ItemClosed):
        replay(LADDER, MON, history)


# Custom ladders


def test_custom_gaps_and_a_six_day_week():
    ladder = Ladder(gaps=(1, 3, 10), working_days=frozenset(range(6)))
    state = open_item(ladder, FRI)
    assert state.due_on == SAT  # Saturday is a working day here
    state = advance(ladder, state, Outcome.SUSTAINED, SAT)
    assert (state.level, state.due_on) == (1, date(2024, 1, 9))  # Sat + 3 = Tue
    state = advance(ladder, state, Outcome.SUSTAINED, date(2024, 1, 9))
    assert (state.level, state.due_on) == (2, date(2024, 1, 19))
    state = advance(ladder, state, Outcome.SUSTAINED, date(2024, 1, 19))
    assert (state.level, state.due_gap) == (2, 10)  # top of a three-rung ladder
    assert state.due_on == date(2024, 1, 29)


def test_six_day_week_still_skips_sunday():
    ladder = Ladder(working_days=frozenset(range(6)))
    assert open_item(ladder, FRI).due_on == NEXT_MON  # Fri + 2 = Sunday
    assert open_item(ladder, THU).due_on == SAT


def test_graduation_thresholds_do_not_depend_on_the_ladder():
    ladder = Ladder(gaps=(1, 1, 1))
    state = open_item(ladder, MON)
    for n in (1, 2, 3, 4):
        state = advance(ladder, state, Outcome.SUSTAINED, day(n))
    assert state.status == ACTIVE
    state = advance(ladder, state, Outcome.SUSTAINED, day(56))
    assert state.status == SUSTAINED


def test_ladder_accepts_lists_from_settings():
    ladder = Ladder(gaps=[3, 6], working_days=[0, 2, 4])
    assert ladder.gaps == (3, 6)
    assert ladder.working_days == frozenset({0, 2, 4})
    assert hash(ladder) == hash(Ladder(gaps=(3, 6), working_days=frozenset({0, 2, 4})))


def test_a_shortened_ladder_caps_an_existing_level():
    state = make_state(level=5, resume_level=4)
    ladder = Ladder(gaps=(2, 5, 7))
    after = advance(ladder, state, Outcome.SUSTAINED, day(10))
    assert after.level == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gaps": ()}, "at least one gap"),
        ({"gaps": (0, 5)}, ">= 1"),
        ({"gaps": (2, -5)}, ">= 1"),
        ({"gaps": (2, 2.5)}, "whole number"),
        ({"gaps": (True, 2)}, "whole number"),
        ({"gaps": (2, 7, 5)}, "must not decrease"),
        ({"gaps": 5}, "collections"),
        ({"working_days": frozenset()}, "at least one day"),
        ({"working_days": frozenset({0, 7})}, "0 to 6"),
        ({"working_days": frozenset({-1})}, "0 to 6"),
        ({"working_days": frozenset({"mon"})}, "0 to 6"),
    ],
)
def test_invalid_ladders_raise(kwargs, message):
    with pytest.raises(InvalidLadder, match=message):
        Ladder(**kwargs)


def test_invalid_ladder_is_a_value_error():
    assert issubclass(InvalidLadder, SchedulingError)
    with pytest.raises(ValueError):
        Ladder(gaps=())


# Working-day arithmetic


def test_next_working_day_on_or_after():
    assert LADDER.next_working_day_on_or_after(FRI) == FRI
    assert LADDER.next_working_day_on_or_after(SAT) == NEXT_MON
    assert LADDER.next_working_day_on_or_after(SUN) == NEXT_MON


def test_add_working_days_across_a_weekend():
    assert LADDER.add_working_days(FRI, 1) == NEXT_MON
    assert LADDER.add_working_days(THU, 3) == date(2024, 1, 9)
    assert LADDER.add_working_days(NEXT_MON, -1) == FRI
    assert LADDER.add_working_days(NEXT_MON, -5) == MON
    assert LADDER.add_working_days(WED, 0) == WED


# On time


@pytest.mark.parametrize(
    ("due_on", "gap", "done_on", "expected"),
    [
        # gap 2: 0 days early, 1 day late; due Friday so "late" crosses the weekend.
        (FRI, 2, FRI, True),
        (FRI, 2, THU, False),
        (FRI, 2, SAT, True),  # weekend days fall inside a window that spans them
        (FRI, 2, NEXT_MON, True),
        (FRI, 2, date(2024, 1, 9), False),
        # gap 14: 1 working day early (Monday -> Friday), 4 late (Friday 12th).
        (NEXT_MON, 14, FRI, True),
        (NEXT_MON, 14, THU, False),
        (NEXT_MON, 14, SUN, True),
        (NEXT_MON, 14, date(2024, 1, 12), True),
        (NEXT_MON, 14, date(2024, 1, 13), False),
        # gap 20: 2 early (Wed 17th -> Mon 15th), 5 late (Wed 24th).
        (date(2024, 1, 17), 20, date(2024, 1, 15), True),
        (date(2024, 1, 17), 20, date(2024, 1, 12), False),
        (date(2024, 1, 17), 20, date(2024, 1, 24), True),
        (date(2024, 1, 17), 20, date(2024, 1, 25), False),
        # gap 56: 5 early (Mon 26 Feb -> Mon 19 Feb), 14 late (Fri 15 Mar).
        (date(2024, 2, 26), 56, date(2024, 2, 19), True),
        (date(2024, 2, 26), 56, date(2024, 2, 16), False),
        (date(2024, 2, 26), 56, date(2024, 3, 15), True),
        (date(2024, 2, 26), 56, date(2024, 3, 18), False),
        # gap 30: floor(0.1 * 30) is 3 even though 0.1 * 30 is not exact in floating point.
        (NEXT_MON, 30, WED, True),
        (NEXT_MON, 30, date(2024, 1, 2), False),
    ],
)
def test_on_time_window_edges(due_on, gap, done_on, expected):
    assert on_time(LADDER, due_on, gap, done_on) is expected


def test_on_time_uses_the_ladder_working_days():
    six_day = Ladder(working_days=frozenset(range(6)))
    # gap 14 allows 4 working days late: from Thursday 11th that is Wednesday 17th in a
    # five-day week and Tuesday 16th in a six-day week, where Saturday 13th counts.
    thu = date(2024, 1, 11)
    assert on_time(LADDER, thu, 14, date(2024, 1, 17)) is True
    assert on_time(six_day, thu, 14, date(2024, 1, 17)) is False
    assert on_time(six_day, thu, 14, date(2024, 1, 16)) is True
    # One working day early from Monday is Saturday in a six-day week.
    assert on_time(six_day, NEXT_MON, 14, SAT) is True
    assert on_time(six_day, NEXT_MON, 14, FRI) is False


def test_on_time_rejects_a_non_positive_gap():
    with pytest.raises(SchedulingError):
        on_time(LADDER, MON, 0, MON)


# Properties

ladders = st.builds(
    Ladder,
    gaps=st.lists(st.integers(1, 60), min_size=1, max_size=8).map(lambda g: tuple(sorted(g))),
    working_days=st.frozensets(st.integers(0, 6), min_size=1),
)
any_ladder = st.one_of(st.just(LADDER), ladders)
start_dates = st.dates(date(2000, 1, 1), date(2100, 1, 1))
# Weighted towards "sustained" so that many runs reach graduation and closing.
outcomes = st.sampled_from([Outcome.SUSTAINED] * 4 + list(Outcome))
histories = st.lists(st.tuples(outcomes, st.integers(0, 60)), max_size=40)


def run(ladder, opened_on, steps):
    """Advance step by step until closed; returns every intermediate state and the history."""
    state = open_item(ladder, opened_on)
    states = [(state, opened_on)]
    history = []
    observed_on = opened_on
    for outcome, days_later in steps:
        if state.status == CLOSED:
            break
        observed_on += timedelta(days=days_later)
        state = advance(ladder, state, outcome, observed_on)
        history.append((outcome, observed_on))
        states.append((state, observed_on))
    return states, history


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_due_date_is_strictly_after_the_observation(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    for state, observed_on in states:
        if state.due_on is not None:
            assert state.due_on > observed_on


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_lapses_never_decrease(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    lapses = [state.lapses for state, _ in states]
    assert lapses == sorted(lapses)
    for state, _ in states:
        assert state.escalated == (state.lapses >= ESCALATION_LAPSES)


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_closed_items_have_no_due_date_and_open_items_do(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    for state, _ in states:
        if state.status == CLOSED:
            assert state.due_on is None
            assert state.due_gap is None
        else:
            assert state.due_on is not None
            assert state.due_gap is not None


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_replay_rebuilds_the_stepwise_state(ladder, opened_on, steps):
    states, history = run(ladder, opened_on, steps)
    assert replay(ladder, opened_on, history) == states[-1][0]


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_due_date_is_a_working_day(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    for state, _ in states:
        if state.due_on is not None:
            assert state.due_on.weekday() in ladder.working_days


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_levels_stay_on_the_ladder(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    for state, _ in states:
        assert 0 <= state.level <= ladder.top_level
        assert state.resume_level is None or 0 <= state.resume_level <= ladder.top_level


@settings(deadline=None)
@given(any_ladder, start_dates, histories)
def test_property_a_check_done_on_its_due_date_is_on_time(ladder, opened_on, steps):
    states, _ = run(ladder, opened_on, steps)
    for state, _ in states:
        if state.due_on is not None:
            assert on_time(ladder, state.due_on, state.due_gap, state.due_on)

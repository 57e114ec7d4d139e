"""The trainer's figures, against numbers worked out by hand in each test."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coachapp import metrics
from coachapp.metrics import CheckRecord, ItemRecord
from coachapp.scheduling import Ladder, Outcome

S, P, SL, NC = Outcome.SUSTAINED, Outcome.PARTLY, Outcome.SLIPPED, Outcome.NO_CHANCE
D0 = date(2026, 1, 5)  # a Monday
LADDER = Ladder()


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def item(*checks: tuple[int, Outcome], opened: int = 0, closed: int | None = None) -> ItemRecord:
    """An item opened on day `opened`, with checks done on the given days (counted from D0)."""
    return ItemRecord(
        opened_on=day(opened),
        checks=tuple(
            CheckRecord(due_on=day(opened + t), gap=2, done_on=day(opened + t), outcome=o)
            for t, o in checks
        ),
        closed_on=None if closed is None else day(closed),
    )


# --- R28 ------------------------------------------------------------------------------------


def test_relapse_censors_an_item_without_a_slip_at_its_last_observed_check() -> None:
    items = [
        item((10, SL)),  # event at 10
        item((7, S), (14, S)),  # censored at 14
        item((5, S), (20, SL)),  # event at 20
        item((7, S), (14, S), (28, S), (56, S)),  # still observed at 28: at risk
    ]
    result = metrics.relapse_at(items, days=28)
    # t=10: 4 at risk, 1 event: S = 3/4. t=14: a censoring. t=20: 2 at risk, 1 event:
    # S = 3/4 * 1/2 = 3/8, so R28 = 5/8.
    assert result.value == pytest.approx(0.625)
    assert (result.events, result.censored, result.at_risk, result.not_reobserved) == (2, 1, 1, 0)
    assert result.included == 4


def test_at_equal_times_events_come_before_censorings() -> None:
    items = [
        item((14, SL)),
        item((14, S)),  # censored at 14: still in the risk set of the events at 14
        item((7, S), (14, SL)),
        item((14, S), (28, S)),
    ]
    result = metrics.relapse_at(items)
    # t=14: 4 at risk (not 3), 2 events: S = 1/2.
    assert result.value == pytest.approx(0.5)
    assert (result.events, result.censored, result.at_risk) == (2, 1, 1)


def test_items_never_reobserved_and_no_chance_are_left_out_not_counted_as_successes() -> None:
    pending = ItemRecord(opened_on=D0, checks=(CheckRecord(due_on=day(2), gap=2),))
    items = [
        pending,  # nothing done
        item((2, NC), (3, NC)),  # done, but nothing observed
        item((35, S)),  # first observed after day 28
        item((2, P)),  # censored at 2
        item((5, SL)),  # event at 5
        item((2, NC), (3, S), (10, NC)),  # censored at 3: No chance does not extend it
        item((7, S), (28, S)),  # at risk
    ]
    result = metrics.relapse_at(items)
    # t=2 and t=3 censor two; t=5: 2 at risk, 1 event: S = 1/2.
    assert result.value == pytest.approx(0.5)
    assert (result.events, result.censored, result.at_risk, result.not_reobserved) == (1, 2, 1, 3)


def test_a_slip_after_the_horizon_is_no_event_of_it() -> None:
    items = [
        item((7, S), (14, S), (40, SL)),  # at risk on day 28, slips later
        item((7, S), (28, SL)),  # a slip on day 28 itself is an event
        item((14, S)),  # censored at 14
    ]
    r28 = metrics.relapse_at(items, days=28)
    # t=14 censors one; t=28: 2 at risk, 1 event: S = 1/2.
    assert r28.value == pytest.approx(0.5)
    assert (r28.events, r28.censored, r28.at_risk) == (1, 1, 1)
    r56 = metrics.relapse_at(items, days=56)
    # ... and t=40: 1 at risk, 1 event: S = 0.
    assert r56.value == pytest.approx(1.0)
    assert (r56.events, r56.censored, r56.at_risk) == (2, 1, 0)


def test_empty_input_gives_no_figure() -> None:
    result = metrics.relapse_at([])
    assert result.value is None
    assert (result.events, result.censored, result.at_risk, result.not_reobserved) == (0, 0, 0, 0)
    assert metrics.sustained_at([], as_of=D0).value is None
    assert metrics.on_time_rate([], LADDER, start=D0, end=D0, as_of=D0).value is None
    assert metrics.time_to_graduation([], as_of=D0).median is None
    assert metrics.lapses([]).per_item is None
    assert metrics.self_check_agreement([]).value is None
    assert metrics.survival_curve([]).steps == (
        metrics.CurveStep(day=0, survival=1.0, at_risk=0, events=0, censored=0),
    )


def test_the_survival_curve_steps_with_numbers_at_risk() -> None:
    items = [
        item((10, SL)),
        item((7, S), (14, S)),
        item((5, S), (20, SL)),
        item((7, S), (14, S), (28, S), (56, S)),
        item((3, NC)),
    ]
    curve = metrics.survival_curve(items)
    assert [(s.day, s.survival, s.at_risk, s.events, s.censored) for s in curve.steps] == [
        (0, 1.0, 4, 0, 0),
        (10, pytest.approx(0.75), 4, 1, 0),
        (14, pytest.approx(0.75), 3, 0, 1),
        (20, pytest.approx(0.375), 2, 1, 0),
        (56, pytest.approx(0.375), 1, 0, 1),
    ]
    assert (curve.included, curve.not_reobserved) == (4, 1)
    capped = metrics.survival_curve(items, horizon=28)
    assert (capped.steps[-1].day, capped.steps[-1].censored) == (28, 1)


# --- S56 -------------------------------------------------------------------------------------


def test_sustained_at_eight_weeks_reads_the_latest_check_in_the_window() -> None:
    as_of = day(100)
    items = [
        item((50, S), (60, SL)),  # latest in 49..70 slipped
        item((50, SL), (65, S)),  # sustained
        item((30, S), (80, S)),  # old enough, nothing in the window: not re-observed
        item((55, S), opened=40),  # 60 days old: too young, left out
        item((69, NC), (70, S)),  # day 70 is in the window
        item((49, P)),  # day 49 is in the window
        item((55, S), opened=30),  # exactly 70 days old: counted
    ]
    result = metrics.sustained_at(items, as_of=as_of)
    assert (result.eligible, result.sustained, result.not_reobserved) == (5, 3, 1)
    assert result.value == pytest.approx(0.6)


# --- on time ---------------------------------------------------------------------------------


def test_on_time_rate_counts_done_checks_and_closed_windows_only() -> None:
    jan = lambda n: date(2026, 1, n)  # noqa: E731
    checks = [
        CheckRecord(due_on=jan(5), gap=2, done_on=jan(6), outcome=S),  # window Mon..Tue: on time
        CheckRecord(due_on=jan(5), gap=2, done_on=jan(7), outcome=S),  # a day late
        CheckRecord(due_on=jan(9), gap=2),  # window closed Mon 12: counted, overdue 5 days
        CheckRecord(due_on=jan(14), gap=14),  # window open until Tue 20: not counted
        CheckRecord(due_on=jan(12), gap=14, done_on=jan(9), outcome=P),  # 1 working day early
        CheckRecord(due_on=jan(1), gap=2),  # before the period; still in the backlog, 13 days
        CheckRecord(due_on=jan(13), gap=2),  # window ends today: neither counted nor overdue
        CheckRecord(due_on=jan(6), gap=1, done_on=jan(6), outcome=NC),  # done on time
    ]
    result = metrics.on_time_rate(checks, LADDER, start=jan(5), end=jan(14), as_of=jan(14))
    assert (result.counted, result.on_time) == (5, 3)
    assert result.value == pytest.approx(0.6)
    assert result.backlog == 2
    assert result.median_days_overdue == 9


def test_the_window_in_calendar_days() -> None:
    jan = lambda n: date(2026, 1, n)  # noqa: E731
    # Gap 2 due Friday 9: no early day, one working day late (Monday 12).
    assert metrics.window(LADDER, CheckRecord(due_on=jan(9), gap=2)) == (jan(9), jan(12))
    # Gap 14 due Monday 12: one working day early (Friday 9), four late (Friday 16).
    assert metrics.window(LADDER, CheckRecord(due_on=jan(12), gap=14)) == (jan(9), jan(16))


def test_a_check_done_after_as_of_was_still_open_then() -> None:
    check = CheckRecord(due_on=day(0), gap=2, done_on=day(10), outcome=S)
    then = metrics.on_time_rate([check], LADDER, start=day(0), end=day(5), as_of=day(5))
    assert (then.counted, then.on_time, then.backlog) == (1, 0, 1)
    assert metrics.overdue(LADDER, check, day(5))
    assert not metrics.overdue(LADDER, check, day(10))


# --- graduation, lapses, outcomes, self-checks, load --------------------------------------


def test_time_to_graduation_censors_open_items() -> None:
    items = [
        item(closed=112),
        item(closed=120),
        item(closed=150),
        item(),  # open, 200 days old: censored at 200
        item(opened=150),  # open, 50 days old: censored at 50
    ]
    result = metrics.time_to_graduation(items, as_of=day(200))
    # t=50 censors one; t=112: 4 at risk, S = 3/4; t=120: 3 at risk, S = 1/2; t=150: S = 1/4.
    assert (result.q1, result.median, result.q3) == (112, 120, 150)
    assert (result.items, result.closed) == (5, 3)
    # Four items are at least 140 days old; two of them closed by day 140.
    assert result.old_enough == 4
    assert result.share_closed_by == pytest.approx(0.5)


def test_lapses_and_escalations() -> None:
    items = [
        item((2, SL), (4, SL), (6, SL)),  # escalated, open
        item((2, SL), (4, SL), (6, SL), (200, S), closed=200),  # escalated, closed since
        item((2, SL)),
        item((2, S)),
    ]
    result = metrics.lapses(items)
    assert (result.items, result.lapses, result.escalated, result.escalated_open) == (4, 7, 2, 1)
    assert result.per_item == pytest.approx(1.75)


def test_slips_before_the_history_given_count_too() -> None:
    older = ItemRecord(opened_on=D0, checks=item((300, SL)).checks, earlier_slips=2)
    result = metrics.lapses([older])
    assert (result.lapses, result.escalated, result.escalated_open) == (3, 1, 1)


def test_partly_among_observed_and_no_chance_among_done() -> None:
    checks = [
        CheckRecord(due_on=D0, gap=2, done_on=D0, outcome=o) for o in (S, P, P, SL, NC, NC)
    ] + [CheckRecord(due_on=D0, gap=2)]
    result = metrics.outcome_rates(checks)
    assert (result.done, result.observed, result.partly, result.no_chance) == (6, 4, 2, 2)
    assert result.partly_rate == pytest.approx(0.5)
    assert result.no_chance_rate == pytest.approx(1 / 3)


def test_self_check_agreement_compares_observed_checks_only() -> None:
    def check(self_rating: Outcome | None, outcome: Outcome | None) -> CheckRecord:
        done = D0 if outcome is not None else None
        return CheckRecord(due_on=D0, gap=2, done_on=done, outcome=outcome, self_rating=self_rating)

    checks = [check(S, S), check(P, S), check(SL, SL), check(S, NC), check(None, S), check(P, None)]
    result = metrics.self_check_agreement(checks)
    assert (result.compared, result.matched) == (3, 2)
    assert result.value == pytest.approx(2 / 3)


def test_forward_load_per_manager_and_week() -> None:
    as_of = date(2026, 1, 12)

    def due(n: int, done: bool = False) -> CheckRecord:
        on = as_of + timedelta(days=n)
        return CheckRecord(
            due_on=on, gap=2, done_on=on if done else None, outcome=S if done else None
        )

    load = metrics.forward_load(
        {
            "maria": [due(0), due(6), due(7), due(-2), due(1, done=True), due(42), due(41)],
            "mo": [due(8)],
        },
        as_of=as_of,
    )
    assert load.weeks[0] == as_of and load.weeks[5] == as_of + timedelta(days=35)
    assert load.per_week["maria"] == (2, 1, 0, 0, 0, 1)
    assert load.overdue == {"maria": 1, "mo": 0}
    assert load.per_week["mo"] == (0, 1, 0, 0, 0, 0)
    assert load.totals == (2, 2, 0, 0, 0, 1)


def test_under_ten_items_is_not_enough() -> None:
    assert not metrics.enough(9)
    assert metrics.enough(10)


# --- properties ------------------------------------------------------------------------------

outcomes = st.sampled_from([S, P, SL, NC])
items_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, 120), outcomes), max_size=8).map(
        lambda checks: item(*sorted(checks, key=lambda c: c[0]))
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(items=items_strategy, days=st.integers(1, 90))
def test_every_item_is_counted_once_and_the_estimate_is_a_share(
    items: list[ItemRecord], days: int
) -> None:
    result = metrics.relapse_at(items, days=days)
    assert result.events + result.censored + result.at_risk + result.not_reobserved == len(items)
    if result.value is None:
        assert result.included == 0
    else:
        assert 0 <= result.value <= 1
    # Kaplan-Meier never lies below the plain share of events among the included.
    if result.included:
        assert result.value >= result.events / result.included - 1e-9


@settings(max_examples=100, deadline=None)
@given(items=items_strategy, age=st.integers(0, 200))
def test_sustained_and_on_time_are_shares(items: list[ItemRecord], age: int) -> None:
    as_of = day(age)
    sustained = metrics.sustained_at(items, as_of=as_of)
    assert sustained.value is None or 0 <= sustained.value <= 1
    checks = [c for i in items for c in i.checks]
    on_time = metrics.on_time_rate(checks, LADDER, start=D0, end=as_of, as_of=as_of)
    assert on_time.value is None or 0 <= on_time.value <= 1
    assert on_time.on_time <= on_time.counted


@settings(max_examples=200, deadline=None)
@given(
    due=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)),
    gap=st.integers(1, 120),
    offset=st.integers(-40, 60),
)
def test_the_window_is_exactly_what_scheduling_calls_on_time(
    due: date, gap: int, offset: int
) -> None:
    from coachapp.scheduling import on_time

    done = due + timedelta(days=offset)
    low, high = metrics.window(LADDER, CheckRecord(due_on=due, gap=gap))
    assert (low <= done <= high) == on_time(LADDER, due, gap, done)


# --- counted inputs: one entry per kind of item, with how many items are of that kind -------


@given(items=items_strategy, counts=st.lists(st.integers(1, 40), min_size=40, max_size=40),
       age=st.integers(0, 400), days=st.integers(1, 90))  # fmt: skip
def test_the_counted_forms_equal_the_plain_ones_over_the_items_repeated(
    items: list[ItemRecord], counts: list[int], age: int, days: int
) -> None:
    """What the dashboard's SQL groups feed in: exactly the plain figures, floats included."""
    pairs = list(zip(items, counts, strict=False))
    repeated = [i for i, n in pairs for _ in range(n)]
    as_of = day(age)
    slips = [(metrics.slip_time(i), n) for i, n in pairs]
    assert metrics.relapse_counted(slips, days) == metrics.relapse_at(repeated, days)
    assert metrics.curve_counted(slips, horizon=days) == metrics.survival_curve(
        repeated, horizon=days
    )
    latest = [((i.opened_on, metrics.latest_outcome(i)), n) for i, n in pairs]
    assert metrics.sustained_counted(latest, as_of=as_of) == metrics.sustained_at(
        repeated, as_of=as_of
    )
    assert metrics.graduation_counted(pairs, as_of=as_of) == metrics.time_to_graduation(
        repeated, as_of=as_of
    )
    assert metrics.lapses_counted(pairs) == metrics.lapses(repeated)


def test_a_kind_counted_zero_times_is_no_item() -> None:
    slips = [(metrics.SlipTime(3, 5, True), 0), (metrics.SlipTime(2, 9, False), 2)]
    assert metrics.relapse_counted(slips) == metrics.relapse_of([metrics.SlipTime(2, 9, False)] * 2)
    assert metrics.curve_counted(slips) == metrics.curve_of([metrics.SlipTime(2, 9, False)] * 2)

"""The trainer's figures (DESIGN section 6): pure functions over plain records, no clock reads.

Day t of a check is (done_on - opened_on).days. An *observed* check is one done with outcome
Sustained, Partly or Slipped; No chance is done but observes nothing. Every result carries the
counts it rests on, so a page can say "not enough data yet (n = 7)" instead of a number.
"""

import functools
import statistics
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple, Protocol, TypeVar

from coachapp import scheduling
from coachapp.scheduling import Ladder, Outcome

#: A figure resting on fewer items than this is shown as "not enough data yet".
MIN_ITEMS = 10

OBSERVED = frozenset({Outcome.SUSTAINED, Outcome.PARTLY, Outcome.SLIPPED})

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, kw_only=True)
class CheckRecord:
    due_on: date
    #: The gap in days that produced due_on; the on-time window is sized from it.
    gap: int
    done_on: date | None = None
    outcome: Outcome | None = None
    #: The agent's self-check made before this check, if any (Sustained, Partly or Slipped).
    self_rating: Outcome | None = None

    @property
    def observed(self) -> bool:
        return self.done_on is not None and self.outcome in OBSERVED


@dataclass(frozen=True, kw_only=True)
class ItemRecord:
    opened_on: date
    checks: tuple[CheckRecord, ...] = ()
    #: The day the item graduated to closed (the done_on of its closing check), if it has.
    closed_on: date | None = None
    #: Slips recorded before the checks given here (a caller may pass only recent history).
    earlier_slips: int = 0

    def day(self, check: CheckRecord) -> int:
        assert check.done_on is not None
        return (check.done_on - self.opened_on).days

    def observed(self) -> list[tuple[int, CheckRecord]]:
        """Observed checks as (t, check), in order of t (stable for equal days)."""
        return self._observed

    @functools.cached_property
    def _observed(self) -> list[tuple[int, CheckRecord]]:
        # Worked out once per record: every figure reads it (a frozen dataclass still lets
        # cached_property store its value in the instance's __dict__).
        pairs = [(self.day(c), c) for c in self.checks if c.observed]
        return sorted(pairs, key=lambda pair: pair[0])

    @property
    def lapses(self) -> int:
        return self.earlier_slips + sum(
            1 for c in self.checks if c.done_on is not None and c.outcome == Outcome.SLIPPED
        )

    @property
    def escalated(self) -> bool:
        return self.lapses >= scheduling.ESCALATION_LAPSES


def enough(n: int) -> bool:
    return n >= MIN_ITEMS


# --- relapse: Kaplan-Meier on the time to the first slip ----------------------------------------


@dataclass(frozen=True, kw_only=True)
class Relapse:
    #: 1 - S(days); None when no item is included.
    value: float | None
    days: int
    events: int
    censored: int
    at_risk: int
    not_reobserved: int

    @property
    def included(self) -> int:
        return self.events + self.censored + self.at_risk


class SlipTime(NamedTuple):
    """What the relapse figures read of one item observed after day 0: the first day t >= 1 it
    was observed, and (time, is_event): the t of its first slip, else of its last observation."""

    first: int
    time: int
    event: bool


def slip_time(item: ItemRecord) -> SlipTime | None:
    """The item's SlipTime, or None when never observed after day 0."""
    observed = [(t, c) for t, c in item.observed() if t >= 1]
    if not observed:
        return None
    for t, check in observed:
        if check.outcome == Outcome.SLIPPED:
            return SlipTime(observed[0][0], t, True)
    return SlipTime(observed[0][0], observed[-1][0], False)


T = TypeVar("T")

#: (time, is_event) and how many items have it: Kaplan-Meier's input, counted.
Times = Counter[tuple[int, bool]]


def _once(values: Iterable[T]) -> Iterable[tuple[T, int]]:
    """Each value counted once: the plain functions are the counted ones over single items."""
    return ((value, 1) for value in values)


def _survival_steps(times: Times) -> list[tuple[int, float, int, int, int]]:
    """(t, S(t), n at risk just before t, events at t, censored at t) at every distinct time.

    One sweep over the sorted times: the number at risk at t is everyone minus those whose
    time came before t, so censorings at t are still counted at risk for the events at t.
    Counted input: the same integers, so the same arithmetic, as one entry per item.
    """
    events: Counter[int] = Counter()
    censorings: Counter[int] = Counter()
    for (time, is_event), n in times.items():
        if n > 0:
            (events if is_event else censorings)[time] += n
    steps = []
    survival = 1.0
    remaining = sum(events.values()) + sum(censorings.values())
    for t in sorted(events.keys() | censorings.keys()):
        d, c = events[t], censorings[t]
        if d:
            survival *= 1 - d / remaining
        steps.append((t, survival, remaining, d, c))
        remaining -= d + c
    return steps


def _survival_at(times: Times, day: int) -> float:
    survival = 1.0
    for t, s, *_ in _survival_steps(times):
        if t > day:
            break
        survival = s
    return survival


def relapse_at(items: Iterable[ItemRecord], days: int = 28) -> Relapse:
    """Kaplan-Meier estimate of 1 - S(days) for the time to the first slip.

    An item is included when it has an observed check on a day 1..days; the rest are counted as
    not re-observed, never as successes. Events come before censorings at equal times.
    """
    return relapse_of((slip_time(item) for item in items), days)


def relapse_of(slip_times: Iterable[SlipTime | None], days: int = 28) -> Relapse:
    """relapse_at from each item's SlipTime (None: never observed after day 0)."""
    return relapse_counted(_once(slip_times), days)


def relapse_counted(slip_times: Iterable[tuple[SlipTime | None, int]], days: int = 28) -> Relapse:
    """relapse_of over (SlipTime, how many items have it): equal to relapse_of over each
    SlipTime repeated that many times, in time proportional to the distinct SlipTimes."""
    times: Times = Counter()
    not_reobserved = events = censored = at_risk = 0
    for found, n in slip_times:
        if found is None or found.first > days:
            not_reobserved += n
            continue
        time, is_event = found.time, found.event
        times[time, is_event] += n
        if is_event and time <= days:
            events += n
        elif time < days:
            censored += n
        else:
            at_risk += n
    value = None if not +times else 1 - _survival_at(times, days)
    return Relapse(
        value=value,
        days=days,
        events=events,
        censored=censored,
        at_risk=at_risk,
        not_reobserved=not_reobserved,
    )


@dataclass(frozen=True, kw_only=True)
class CurveStep:
    day: int
    #: S(day): the estimated share still holding (no slip yet) at the end of that day.
    survival: float
    #: Items still observed on or after that day, before its events.
    at_risk: int
    events: int
    censored: int


@dataclass(frozen=True, kw_only=True)
class Curve:
    steps: tuple[CurveStep, ...]
    included: int
    not_reobserved: int


def survival_curve(items: Iterable[ItemRecord], *, horizon: int | None = None) -> Curve:
    """The "still holding" curve: (day, S) steps from (0, 1.0) with the numbers at risk.

    Every item observed after day 0 is included (up to `horizon` days when given, later times
    being censored at the horizon); the others are counted as not re-observed.
    """
    return curve_of((slip_time(item) for item in items), horizon=horizon)


def curve_of(slip_times: Iterable[SlipTime | None], *, horizon: int | None = None) -> Curve:
    """survival_curve from each item's SlipTime (None: never observed after day 0)."""
    return curve_counted(_once(slip_times), horizon=horizon)


def curve_counted(slip_times: Iterable[tuple[SlipTime | None, int]], *,
                  horizon: int | None = None) -> Curve:  # fmt: skip
    """curve_of over (SlipTime, how many items have it), as relapse_counted."""
    times: Times = Counter()
    not_reobserved = 0
    for found, count in slip_times:
        if found is None:
            not_reobserved += count
            continue
        time, is_event = found.time, found.event
        if horizon is not None and time > horizon:
            time, is_event = horizon, False
        times[time, is_event] += count
    included = sum(n for n in times.values() if n > 0)
    steps = [CurveStep(day=0, survival=1.0, at_risk=included, events=0, censored=0)]
    for t, s, n, d, c in _survival_steps(times):
        steps.append(CurveStep(day=t, survival=s, at_risk=n, events=d, censored=c))
    return Curve(steps=tuple(steps), included=included, not_reobserved=not_reobserved)


# --- sustained at 8 weeks --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Sustained:
    value: float | None
    eligible: int
    sustained: int
    not_reobserved: int


def sustained_at(
    items: Iterable[ItemRecord], *, as_of: date, start: int = 49, end: int = 70
) -> Sustained:
    """S56: among items at least `end` days old with an observed check on days start..end, the
    share whose latest observed check in that window was Sustained."""
    return sustained_of(
        ((item.opened_on, latest_outcome(item, start, end)) for item in items),
        as_of=as_of,
        end=end,
    )


def latest_outcome(item: ItemRecord, start: int = 49, end: int = 70) -> Outcome | None:
    """The outcome of the item's latest observed check on days start..end (None: none)."""
    in_window = [c for t, c in item.observed() if start <= t <= end]
    return in_window[-1].outcome if in_window else None


def sustained_of(
    latest: Iterable[tuple[date, Outcome | None]], *, as_of: date, end: int = 70
) -> Sustained:
    """sustained_at from each item's (opened_on, latest_outcome in the window)."""
    return sustained_counted(_once(latest), as_of=as_of, end=end)


def sustained_counted(
    latest: Iterable[tuple[tuple[date, Outcome | None], int]], *, as_of: date, end: int = 70
) -> Sustained:
    """sustained_of over ((opened_on, latest outcome), how many items have it)."""
    eligible = sustained = not_reobserved = 0
    for (opened_on, outcome), n in latest:
        if (as_of - opened_on).days < end:
            continue
        if outcome is None:
            not_reobserved += n
            continue
        eligible += n
        if outcome == Outcome.SUSTAINED:
            sustained += n
    return Sustained(
        value=sustained / eligible if eligible else None,
        eligible=eligible,
        sustained=sustained,
        not_reobserved=not_reobserved,
    )


# --- follow-ups on time ----------------------------------------------------------------------


def window_closed(ladder: Ladder, check: CheckRecord, as_of: date) -> bool:
    """Whether the check's on-time window (DESIGN section 5) ended before as_of."""
    return as_of > _window(ladder, check.due_on, check.gap)[1]


@dataclass(frozen=True, kw_only=True)
class OnTime:
    #: Share of the counted checks done inside their window; None when none is counted.
    value: float | None
    #: Checks due in the period that were done or whose window had closed by as_of.
    counted: int
    on_time: int
    #: Checks not done on as_of whose window had closed before it.
    backlog: int
    median_days_overdue: float | None


def window(ladder: Ladder, check: CheckRecord) -> tuple[date, date]:
    """The first and last day of the check's on-time window."""
    return _window(ladder, check.due_on, check.gap)


@functools.lru_cache(maxsize=65536)
def _window(ladder: Ladder, due_on: date, gap: int) -> tuple[date, date]:
    """Found from scheduling.on_time, so that the window's rule stays written in one place; the
    window always contains its due date. Cached: thousands of checks share a due date and gap."""
    low = high = due_on
    while scheduling.on_time(ladder, due_on, gap, low - timedelta(days=1)):
        low -= timedelta(days=1)
    while scheduling.on_time(ladder, due_on, gap, high + timedelta(days=1)):
        high += timedelta(days=1)
    return low, high


def overdue(ladder: Ladder, check: CheckRecord, as_of: date) -> bool:
    """Not done by as_of, and its window closed before as_of."""
    if check.done_on is not None and check.done_on <= as_of:
        return False
    return window_closed(ladder, check, as_of)


def on_time_rate(
    checks: Iterable[CheckRecord], ladder: Ladder, *, start: date, end: date, as_of: date
) -> OnTime:
    """Among checks due in [start, end] that were done or whose window has closed by as_of, the
    share done inside their window; and the overdue backlog (of all checks) as of as_of."""
    counted = in_window = 0
    days_overdue: list[int] = []
    for check in checks:
        done_on = check.done_on if check.done_on is not None and check.done_on <= as_of else None
        low, high = _window(ladder, check.due_on, check.gap)
        closed = as_of > high
        if start <= check.due_on <= end and (done_on is not None or closed):
            counted += 1
            if done_on is not None and low <= done_on <= high:
                in_window += 1
        if done_on is None and closed:
            days_overdue.append((as_of - check.due_on).days)
    return OnTime(
        value=in_window / counted if counted else None,
        counted=counted,
        on_time=in_window,
        backlog=len(days_overdue),
        median_days_overdue=statistics.median(days_overdue) if days_overdue else None,
    )


# --- time to graduation ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Graduation:
    #: Kaplan-Meier quartiles of the days from opening to closing; open items are censored at
    #: their age on as_of. None where the estimate does not reach that quartile yet.
    median: int | None
    q1: int | None
    q3: int | None
    items: int
    closed: int
    #: Among items at least `by_day` days old: the share closed by that day.
    share_closed_by: float | None
    old_enough: int
    by_day: int


def _quantile(times: Times, share: float) -> int | None:
    """The first time at which the estimated share closed reaches `share`."""
    for t, s, *_ in _survival_steps(times):
        if 1 - s >= share - 1e-12:
            return t
    return None


class ItemSpan(Protocol):
    """What time to graduation and the lapse counts read of an item (an ItemRecord has it)."""

    @property
    def opened_on(self) -> date: ...
    @property
    def closed_on(self) -> date | None: ...
    @property
    def lapses(self) -> int: ...
    @property
    def escalated(self) -> bool: ...


def time_to_graduation(items: Iterable[ItemSpan], *, as_of: date, by_day: int = 140) -> Graduation:
    return graduation_counted(_once(items), as_of=as_of, by_day=by_day)


def graduation_counted(items: Iterable[tuple[ItemSpan, int]], *, as_of: date,
                       by_day: int = 140) -> Graduation:  # fmt: skip
    """time_to_graduation over (item, how many items are like it)."""
    times: Times = Counter()
    closed = old_enough = closed_by = 0
    for item, n in items:
        if item.closed_on is not None and item.closed_on <= as_of:
            closed += n
            days = (item.closed_on - item.opened_on).days
            times[days, True] += n
        else:
            days = (as_of - item.opened_on).days
            times[max(days, 0), False] += n
        if (as_of - item.opened_on).days >= by_day:
            old_enough += n
            if item.closed_on is not None and (item.closed_on - item.opened_on).days <= by_day:
                closed_by += n
    return Graduation(
        median=_quantile(times, 0.5),
        q1=_quantile(times, 0.25),
        q3=_quantile(times, 0.75),
        items=sum(n for n in times.values() if n > 0),
        closed=closed,
        share_closed_by=closed_by / old_enough if old_enough else None,
        old_enough=old_enough,
        by_day=by_day,
    )


# --- lapses, outcomes, self-checks ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Lapses:
    items: int
    lapses: int
    per_item: float | None
    #: Items with three slips or more (flagged for the trainer), and of those the ones not closed.
    escalated: int
    escalated_open: int


def lapses(items: Iterable[ItemSpan]) -> Lapses:
    return lapses_counted(_once(items))


def lapses_counted(items: Iterable[tuple[ItemSpan, int]]) -> Lapses:
    """lapses over (item, how many items are like it)."""
    count = total = escalated = escalated_open = 0
    for item, n in items:
        count += n
        total += item.lapses * n
        if item.escalated:
            escalated += n
            if item.closed_on is None:
                escalated_open += n
    return Lapses(
        items=count,
        lapses=total,
        per_item=total / count if count else None,
        escalated=escalated,
        escalated_open=escalated_open,
    )


@dataclass(frozen=True, kw_only=True)
class OutcomeRates:
    #: Checks done (with any outcome, No chance included).
    done: int
    observed: int
    partly: int
    no_chance: int
    #: Partly among observed checks.
    partly_rate: float | None
    #: No chance among done checks.
    no_chance_rate: float | None


def outcome_rates(checks: Iterable[CheckRecord]) -> OutcomeRates:
    done = observed = partly = no_chance = 0
    for check in checks:
        if check.done_on is None or check.outcome is None:
            continue
        done += 1
        if check.outcome == Outcome.NO_CHANCE:
            no_chance += 1
            continue
        observed += 1
        if check.outcome == Outcome.PARTLY:
            partly += 1
    return OutcomeRates(
        done=done,
        observed=observed,
        partly=partly,
        no_chance=no_chance,
        partly_rate=partly / observed if observed else None,
        no_chance_rate=no_chance / done if done else None,
    )


@dataclass(frozen=True, kw_only=True)
class Agreement:
    #: Observed checks that had a self-check before them.
    compared: int
    matched: int
    value: float | None


def self_check_agreement(checks: Iterable[CheckRecord]) -> Agreement:
    """The share of observed checks where the agent's self-check matched the manager's outcome."""
    compared = matched = 0
    for check in checks:
        if check.self_rating is None or not check.observed:
            continue
        compared += 1
        if check.self_rating == check.outcome:
            matched += 1
    return Agreement(
        compared=compared, matched=matched, value=matched / compared if compared else None
    )


# --- forward load ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Load:
    #: Week w covers as_of + 7w .. as_of + 7w + 6.
    weeks: tuple[date, ...]
    #: Per key: checks already overdue (due before as_of, not done), then one count per week.
    overdue: dict[object, int]
    per_week: dict[object, tuple[int, ...]]
    totals: tuple[int, ...]


def forward_load(
    checks_by_key: Mapping[K, Iterable[CheckRecord]], *, as_of: date, weeks: int = 6
) -> Load:
    """Checks still to do per key (a manager, a team) and week, for the coming `weeks` weeks."""
    starts = tuple(as_of + timedelta(days=7 * w) for w in range(weeks))
    overdue_counts: dict[object, int] = {}
    per_week: dict[object, tuple[int, ...]] = {}
    totals = [0] * weeks
    for key, checks in checks_by_key.items():
        counts = [0] * weeks
        late = 0
        for check in checks:
            if check.done_on is not None:
                continue
            offset = (check.due_on - as_of).days
            if offset < 0:
                late += 1
            elif offset < 7 * weeks:
                counts[offset // 7] += 1
                totals[offset // 7] += 1
        overdue_counts[key] = late
        per_week[key] = tuple(counts)
    return Load(weeks=starts, overdue=overdue_counts, per_week=per_week, totals=tuple(totals))

"""The follow-up ladder: when a focus item is re-observed next, and how it graduates (DESIGN §5)."""

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

DEFAULT_GAPS: tuple[int, ...] = (2, 5, 7, 14, 28, 56)
DEFAULT_WORKING_DAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})

# The spec writes the short re-check after a slip (and after "partly" while recovering) as a
# literal "t + 2", not as G[0], so an organisation that stretches its first gap does not also
# stretch the re-check right after a relapse, which is when relapse is most likely.
RECHECK_DAYS = 2

# A "no chance" observation postpones the check to the next working day, i.e. t + 1 moved to a
# working day; 1 is recorded as its gap so its on-time window stays tight.
NO_CHANCE_DAYS = 1

ESCALATION_LAPSES = 3
SUSTAINED_AFTER_DAYS = 56
CLOSED_AFTER_DAYS = 112
GRADUATION_STREAK = 3

ACTIVE = "active"
SUSTAINED = "sustained"
CLOSED = "closed"
STATUSES = (ACTIVE, SUSTAINED, CLOSED)


class Outcome(enum.StrEnum):
    SUSTAINED = "sustained"
    PARTLY = "partly"
    SLIPPED = "slipped"
    NO_CHANCE = "no_chance"


class SchedulingError(ValueError):
    """Base class for everything this module refuses to do."""


class InvalidLadder(SchedulingError):
    """The ladder settings cannot produce a schedule."""


class ItemClosed(SchedulingError):
    """A closed focus item has no further checks, so it cannot take another outcome."""


class ObservedBeforeOpening(SchedulingError):
    """An outcome is dated before the correction that opened the item."""


@dataclass(frozen=True)
class Ladder:
    gaps: tuple[int, ...] = DEFAULT_GAPS
    # Weekday numbers as returned by date.weekday(): Monday is 0, Sunday is 6.
    working_days: frozenset[int] = DEFAULT_WORKING_DAYS

    def __post_init__(self) -> None:
        # Settings usually arrive from JSON as lists; normalise so the ladder stays hashable.
        try:
            gaps = tuple(self.gaps)
            working_days = frozenset(self.working_days)
        except TypeError as exc:
            raise InvalidLadder(f"gaps and working days must be collections: {exc}") from None
        if not gaps:
            raise InvalidLadder("the ladder needs at least one gap")
        for gap in gaps:
            # bool is an int subclass; True as "1 day" is surely a mistake in the settings.
            if not isinstance(gap, int) or isinstance(gap, bool) or gap < 1:
                raise InvalidLadder(f"every gap must be a whole number of days >= 1, got {gap!r}")
        for shorter, longer in zip(gaps, gaps[1:], strict=False):
            if longer < shorter:
                raise InvalidLadder(f"gaps must not decrease, got {shorter} then {longer}")
        if not working_days:
            raise InvalidLadder("at least one day of the week must be a working day")
        for day in working_days:
            if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
                raise InvalidLadder(f"working days are weekday numbers 0 to 6, got {day!r}")
        object.__setattr__(self, "gaps", gaps)
        object.__setattr__(self, "working_days", working_days)

    @property
    def top_level(self) -> int:
        return len(self.gaps) - 1

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.working_days

    def next_working_day_on_or_after(self, d: date) -> date:
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """Step |n| working days forward (n > 0) or back (n < 0) from d; d itself never counts."""
        step = timedelta(days=1 if n > 0 else -1)
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def due_after(self, d: date, days: int) -> date:
        return self.next_working_day_on_or_after(d + timedelta(days=days))


@dataclass(frozen=True)
class ItemState:
    level: int
    resume_level: int | None
    streak: int
    lapses: int
    last_coached_on: date
    opened_on: date
    status: str
    escalated: bool
    due_on: date | None
    # The calendar gap that produced due_on; the on-time window is sized from it.
    due_gap: int | None

    @property
    def step(self) -> int:
        """1-based rung on the ladder, as in "check 3 of 6"."""
        return self.level + 1

    @property
    def recovering(self) -> bool:
        return self.resume_level is not None

    @property
    def is_closed(self) -> bool:
        return self.status == CLOSED


def open_item(ladder: Ladder, corrected_on: date) -> ItemState:
    return ItemState(
        level=0,
        resume_level=None,
        streak=0,
        lapses=0,
        last_coached_on=corrected_on,
        opened_on=corrected_on,
        status=ACTIVE,
        escalated=False,
        due_on=ladder.due_after(corrected_on, ladder.gaps[0]),
        due_gap=ladder.gaps[0],
    )


def advance(ladder: Ladder, state: ItemState, outcome: Outcome, observed_on: date) -> ItemState:
    """Apply the outcome of a re-observation made on observed_on; due dates count from that day."""
    outcome = Outcome(outcome)
    if state.status == CLOSED:
        raise ItemClosed("this focus item is closed and takes no further outcomes")
    if observed_on < state.opened_on:
        raise ObservedBeforeOpening(
            f"observed on {observed_on.isoformat()}, before the item was opened on "
            f"{state.opened_on.isoformat()}"
        )

    # The organisation may have shortened its ladder since the item was opened.
    level = min(state.level, ladder.top_level)
    resume = None if state.resume_level is None else min(state.resume_level, ladder.top_level)

    if outcome is Outcome.NO_CHANCE:
        return replace(
            state, due_on=ladder.due_after(observed_on, NO_CHANCE_DAYS), due_gap=NO_CHANCE_DAYS
        )

    if outcome is Outcome.PARTLY:
        gap = RECHECK_DAYS if resume is not None else ladder.gaps[level]
        return replace(
            state,
            level=level,
            resume_level=resume,
            streak=0,
            due_on=ladder.due_after(observed_on, gap),
            due_gap=gap,
        )

    if outcome is Outcome.SLIPPED:
        lapses = state.lapses + 1
        return replace(
            state,
            level=0,
            # A second slip while still recovering means even the middle rungs did not hold.
            resume_level=0 if resume is not None else max(0, level - 2),
            streak=0,
            lapses=lapses,
            last_coached_on=observed_on,
            status=ACTIVE,
            escalated=state.escalated or lapses >= ESCALATION_LAPSES,
            due_on=ladder.due_after(observed_on, RECHECK_DAYS),
            due_gap=RECHECK_DAYS,
        )

    streak = state.streak + 1
    level = resume if resume is not None else min(level + 1, ladder.top_level)
    days_since_coaching = (observed_on - state.last_coached_on).days
    status = state.status
    if streak >= GRADUATION_STREAK and days_since_coaching >= CLOSED_AFTER_DAYS:
        return replace(
            state,
            level=level,
            resume_level=None,
            streak=streak,
            status=CLOSED,
            due_on=None,
            due_gap=None,
        )
    if streak >= GRADUATION_STREAK and days_since_coaching >= SUSTAINED_AFTER_DAYS:
        status = SUSTAINED
    gap = ladder.gaps[level]
    return replace(
        state,
        level=level,
        resume_level=None,
        streak=streak,
        status=status,
        due_on=ladder.due_after(observed_on, gap),
        due_gap=gap,
    )


def replay(ladder: Ladder, opened_on: date, history: Iterable[tuple[Outcome, date]]) -> ItemState:
    """Rebuild an item's state from its opening date and its recorded outcomes, in order."""
    state = open_item(ladder, opened_on)
    for outcome, observed_on in history:
        state = advance(ladder, state, outcome, observed_on)
    return state


def on_time_window(ladder: Ladder, due_on: date, gap: int) -> tuple[date, date]:
    """The first and last day a check due on due_on counts as on time, in working days."""
    if gap < 1:
        raise SchedulingError(f"a gap is at least 1 day, got {gap}")
    # Integer forms of floor(0.1 * gap) and ceil(0.25 * gap): exact where floats are not.
    early = gap // 10
    late = max(1, -(-gap // 4))
    return ladder.add_working_days(due_on, -early), ladder.add_working_days(due_on, late)


def on_time(ladder: Ladder, due_on: date, gap: int, done_on: date) -> bool:
    """Whether a check done on done_on lies in the window around due_on, in working days."""
    first, last = on_time_window(ladder, due_on, gap)
    return first <= done_on <= last


#: How long the author of an outcome may change or undo it: a slip of the thumb, not a rewrite
#: of history (the figures and the agent's log take it as recorded after that).
REVISION_WINDOW = timedelta(minutes=10)


def revisable(recorded_at: datetime, now: datetime) -> bool:
    """Whether an outcome recorded at recorded_at can still be changed or undone at now."""
    return recorded_at <= now <= recorded_at + REVISION_WINDOW


def revise_last(
    ladder: Ladder,
    opened_on: date,
    history: Sequence[tuple[Outcome, date]],
    outcome: Outcome | None,
) -> ItemState:
    """The state after the last recorded outcome is undone (outcome None) or changed to
    `outcome` on the same day: exactly the state a replay of the corrected history gives, so
    an undone check counts as never recorded (lapses, escalation and the next check follow)."""
    if not history:
        raise SchedulingError("there is no recorded outcome to change or undo")
    kept = list(history[:-1])
    if outcome is not None:
        kept.append((Outcome(outcome), history[-1][1]))
    return replay(ladder, opened_on, kept)

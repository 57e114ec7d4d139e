"""The dashboard's own records: a trainer's "handled" on a worklist entry, training cohorts."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from coachapp.extensions import db
from coachapp.models import FocusItem, User, UTCDateTime, utcnow

#: The worklists an entry can be on.
ESCALATED = "escalated"
OVERDUE = "overdue"
COVERAGE = "coverage"
WORKLISTS = (ESCALATED, OVERDUE, COVERAGE)


class WorklistMark(db.Model):
    """A trainer marking a worklist entry handled, with a note the agent's managers read.

    An escalated or overdue entry is a focus item; a coverage entry is an agent.
    """

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    worklist: so.Mapped[str] = so.mapped_column(sa.String(16))
    focus_item_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("focus_item.id", ondelete="CASCADE"), index=True
    )
    agent_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    by: so.Mapped[User] = so.relationship(foreign_keys=[by_id])
    agent: so.Mapped[User] = so.relationship(foreign_keys=[agent_id])
    focus_item: so.Mapped[FocusItem | None] = so.relationship()


cohort_participant = sa.Table(
    "cohort_participant",
    db.metadata,
    sa.Column(
        "cohort_id", sa.ForeignKey("training_cohort.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class TrainingCohort(db.Model):
    """A classroom training with its date and participants: its figures count days since then."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    trained_on: so.Mapped[date]
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    participants: so.Mapped[list[User]] = so.relationship(
        secondary=cohort_participant, order_by=User.name
    )


# --- summary rows the dashboard reads (kept by coachapp.dashboard.summaries) -----------------


class CheckDay(db.Model):
    """Counts of done checks per team, role profile and day, so that the dashboard sums a few
    thousand rows instead of reading every check. Which date `day` is depends on the column:

    - due_done, due_in_window: checks due that day, done (and done inside their on-time window,
      with the organisation's current working days);
    - done, observed, partly, no_chance: checks done that day (by outcome);
    - late_closes, late_done: checks done after their window closed, counted on the first day
      the window was closed and on the day they were done (a check in the backlog as of day D
      and done later is one with late_closes on or before D and late_done after D).

    Checks not done are not here: the dashboard reads those few from the checks themselves.
    """

    __tablename__ = "dashboard_check_day"

    team_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    role_profile_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    day: so.Mapped[date] = so.mapped_column(primary_key=True)
    due_done: so.Mapped[int] = so.mapped_column(default=0)
    due_in_window: so.Mapped[int] = so.mapped_column(default=0)
    late_closes: so.Mapped[int] = so.mapped_column(default=0)
    late_done: so.Mapped[int] = so.mapped_column(default=0)
    done: so.Mapped[int] = so.mapped_column(default=0)
    observed: so.Mapped[int] = so.mapped_column(default=0)
    partly: so.Mapped[int] = so.mapped_column(default=0)
    no_chance: so.Mapped[int] = so.mapped_column(default=0)


class CountedCheck(db.Model):
    """What one done check adds to dashboard_check_day, so that a change of the check (an undo,
    a withdrawn correction, its agent moving team) takes exactly that back out. No foreign key:
    the row outlives a deleted check until summaries takes its counts back."""

    __tablename__ = "dashboard_counted_check"

    followup_id: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    focus_item_id: so.Mapped[int] = so.mapped_column(index=True)
    agent_id: so.Mapped[int] = so.mapped_column(index=True)
    team_id: so.Mapped[int | None]
    role_profile_id: so.Mapped[int]
    due_on: so.Mapped[date]
    done_on: so.Mapped[date]
    #: The first day the check's on-time window is closed.
    closes_on: so.Mapped[date]
    in_window: so.Mapped[bool]
    outcome: so.Mapped[str] = so.mapped_column(sa.String(16))


class ItemSummary(db.Model):
    """Per focus item with a done check, what the relapse and S56 figures read of its checks
    (days t since the item opened): first observed day and first slip after day 0, last observed
    day after day 0, the latest observed outcome on days 49..70 as one sortable number (day,
    sequence, outcome digit), the last day any check was done, and the slips among its checks."""

    __tablename__ = "dashboard_item_summary"

    focus_item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("focus_item.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    first_observed: so.Mapped[int | None]
    first_slip: so.Mapped[int | None]
    last_observed: so.Mapped[int | None]
    s56_key: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    last_done: so.Mapped[int | None]
    slips: so.Mapped[int] = so.mapped_column(default=0)

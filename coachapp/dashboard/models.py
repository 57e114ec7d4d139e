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

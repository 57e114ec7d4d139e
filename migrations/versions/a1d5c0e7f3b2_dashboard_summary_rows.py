"""dashboard summary rows: done checks per team, profile and day; per item; an index of the
checks not done

Revision ID: a1d5c0e7f3b2
Revises: b7e1a2c3d4f5
Create Date: 2026-12-02 14:10:00

"""

import sqlalchemy as sa
import sqlalchemy.orm as so
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1d5c0e7f3b2"
down_revision = "b7e1a2c3d4f5"
branch_labels = None
depends_on = None

PENDING_CHECK = "outcome IS NULL OR observed_on IS NULL"


def upgrade():
    op.create_table(
        "dashboard_check_day",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("role_profile_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *[
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "due_done",
                "due_in_window",
                "late_closes",
                "late_done",
                "done",
                "observed",
                "partly",
                "no_chance",
            )
        ],
        sa.PrimaryKeyConstraint("team_id", "role_profile_id", "day"),
    )
    op.create_table(
        "dashboard_counted_check",
        sa.Column("followup_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("focus_item_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("role_profile_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("in_window", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("followup_id"),
    )
    with op.batch_alter_table("dashboard_counted_check", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_counted_check_agent_id"), ["agent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dashboard_counted_check_focus_item_id"), ["focus_item_id"], unique=False
        )
    op.create_table(
        "dashboard_item_summary",
        sa.Column("focus_item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("first_observed", sa.Integer(), nullable=True),
        sa.Column("first_slip", sa.Integer(), nullable=True),
        sa.Column("last_observed", sa.Integer(), nullable=True),
        sa.Column("s56_key", sa.BigInteger(), nullable=True),
        sa.Column("last_done", sa.Integer(), nullable=True),
        sa.Column("slips", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["focus_item_id"], ["focus_item.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("focus_item_id"),
    )
    op.create_index(
        "ix_followup_not_done",
        "follow_up",
        ["focus_item_id"],
        unique=False,
        sqlite_where=sa.text(PENDING_CHECK),
        postgresql_where=sa.text(PENDING_CHECK),
    )
    # Backfill from the checks already stored, through the code the app keeps them with.
    from coachapp.dashboard import summaries

    session = so.Session(bind=op.get_bind())
    summaries.rebuild(session)
    session.flush()


def downgrade():
    op.drop_index(
        "ix_followup_not_done",
        table_name="follow_up",
        sqlite_where=sa.text(PENDING_CHECK),
        postgresql_where=sa.text(PENDING_CHECK),
    )
    op.drop_table("dashboard_item_summary")
    with op.batch_alter_table("dashboard_counted_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_counted_check_focus_item_id"))
        batch_op.drop_index(batch_op.f("ix_dashboard_counted_check_agent_id"))
    op.drop_table("dashboard_counted_check")
    op.drop_table("dashboard_check_day")

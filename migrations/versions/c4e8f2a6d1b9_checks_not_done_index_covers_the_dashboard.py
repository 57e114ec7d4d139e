"""the index of the checks not done covers what the dashboard reads of them

Revision ID: c4e8f2a6d1b9
Revises: a3c5e1f0b7d2
Create Date: 2026-12-02 19:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e8f2a6d1b9"
down_revision = "a3c5e1f0b7d2"
branch_labels = None
depends_on = None

PENDING_CHECK = "outcome IS NULL OR observed_on IS NULL"


def _index(columns: list[str]) -> None:
    op.create_index(
        "ix_followup_not_done",
        "follow_up",
        columns,
        unique=False,
        sqlite_where=sa.text(PENDING_CHECK),
        postgresql_where=sa.text(PENDING_CHECK),
    )


def upgrade():
    op.drop_index("ix_followup_not_done", table_name="follow_up")
    _index(["focus_item_id", "due_on", "gap", "observed_on", "outcome"])


def downgrade():
    op.drop_index("ix_followup_not_done", table_name="follow_up")
    _index(["focus_item_id"])

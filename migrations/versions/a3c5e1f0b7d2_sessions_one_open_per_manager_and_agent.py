"""sessions: one open session per manager and agent, ended automatically flag

Revision ID: a3c5e1f0b7d2
Revises: a1d5c0e7f3b2
Create Date: 2026-12-02 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c5e1f0b7d2'
down_revision = 'a1d5c0e7f3b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shadow_session', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('ended_automatically', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # Sessions made by merely opening the screen hold no entry: they never were a record.
    op.execute(
        "DELETE FROM shadow_session WHERE NOT EXISTS "
        "(SELECT 1 FROM observation WHERE observation.session_id = shadow_session.id)"
    )
    # Of several open sessions with one agent, the newest stays open; the others end at their
    # last entry, marked as ended automatically, so the new index can hold.
    op.execute(
        "UPDATE shadow_session SET ended_automatically = true, ended_at = "
        "(SELECT max(observation.occurred_at) FROM observation "
        " WHERE observation.session_id = shadow_session.id) "
        "WHERE ended_at IS NULL AND EXISTS (SELECT 1 FROM shadow_session AS newer "
        " WHERE newer.manager_id = shadow_session.manager_id "
        " AND newer.agent_id = shadow_session.agent_id AND newer.ended_at IS NULL "
        " AND (newer.started_at > shadow_session.started_at "
        "  OR (newer.started_at = shadow_session.started_at AND newer.id > shadow_session.id)))"
    )
    with op.batch_alter_table('shadow_session', schema=None) as batch_op:
        batch_op.create_index(
            'uq_shadow_session_open',
            ['manager_id', 'agent_id'],
            unique=True,
            sqlite_where=sa.text('ended_at IS NULL'),
            postgresql_where=sa.text('ended_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('shadow_session', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_shadow_session_open',
            sqlite_where=sa.text('ended_at IS NULL'),
            postgresql_where=sa.text('ended_at IS NULL'),
        )
        batch_op.drop_column('ended_automatically')

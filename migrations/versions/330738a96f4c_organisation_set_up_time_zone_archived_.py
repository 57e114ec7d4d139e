"""organisation set-up: time zone, archived teams, competency descriptions, behaviour examples and retirement

Revision ID: 330738a96f4c
Revises: e7d6af418307
Create Date: 2026-12-01 21:32:43.809198

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '330738a96f4c'
down_revision = 'e7d6af418307'
branch_labels = None
depends_on = None


def upgrade():
    # Rows that exist already get an empty text or the migration's time; the models set both on
    # new rows, so the server defaults are dropped again below.
    with op.batch_alter_table('behaviour', schema=None) as batch_op:
        batch_op.add_column(sa.Column('example', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('name',
               existing_type=sa.VARCHAR(length=80),
               type_=sa.String(length=160),
               existing_nullable=False)

    with op.batch_alter_table('competency', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=False, server_default=''))

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))

    with op.batch_alter_table('role_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.current_timestamp()))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))

    for table, column in [
        ('behaviour', 'example'),
        ('competency', 'description'),
        ('role_profile', 'created_at'),
        ('team', 'created_at'),
    ]:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, server_default=None)


def downgrade():
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('created_at')

    with op.batch_alter_table('role_profile', schema=None) as batch_op:
        batch_op.drop_column('created_at')

    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('timezone')

    with op.batch_alter_table('competency', schema=None) as batch_op:
        batch_op.drop_column('description')

    with op.batch_alter_table('behaviour', schema=None) as batch_op:
        batch_op.alter_column('name',
               existing_type=sa.String(length=160),
               type_=sa.VARCHAR(length=80),
               existing_nullable=False)
        batch_op.drop_column('retired_at')
        batch_op.drop_column('example')


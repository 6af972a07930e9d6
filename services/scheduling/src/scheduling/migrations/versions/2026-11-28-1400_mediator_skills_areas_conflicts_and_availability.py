"""mediator skills, areas, conflicts and availability

Revision ID: 4df451e1ac08
Revises: 7a3d9e1f5c42
Create Date: 2026-11-28 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '4df451e1ac08'
down_revision: str | None = '7a3d9e1f5c42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing mediators get empty lists: every area, no languages or skills recorded, no conflicts.
    op.create_table('mediator_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mediator_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mediator_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_availability_mediator_id'), ['mediator_id'], unique=False)

    op.create_table('mediator_unavailability',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('mediator_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediators.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mediator_unavailability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_unavailability_mediator_id'), ['mediator_id'], unique=False)

    with op.batch_alter_table('mediators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('accessibility_skills', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('areas', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('conflicts', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('mediators', schema=None) as batch_op:
        batch_op.drop_column('conflicts')
        batch_op.drop_column('areas')
        batch_op.drop_column('accessibility_skills')
        batch_op.drop_column('languages')
        batch_op.drop_column('email')

    with op.batch_alter_table('mediator_unavailability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_unavailability_mediator_id'))

    op.drop_table('mediator_unavailability')
    with op.batch_alter_table('mediator_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_availability_mediator_id'))

    op.drop_table('mediator_availability')

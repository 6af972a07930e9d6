"""reminder cancellations: tombstones of the facts that cancel reminders

Revision ID: 3d5e0a7c91b2
Revises: f12c15068271
Create Date: 2026-12-01 23:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '3d5e0a7c91b2'
down_revision: str | None = 'f12c15068271'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_cancellations',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('about_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reminder_cancellations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_cancellations_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reminder_cancellations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_cancellations_case_id'))
    op.drop_table('reminder_cancellations')

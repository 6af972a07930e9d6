"""referrals, provider bookings (venue, attendees, child's views, short-notice consent), no-shows, change history

Revision ID: 7a3d9e1f5c42
Revises: e1f6c7029000
Create Date: 2026-11-28 13:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '7a3d9e1f5c42'
down_revision: str | None = 'e1f6c7029000'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE meetingstatus ADD VALUE IF NOT EXISTS 'no_show'")
    op.create_table(
        'referrals',
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('la_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('provider_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('mediate_by', sa.Date(), nullable=True),
        sa.Column('arranging_body', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('health_issues', sa.Boolean(), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('referred_on', sa.Date(), nullable=False),
        sa.Column('adviser_told_on', sa.Date(), nullable=True),
        sa.Column('breach_raised_on', sa.Date(), nullable=True),
        sa.Column('closed_reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint('case_id'),
    )
    op.create_index('ix_referrals_breach_watch', 'referrals', ['breach_raised_on', 'mediate_by'])
    op.create_table(
        'meeting_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('change', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_meeting_changes_meeting_id'), 'meeting_changes', ['meeting_id'], unique=False)
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('venue', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('remote_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column('booked_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False,
                                      server_default='system'))
        batch_op.add_column(sa.Column('short_notice_consent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('attendees', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('child_views', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('assignment', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('absent_party', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        for column in ('absent_party', 'assignment', 'child_views', 'attendees', 'short_notice_consent_on',
                       'booked_by', 'remote_url', 'venue'):
            batch_op.drop_column(column)
    op.drop_index(op.f('ix_meeting_changes_meeting_id'), table_name='meeting_changes')
    op.drop_table('meeting_changes')
    op.drop_index('ix_referrals_breach_watch', table_name='referrals')
    op.drop_table('referrals')

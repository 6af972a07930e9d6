"""adviser contact date (R4), health notice date (R8), meeting concluded date (R15), human reviews

Revision ID: 3f7a9c2d5e10
Revises: d1a0e5c3b701
Create Date: 2026-12-02 00:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '3f7a9c2d5e10'
down_revision: str | None = 'd1a0e5c3b701'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVIEW_KIND = sa.Enum('late_contact', name='reviewkind')
REVIEW_STATUS = sa.Enum('open', 'resolved', name='reviewstatus')
REVIEW_DECISION = sa.Enum('accepted', 'refused', name='reviewdecision')


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adviser_contacted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('health_notice_sent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('meeting_concluded_on', sa.Date(), nullable=True))
    # R4: until now the adviser contact date was taken to be told_on.
    op.execute("UPDATE cases SET adviser_contacted_on = told_on WHERE notice_sent_on IS NOT NULL")  # mediation cases
    op.create_table(
        'reviews',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('la_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('kind', REVIEW_KIND, nullable=False),
        sa.Column('status', REVIEW_STATUS, nullable=False),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('decision', REVIEW_DECISION, nullable=True),
        sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_la_code'), ['la_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_status'), ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('reviews')
    if op.get_bind().dialect.name == "postgresql":
        for enum in (REVIEW_KIND, REVIEW_STATUS, REVIEW_DECISION):
            enum.drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('meeting_concluded_on')
        batch_op.drop_column('health_notice_sent_on')
        batch_op.drop_column('adviser_contacted_on')

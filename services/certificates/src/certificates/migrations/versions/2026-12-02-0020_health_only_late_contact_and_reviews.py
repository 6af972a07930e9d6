"""health-only and late-contact case facts, certificate outcomes and deadline reasons, reviews

Revision ID: 56fbf9b6f2f7
Revises: d1a0e5c3b703
Create Date: 2026-12-02 00:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '56fbf9b6f2f7'
down_revision: str | None = 'd1a0e5c3b703'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVIEW_KIND = sa.Enum('late_contact', 'mediation_after_missed_deadline', name='reviewkind')
REVIEW_STATUS = sa.Enum('open', 'resolved', name='reviewstatus')
REVIEW_DECISION = sa.Enum('issue', 'refuse', name='reviewdecision')


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for value in ('held', 'refused', 'not_required'):
            op.execute(f"ALTER TYPE certificatestatus ADD VALUE IF NOT EXISTS '{value}'")
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_only', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('late_contact', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appeal_deadline_reason', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=True))
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('reviewed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('later_mediation_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('later_meeting_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.create_table('certificate_reviews',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('case_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('la_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', REVIEW_KIND, nullable=False),
    sa.Column('trigger_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('status', REVIEW_STATUS, nullable=False),
    sa.Column('certificate_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('mediation_date', sa.Date(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('decision', REVIEW_DECISION, nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('issued_certificate_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'kind', 'trigger_ref'),
    )
    with op.batch_alter_table('certificate_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_reviews_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_reviews_la_code'), ['la_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificate_reviews_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('certificate_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_reviews_status'))
        batch_op.drop_index(batch_op.f('ix_certificate_reviews_la_code'))
        batch_op.drop_index(batch_op.f('ix_certificate_reviews_case_id'))
    op.drop_table('certificate_reviews')
    for enum in (REVIEW_DECISION, REVIEW_STATUS, REVIEW_KIND):
        enum.drop(op.get_bind(), checkfirst=True)  # PostgreSQL keeps enum types
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('later_meeting_id')
        batch_op.drop_column('later_mediation_on')
        batch_op.drop_column('reviewed')
        batch_op.drop_column('outcome')
        batch_op.drop_column('appeal_deadline_reason')
    with op.batch_alter_table('case_records', schema=None) as batch_op:
        batch_op.drop_column('late_contact')
        batch_op.drop_column('health_only')
    # PostgreSQL cannot drop the certificate status values added above; they stay unused.

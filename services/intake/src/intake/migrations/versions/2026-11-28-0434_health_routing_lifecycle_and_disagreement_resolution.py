"""health routing, appeal deadline, lifecycle, disagreement resolution

Revision ID: 22632073a59b
Revises: d5dd92c5656a
Create Date: 2026-11-28 04:34:17.872070
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '22632073a59b'
down_revision: str | None = 'd5dd92c5656a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ARRANGING_BODY = sa.Enum('local_authority', 'health_commissioning_body', name='arrangingbody')


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE casestatus ADD VALUE IF NOT EXISTS 'withdrawn'")
        op.execute("ALTER TYPE casekind ADD VALUE IF NOT EXISTS 'disagreement_resolution'")
        ARRANGING_BODY.create(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_only', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('arranging_body', ARRANGING_BODY, nullable=False,
                                      server_default='local_authority'))
        batch_op.add_column(sa.Column('health_bodies_told_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('certificate_issued_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appeal_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('appeal_deadline_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('dr_type', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dr_summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column('dr_parties', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.alter_column('decision',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('decision_date',
               existing_type=sa.DATE(),
               nullable=True)
        batch_op.alter_column('notice_sent_on',
               existing_type=sa.DATE(),
               nullable=True)
        batch_op.alter_column('requester_role',
               existing_type=sa.VARCHAR(length=16),
               nullable=True)
        batch_op.alter_column('requester_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
        batch_op.alter_column('requester_email',
               existing_type=sa.VARCHAR(length=320),
               nullable=True)
        batch_op.alter_column('child_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
        batch_op.alter_column('child_date_of_birth',
               existing_type=sa.DATE(),
               nullable=True)
        batch_op.alter_column('contact_window_ends_on',
               existing_type=sa.DATE(),
               nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('contact_window_ends_on',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.alter_column('child_date_of_birth',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.alter_column('child_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
        batch_op.alter_column('requester_email',
               existing_type=sa.VARCHAR(length=320),
               nullable=False)
        batch_op.alter_column('requester_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
        batch_op.alter_column('requester_role',
               existing_type=sa.VARCHAR(length=16),
               nullable=False)
        batch_op.alter_column('notice_sent_on',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.alter_column('decision_date',
               existing_type=sa.DATE(),
               nullable=False)
        batch_op.alter_column('decision',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.drop_column('dr_parties')
        batch_op.drop_column('dr_summary')
        batch_op.drop_column('dr_type')
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('appeal_deadline_reason')
        batch_op.drop_column('appeal_deadline')
        batch_op.drop_column('certificate_issued_on')
        batch_op.drop_column('health_bodies_told_by')
        batch_op.drop_column('arranging_body')
        batch_op.drop_column('health_only')
    if op.get_bind().dialect.name == "postgresql":
        ARRANGING_BODY.drop(op.get_bind(), checkfirst=True)


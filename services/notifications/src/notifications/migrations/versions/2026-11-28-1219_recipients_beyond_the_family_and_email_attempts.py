"""recipients beyond the family, email attempts

Revision ID: f12c15068271
Revises: 8b6ff3bf17eb
Create Date: 2026-11-28 12:19:17.529525
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'f12c15068271'
down_revision: str | None = '8b6ff3bf17eb'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('email_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_uuid', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.Enum('delivered', 'temporary_failure', 'permanent_failure', name='attemptoutcome'), nullable=False),
    sa.Column('smtp_code', sa.Integer(), nullable=True),
    sa.Column('reply', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.ForeignKeyConstraint(['message_uuid'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_uuid', 'attempt')
    )
    with op.batch_alter_table('email_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_attempts_message_uuid'), ['message_uuid'], unique=False)

    with op.batch_alter_table('case_audiences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('la_code', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('health_issues', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('meeting_invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), server_default='mediation', nullable=False))
        batch_op.add_column(sa.Column('arranging_body', sqlmodel.sql.sqltypes.AutoString(length=32), server_default='local_authority', nullable=False))
        batch_op.add_column(sa.Column('mediator_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient_ref', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_column('recipient_ref')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('recipient_ref')

    with op.batch_alter_table('meeting_invitations', schema=None) as batch_op:
        batch_op.drop_column('mediator_email')
        batch_op.drop_column('arranging_body')
        batch_op.drop_column('kind')

    with op.batch_alter_table('case_audiences', schema=None) as batch_op:
        batch_op.drop_column('health_issues')
        batch_op.drop_column('reference')
        batch_op.drop_column('la_code')

    with op.batch_alter_table('email_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_attempts_message_uuid'))

    op.drop_table('email_attempts')
    sa.Enum(name='attemptoutcome').drop(op.get_bind(), checkfirst=True)  # PostgreSQL keeps enum types

"""verification codes and attempts: an unguessable code per certificate, wrong answers counted per number

Certificates already issued get a code now (their PDFs do not print it: the LA's portal reads it from
``GET /v1/certificates/{id}``, and a reissue prints it).

Revision ID: 8b4e2a6c1f37
Revises: 56fbf9b6f2f7
Create Date: 2026-12-02 10:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from certificates.certificate.verification import new_verification_code

revision: str = '8b4e2a6c1f37'
down_revision: str | None = '56fbf9b6f2f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
    certificates = sa.table('certificates', sa.column('serial', sa.Integer()), sa.column('number', sa.String()),
                            sa.column('verification_code', sa.String()))
    bind = op.get_bind()
    issued = bind.execute(sa.select(certificates.c.serial).where(certificates.c.number.is_not(None))).scalars().all()
    for serial in issued:
        bind.execute(certificates.update().where(certificates.c.serial == serial)
                     .values(verification_code=new_verification_code()))
    op.create_table('verification_attempts',
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('number')
    )
    op.create_index(op.f('ix_verification_attempts_window_started_at'), 'verification_attempts',
                    ['window_started_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_verification_attempts_window_started_at'), table_name='verification_attempts')
    op.drop_table('verification_attempts')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('verification_code')

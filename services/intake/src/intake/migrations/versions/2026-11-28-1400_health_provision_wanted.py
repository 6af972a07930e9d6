"""health care provision wanted (R7, R8)

Revision ID: 8c2f4a6e1b37
Revises: 5b1e0c7a9d21
Create Date: 2026-11-28 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '8c2f4a6e1b37'
down_revision: str | None = '5b1e0c7a9d21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('health_provision_wanted', sqlmodel.sql.sqltypes.AutoString(length=2000),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('health_provision_wanted')

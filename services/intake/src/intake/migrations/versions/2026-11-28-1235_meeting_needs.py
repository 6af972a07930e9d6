"""meeting needs: languages, accessibility needs and the school's URN

Revision ID: 5b1e0c7a9d21
Revises: 22632073a59b
Create Date: 2026-11-28 12:35:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5b1e0c7a9d21'
down_revision: str | None = '22632073a59b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_needs', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('meeting_needs')

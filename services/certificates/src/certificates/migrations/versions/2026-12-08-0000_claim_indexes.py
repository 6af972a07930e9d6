"""claim index: the issuer's claim finds the oldest pending certificate without walking past every one already
issued (issue 12)

Revision ID: c9e5a1f4d732
Revises: e4b1c7a20f13
Create Date: 2026-12-08 00:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'c9e5a1f4d732'
down_revision: str | None = 'e4b1c7a20f13'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_certificates_status_serial', 'certificates', ['status', 'serial'])


def downgrade() -> None:
    op.drop_index('ix_certificates_status_serial', table_name='certificates')

"""email attempts recorded before sending: in_flight and unknown outcomes

Revision ID: 5a8e3c2d7f10
Revises: 3d5e0a7c91b2
Create Date: 2026-12-01 23:55:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '5a8e3c2d7f10'
down_revision: str | None = '3d5e0a7c91b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE attemptoutcome ADD VALUE IF NOT EXISTS 'in_flight'")
        op.execute("ALTER TYPE attemptoutcome ADD VALUE IF NOT EXISTS 'unknown'")


def downgrade() -> None:
    pass  # PostgreSQL cannot drop an enum value; the extra values are harmless

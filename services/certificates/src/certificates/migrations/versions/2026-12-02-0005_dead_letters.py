"""dead letters: each dead-lettered record kept for the ops API (shared.deadletters)

Revision ID: d1a0e5c3b703
Revises: 7018142c0a4f
Create Date: 2026-12-02 00:05:00
"""
from collections.abc import Sequence

from alembic import op

from shared.migrations import create_dead_letters_table, drop_dead_letters_table

revision: str = 'd1a0e5c3b703'
down_revision: str | None = '7018142c0a4f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_dead_letters_table(op)


def downgrade() -> None:
    drop_dead_letters_table(op)

"""work item failures: failing and parked items of the table workers (shared.poison, issue 11)

Revision ID: e4b1c7a20f11
Revises: 3f7a9c2d5e10
Create Date: 2026-12-02 09:30:00
"""
from collections.abc import Sequence

from alembic import op

from shared.migrations import create_work_item_failures_table, drop_work_item_failures_table

revision: str = 'e4b1c7a20f11'
down_revision: str | None = '3f7a9c2d5e10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_work_item_failures_table(op)


def downgrade() -> None:
    drop_work_item_failures_table(op)

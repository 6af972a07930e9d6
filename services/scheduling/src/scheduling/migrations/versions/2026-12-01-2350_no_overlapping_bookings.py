"""no overlapping bookings: a mediator's scheduled meetings never overlap (PostgreSQL exclusion constraint)

Whatever books (the assignment, the provider's booking or reschedule webhook) and however many replicas run,
PostgreSQL refuses a second scheduled meeting of the same mediator whose time overlaps the first
(tstzrange is half-open: a meeting may start when the previous one ends). SQLite, the single-process
embedded default, serialises its writers, so the diary check before each booking is enough there.

Revision ID: 9c2b7f4e1a60
Revises: 4df451e1ac08
Create Date: 2026-12-01 23:50:00
"""
from collections.abc import Sequence

from alembic import op


revision: str = '9c2b7f4e1a60'
down_revision: str | None = '4df451e1ac08'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ex_meetings_mediator_overlap"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # a trusted extension: the database owner may
        op.execute(f"ALTER TABLE meetings ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
                   "(mediator_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status = 'scheduled')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE meetings DROP CONSTRAINT IF EXISTS {CONSTRAINT}")

"""claim indexes: the sender's and the reminder scheduler's claims find the oldest pending row without walking
past every row already done (issue 12: the claim slowed with every email sent)

Revision ID: a7c3e9d2b510
Revises: e4b1c7a20f14
Create Date: 2026-12-08 00:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a7c3e9d2b510'
down_revision: str | None = 'e4b1c7a20f14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_messages_status_next_attempt_at', 'messages', ['status', 'next_attempt_at'])
    op.drop_index('ix_messages_next_attempt_at', table_name='messages')
    op.create_index('ix_reminders_status_due_at', 'reminders', ['status', 'due_at'])
    op.drop_index('ix_reminders_due_at', table_name='reminders')


def downgrade() -> None:
    op.create_index('ix_reminders_due_at', 'reminders', ['due_at'])
    op.drop_index('ix_reminders_status_due_at', table_name='reminders')
    op.create_index('ix_messages_next_attempt_at', 'messages', ['next_attempt_at'])
    op.drop_index('ix_messages_status_next_attempt_at', table_name='messages')

"""claim index: the webhook dispatcher's claim finds the oldest pending webhook without walking past every one
already delivered (issue 12)

Revision ID: b8d4f0e3c621
Revises: e4b1c7a20f12
Create Date: 2026-12-08 00:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'b8d4f0e3c621'
down_revision: str | None = 'e4b1c7a20f12'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_webhook_messages_status_next_attempt_at', 'webhook_messages', ['status', 'next_attempt_at'])
    op.drop_index('ix_webhook_messages_next_attempt_at', table_name='webhook_messages')


def downgrade() -> None:
    op.create_index('ix_webhook_messages_next_attempt_at', 'webhook_messages', ['next_attempt_at'])
    op.drop_index('ix_webhook_messages_status_next_attempt_at', table_name='webhook_messages')

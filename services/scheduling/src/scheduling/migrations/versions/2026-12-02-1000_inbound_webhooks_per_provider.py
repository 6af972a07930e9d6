"""inbound webhooks per provider: a webhook-id is de-duplicated within its provider, not across providers

Each provider chooses its own webhook ids, so a second provider reusing another's id was answered "duplicate"
and its change dropped. The primary key becomes (provider_id, webhook_id). Rows already recorded were sent by
the configured provider (``SCHEDULING_PROVIDER_ID``, default ``kids-send-mediation``): the only one that could
sign before several providers were configured, so their replays stay recognised.

Revision ID: 3f7c1d2e9a84
Revises: d1a0e5c3b702
Create Date: 2026-12-02 10:00:00
"""
import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = '3f7c1d2e9a84'
down_revision: str | None = 'd1a0e5c3b702'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PRIMARY_KEY = "inbound_webhooks_pkey"


def _replace_primary_key(columns: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":  # the table is rebuilt: its unnamed key gives way to the new one
        with op.batch_alter_table("inbound_webhooks", recreate="always") as batch:
            batch.create_primary_key(PRIMARY_KEY, columns)
    else:
        op.drop_constraint(PRIMARY_KEY, "inbound_webhooks", type_="primary")
        op.create_primary_key(PRIMARY_KEY, "inbound_webhooks", columns)


def upgrade() -> None:
    provider = os.environ.get("SCHEDULING_PROVIDER_ID", "kids-send-mediation")
    with op.batch_alter_table("inbound_webhooks") as batch:
        batch.add_column(sa.Column("provider_id", AutoString(length=64), nullable=False,
                                   server_default=sa.literal(provider)))
    with op.batch_alter_table("inbound_webhooks") as batch:
        batch.alter_column("provider_id", server_default=None)
    _replace_primary_key(["provider_id", "webhook_id"])


def downgrade() -> None:
    op.execute("DELETE FROM inbound_webhooks WHERE provider_id <> "
               "(SELECT MIN(provider_id) FROM inbound_webhooks)")  # keep one provider's ids: they stay unique
    _replace_primary_key(["webhook_id"])
    with op.batch_alter_table("inbound_webhooks") as batch:
        batch.drop_column("provider_id")

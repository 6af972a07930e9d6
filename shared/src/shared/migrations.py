"""Alembic glue: each service keeps its migrations in its own package.

The outbox and inbox tables (shared.outbox, shared.inbox) are the same in every
service, so every service's first migration creates them with the functions
below instead of spelling out their columns again.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from alembic.operations import Operations
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

#: The advisory lock a service's migration holds in its database (``shared.db.advisory_key("shared.migrations")``).
MIGRATION_LOCK_KEY = zlib.crc32(b"shared.migrations")


def alembic_config(script_location: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(script_location: str, database_url: str) -> None:
    """Run in a thread: env.py drives its own event loop."""
    command.upgrade(alembic_config(script_location, database_url), "head")


def run_env(target_metadata: Any) -> None:
    """The body of every service's migrations/env.py."""

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas starting together migrate one after another: the second waits here, then finds
                # the schema at head (PostgreSQL runs the whole upgrade in this one transaction).
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(
            context.config.get_section(context.config.config_ini_section, {}),
            prefix="sqlalchemy.", poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())


# The schema of shared.outbox.OutboxEvent and shared.inbox.InboxEvent as first
# migrated. A later change to either model needs a new migration in every
# service (and, if it is the same everywhere, a new function here), never an
# edit of these two: they describe databases that already exist.


def create_outbox_table(op: Operations) -> None:
    """Create ``outbox_events``, the events a service has recorded and its relay publishes."""
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", AutoString(length=64), nullable=False),
        sa.Column("topic", AutoString(length=200), nullable=False),
        sa.Column("type", AutoString(length=200), nullable=False),
        sa.Column("subject", AutoString(length=64), nullable=False),
        sa.Column("envelope", AutoString(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_published_at"), ["published_at"], unique=False)


def drop_outbox_table(op: Operations) -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_published_at"))
    op.drop_table("outbox_events")


def create_inbox_table(op: Operations) -> None:
    """Create ``inbox_events``, the ids of the events a service has handled (a redelivery is a no-op)."""
    op.create_table(
        "inbox_events",
        sa.Column("event_id", AutoString(length=64), nullable=False),
        sa.Column("type", AutoString(length=200), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )


def drop_inbox_table(op: Operations) -> None:
    op.drop_table("inbox_events")
def create_dead_letters_table(op: Operations) -> None:
    """The ``dead_letters`` table every service keeps (``shared.deadletters``), for its Alembic migration."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("error", sa.String(1000), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=True),
        sa.Column("event_type", sa.String(200), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("key_b64", sa.Text(), nullable=False),
        sa.Column("value_b64", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redrive_attempts", sa.Integer(), nullable=False),
        sa.Column("last_redrive_error", sa.String(1000), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.String(500), nullable=True),
    )


def drop_dead_letters_table(op: Operations) -> None:
    op.drop_table("dead_letters")


def create_work_item_failures_table(op: Operations) -> None:
    """The ``work_item_failures`` table every service keeps (``shared.poison``): failing and parked work items."""
    op.create_table(
        "work_item_failures",
        sa.Column("worker", sa.String(64), nullable=False),
        sa.Column("item_key", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True, index=True),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("error", sa.String(1000), nullable=False),
        sa.Column("dead_letter_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("worker", "item_key"),
    )


def drop_work_item_failures_table(op: Operations) -> None:
    op.drop_table("work_item_failures")

"""The baseline for the intake benchmark: a bare FastAPI endpoint that inserts the posted JSON as one row.

Same stack as the services (uvicorn, FastAPI, async SQLAlchemy over asyncpg, the same pool size) on the same
PostgreSQL, without validation, rules, idempotency, outbox or Kafka: what is left of intake's latency above
this is the cost of the product's own work.

``uvicorn benchmarks.baseline_app:create_app --factory`` with ``BENCH_BASELINE_DATABASE_URL`` set.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Header
from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import create_async_engine

metadata = MetaData()
items = Table(
    "items", metadata,
    Column("id", String(36), primary_key=True),
    Column("idempotency_key", String(255)),
    Column("body", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ["BENCH_BASELINE_DATABASE_URL"], pool_pre_ping=True, pool_size=10,
                                 max_overflow=10)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(title="benchmark baseline: bare insert", lifespan=lifespan)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/items", status_code=201)
    async def insert(body: dict[str, Any], idempotency_key: str | None = Header(default=None)) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        async with engine.begin() as connection:
            await connection.execute(items.insert().values(
                id=row_id, idempotency_key=idempotency_key, body=body, created_at=datetime.now(UTC)))
        return {"id": row_id}

    return app

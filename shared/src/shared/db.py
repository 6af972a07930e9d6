"""Async engine and sessions; commits wake the workers that wait on them."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from sqlalchemy import Table, bindparam, event, insert, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import psycopg2
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlmodel.ext.asyncio.session import AsyncSession

WAKERS = "wakers"
ON_COMMIT = "on_commit"
DIRTY = "dirty_workers"


def _remember_factory_signatures() -> None:
    """Building a table row (``Case(...)``) makes SQLModel ask each defaulted field for its default, and pydantic's
    FieldInfo answers whether the default factory takes the validated data by ``inspect.signature`` of the
    factory, every time: for ``list`` and ``dict`` that parses their text signature (``ast.parse``). A tenth of
    intake's CPU per ``POST /v1/cases``, and cyclic garbage on every row (pydantic does remember it for private
    attributes, pydantic PR 13382). A factory's signature never changes: it is worked out once per factory."""
    answer = FieldInfo.default_factory_takes_validated_data
    if not isinstance(answer, property) or answer.fget is None or getattr(answer.fget, "remembered", False):
        return
    inspect_factory = answer.fget
    known: dict[Any, bool | None] = {}

    def takes_validated_data(self: FieldInfo) -> bool | None:
        factory = self.default_factory
        if factory is None:
            return None
        try:
            return known[factory]
        except KeyError:
            known[factory] = value = inspect_factory(self)
            return value
        except TypeError:  # an unhashable factory: asked every time, as before
            return inspect_factory(self)

    remembered = property(takes_validated_data, doc=answer.__doc__)
    remembered.fget.remembered = True
    FieldInfo.default_factory_takes_validated_data = remembered


_remember_factory_signatures()


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: a database error never carries the bound values (names, dates of birth) into a log line.
    engine = create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=POOL_RECYCLE_SECONDS,
                                 hide_parameters=True)
    event.listen(engine.sync_engine, "checkout", _discard_closed)
    return engine


#: A pooled PostgreSQL connection older than this is replaced at its next checkout (a firewall or proxy that
#: silently drops long-idle connections never hands one back).
POOL_RECYCLE_SECONDS = 1800


def _discard_closed(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, a shutdown, a terminated backend).

    asyncpg notices the server closing the socket while the connection sits in the pool, so checking costs
    nothing; SQLAlchemy's ``pool_pre_ping`` asked the server instead, three round trips (BEGIN, ``;``,
    ROLLBACK) before every transaction. On ``DisconnectionError`` the pool drops the connection and checks out
    another (``dbapi_connection`` is SQLAlchemy's adapter; ``_connection`` the asyncpg connection it wraps).
    """
    if dbapi_connection._connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_sessionmaker(
    engine: AsyncEngine, *, source: str, wakers: dict[str, Callable[[], None]], settings: Any = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions carry the event source, the workers to wake and the service settings in ``info``."""
    return async_sessionmaker(
        engine, class_=AsyncSession, expire_on_commit=False,
        info={"event_source": source, WAKERS: wakers, "settings": settings},
    )


def wake_after_commit(session: AsyncSession | Session, worker: str) -> None:
    """Ask for ``worker`` to be woken once this session's transaction commits."""
    info = session.info
    info.setdefault(DIRTY, set()).add(worker)


def after_commit(session: AsyncSession | Session, action: Callable[[], None]) -> None:
    """Run ``action`` once this session's transaction commits, and never if it rolls back.

    For what must happen once per committed change, such as a metric counting alerts: a consumer's transaction
    that fails and is handled again (alone, or after a retry) would otherwise count its alert each time.
    """
    session.info.setdefault(ON_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _on_commit(session: Session) -> None:
    for action in session.info.pop(ON_COMMIT, ()):
        action()
    dirty = session.info.pop(DIRTY, None)
    if not dirty:
        return
    wakers = session.info.get(WAKERS, {})
    for name in dirty:
        waker = wakers.get(name)
        if waker is not None:
            waker()


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(DIRTY, None)
    session.info.pop(ON_COMMIT, None)


def is_sqlite(engine: AsyncEngine | Engine) -> bool:
    return engine.dialect.name == "sqlite"


def advisory_key(name: str) -> int:
    """A stable PostgreSQL advisory-lock key for ``name`` (the same in every process and replica)."""
    return zlib.crc32(name.encode())


async def try_advisory_xact_lock(session: AsyncSession, name: str) -> bool:
    """Take the advisory lock ``name`` for this transaction if free (commit or rollback releases it).

    Several replicas share one PostgreSQL database: this is how one of them does a job that must run once at a
    time. True on SQLite, which has one writer at a time anyway and is never shared by replicas.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(await session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": advisory_key(name)}))


async def advisory_xact_lock(session: AsyncSession, name: str) -> None:
    """Wait for the advisory lock ``name`` and hold it for this transaction (no-op on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.scalar(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})


async def insert_added(session: AsyncSession) -> None:
    """Write the rows added to this session since its last flush, on PostgreSQL in one statement.

    ``session.flush()`` sends one ``INSERT`` per table (a new case is four: the case, its Idempotency-Key,
    its timeline entry, its outbox events), each a round trip, through the unit of work. Here they are one
    statement whose data-modifying CTEs insert into each table (PostgreSQL checks the foreign keys once the
    whole statement has run, so the order of the tables does not matter). Rows with a primary key of their
    own stay in the session, as after a flush; rows numbered by the database (``id`` serial, left ``None``)
    are not read back and leave it. Anything else pending (a changed or deleted row), or SQLite, which has
    no data-modifying CTEs: a plain flush.
    """
    new = sorted(session.new, key=lambda obj: sa_inspect(obj).insert_order)  # serial ids in the order added
    if not new or session.dirty or session.deleted or session.get_bind().dialect.name != "postgresql":
        await session.flush()
        return
    rows: dict[Table, list[dict[str, Any]]] = {}
    for obj in new:
        row = row_values(obj)
        if row is None:
            await session.flush()  # inheritance or related objects: the unit of work orders them
            return
        table, values = row
        same = rows.setdefault(table, [])
        if same and same[0].keys() != values.keys():
            await session.flush()  # one statement per table takes one set of columns
            return
        same.append(values)
    shape = tuple((table, tuple(values[0]), len(values)) for table, values in rows.items())
    params = {f"t{t}r{r}_{key}": value for t, values in enumerate(rows.values())
              for r, row in enumerate(values) for key, value in row.items()}
    with session.no_autoflush:  # else the statement would flush them first, the usual way
        await session.exec(_insert_statement(shape), params=params)
    for obj in new:
        session.expunge(obj)
        if None not in sa_inspect(obj).mapper.primary_key_from_instance(obj):
            mark_written(session, obj)


def row_values(obj: Any) -> tuple[Table, dict[str, Any]] | None:
    """The table and the column values a flush would insert for the new row ``obj``; None when the unit of
    work must order it (a mapping over several tables, or with relationships)."""
    mapper = sa_inspect(obj).mapper
    if len(mapper.tables) != 1 or mapper.relationships:
        return None
    values = {}
    for prop in mapper.column_attrs:
        [column] = prop.columns
        value = getattr(obj, prop.key)
        if value is None and (column.server_default is not None or (
                column.primary_key and column.autoincrement in (True, "auto"))):
            continue  # the database gives it, as a flush would leave it out
        values[column.key] = value
    table = mapper.local_table
    assert isinstance(table, Table)
    return table, values


def mark_written(session: AsyncSession, obj: Any) -> None:
    """``obj`` (with its primary key) was inserted by a statement of our own: persistent and clean in the
    session, as after a flush."""
    make_transient_to_detached(obj)
    session.add(obj)


#: Renders ``:name`` parameters without asyncpg's casts, for ``text()``.
_NAMED_PARAMETERS = psycopg2.dialect(paramstyle="named")  # type: ignore[no-untyped-call]


@lru_cache(maxsize=256)
def _insert_statement(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Any:
    """One statement for rows of these tables, columns and counts, built once.

    SQLAlchemy does not cache the compiled form of a multi-row ``VALUES`` (it compiled the statement again at
    every call, which cost more than the flush): it is compiled here once, to text with typed parameters,
    which it does cache, and whose types still convert each value (JSON, enums) as the ORM would."""
    binds = {}
    statements = []
    for t, (table, keys, count) in enumerate(shape):
        rows = []
        for r in range(count):
            row = {}
            for key in keys:
                name = f"t{t}r{r}_{key}"
                row[key] = binds[name] = bindparam(name, type_=table.c[key].type)
            rows.append(row)
        statements.append(insert(table).values(rows))
    *first, last = statements
    statement = last.add_cte(*(s.cte(f"added_{i}") for i, s in enumerate(first))) if first else last
    sql = str(statement.compile(dialect=_NAMED_PARAMETERS))  # :name, casts only for JSON
    sql = re.sub(r":(\w+)::(\w+)", r"CAST(:\1 AS \2)", sql)  # text() reads ``:name::JSON`` as no parameter
    return text(sql).bindparams(*binds.values())

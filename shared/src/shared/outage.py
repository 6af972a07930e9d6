"""Is this failure an outage of a dependency, or a failure of the work itself?

An outage (the database or the broker unreachable, starting up, shutting down,
in recovery, out of connections) says nothing about the event or row being
worked on: it is retried for as long as it lasts and never dead-lettered or
parked. Whatever wraps the driver's error (SQLAlchemy's DBAPIError around
asyncpg's, a cause chain, an OSError on connect), the answer is the same.
"""

from __future__ import annotations

from aiokafka.errors import (
    InvalidMessageError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout

#: SQLSTATE classes: 08 connection exception, 53 insufficient resources (e.g. too many connections).
OUTAGE_SQLSTATE_CLASSES = frozenset({"08", "53"})
#: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down, in recovery).
OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


#: The broker (or the producer, before sending) refuses this record itself: no retry can change that.
RECORD_REFUSED = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidMessageError)


class InfrastructureUnavailable(Exception):
    """The database or broker is unreachable: retry for ever, never dead-letter."""


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc``, the driver error it wraps (``orig``) and its causes, each once."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is known for known in seen) or len(seen) > 20:
            continue
        seen.append(current)
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])
    return seen


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE somewhere in ``exc``'s chain, if any."""
    for cause in _causes(exc):
        code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(code, str) and len(code) == 5:
            return code
    return None


def _is_outage_itself(exc: BaseException) -> bool:
    if isinstance(exc, (IntegrityError, *RECORD_REFUSED)):
        return False
    if isinstance(exc, InfrastructureUnavailable | OSError | SAInterfaceError | DisconnectionError | PoolTimeout
                  | OperationalError | KafkaError):
        return True
    return bool(getattr(exc, "connection_invalidated", False))


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` means a dependency is unavailable rather than the work being wrong."""
    code = sqlstate(exc)
    if code is not None:
        return code in OUTAGE_SQLSTATES or code[:2] in OUTAGE_SQLSTATE_CLASSES
    return any(_is_outage_itself(cause) for cause in _causes(exc))

"""JSON logs that carry case id and trace id, and never personal data.

Log an event name with ids bound as key/values. Keys that name personal data
are dropped by a processor as a second line of defence; event payloads are
never logged at all.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any

import structlog

PERSONAL_KEYS = frozenset(
    {"name", "email", "requester", "parent", "child", "date_of_birth", "dob", "address",
     "phone", "recipient", "to", "surname", "body", "data", "pdf", "pdf_base64"}
)

_configured = False


#: Parts of a key that mark it personal wherever they appear (requester_email, child_name, ...).
PERSONAL_KEY_PARTS = ("name", "email", "birth", "dob", "address", "phone")
NOT_PERSONAL = frozenset({"event", "logger", "level", "timestamp", "service", "logger_name"})


def _is_personal(key: str) -> bool:
    return key in PERSONAL_KEYS or (key not in NOT_PERSONAL and any(part in key for part in PERSONAL_KEY_PARTS))


def _drop_personal(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in [k for k in event_dict if _is_personal(k)]:
        event_dict[key] = "[redacted]"
    return event_dict


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None) or getattr(getattr(exc, "orig", None),
                                                                                      "sqlstate", None)
    return code if isinstance(code, str) and len(code) == 5 else None


def format_exception_safely(exc: BaseException) -> str:
    """A traceback without any exception's message: messages of database and validation errors quote values
    (PostgreSQL's ``DETAIL: Key (child_name)=(...) already exists``, pydantic's ``input_value=...``), which may
    be personal data. Each exception of the chain appears by class, SQLSTATE and frames (file, line, function,
    the source line), which is what finding the bug needs."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {(f.line or "").strip()}' for f in frames]
        code = _sqlstate(current)
        kind = f"{type(current).__module__}.{type(current).__qualname__}" + (f" (SQLSTATE {code})" if code else "")
        parts.append("Traceback (most recent call last):\n" + "\n".join(lines) + f"\n{kind}: [message withheld]")
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return "\n\nwhich was raised while handling, or caused by:\n\n".join(parts)


def _format_exc_info(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Like structlog's ``format_exc_info``, for structlog's and stdlib's (uvicorn's) records alike, but safe."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        error: BaseException = exc_info[1]
        tb: TracebackType | None = exc_info[2]
        if error.__traceback__ is None and tb is not None:
            error = error.with_traceback(tb)
        event_dict["exception"] = format_exception_safely(error)
    return event_dict


def _add_trace_ids(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Every line inside a request or a consumed event carries its trace id, to join the services' logs."""
    from shared.tracing import trace_ids

    return {**trace_ids(), **event_dict}


def configure_logging(service: str, level: str = "INFO") -> None:
    global _configured
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
        _drop_personal,
    ]
    structlog.configure(
        # A line below the level is dropped before any processor runs (the debug lines of every relay batch).
        processors=[structlog.stdlib.filter_by_level, *shared_processors,
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            lambda _, __, ed: {**ed, "service": service},
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's own lines as JSON too; but ``--no-access-log`` (which leaves uvicorn.access without handlers and
    # not propagating, before the app is built) stays off: a line per request is the operator's choice.
    access = logging.getLogger("uvicorn.access")
    access_log_off = not access.handlers and not access.propagate
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = not (name == "uvicorn.access" and access_log_off)
    for noisy in ("aiokafka", "kafka", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


bind_contextvars = structlog.contextvars.bind_contextvars
bound_contextvars = structlog.contextvars.bound_contextvars

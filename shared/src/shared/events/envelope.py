"""CloudEvents 1.0 envelope, typed by its ``data`` model."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared import clock

SPECVERSION = "1.0"

#: A field holding personal data (names, contact details, dates of birth).
#: It is kept out of ``repr`` so it cannot leak into logs or tracebacks.
Personal = Annotated[str, Field(repr=False)]
OptionalPersonal = Annotated[str | None, Field(repr=False)]


class EventData(BaseModel):
    """Base of every event payload.

    Frozen, and tolerant of fields it does not know (``extra="ignore"``) so a
    producer may add fields without breaking older readers. A change that
    breaks readers is a new class with a new version (``...V2``).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: ClassVar[str]
    topic: ClassVar[str]


DataT = TypeVar("DataT", bound=EventData)


class Envelope(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 event: context attributes plus typed ``data``."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    specversion: str = SPECVERSION
    type: str
    time: datetime = Field(default_factory=clock.now)
    subject: str = Field(description="The case id; also the Kafka message key.")
    datacontenttype: str = "application/json"
    traceparent: str | None = None
    data: DataT

    @classmethod
    def of(cls, data_type: builtins.type[EventData]) -> builtins.type[Envelope[Any]]:  # (``type`` is a field)
        """``Envelope[data_type]``, built once per process: pydantic keeps the classes it builds for a generic only
        weakly, so each garbage collection threw them away and the next event built one again (milliseconds)."""
        typed = _TYPED.get(data_type)
        if typed is None:
            typed = _TYPED[data_type] = Envelope[data_type]  # type: ignore[valid-type]
        return typed

    @classmethod
    def wrap(cls, data: EventData, *, source: str, subject: str, **attrs: Any) -> Envelope[Any]:
        return cls.of(type(data))(source=source, type=data.type, subject=subject, data=data, **attrs)


_TYPED: dict[type[EventData], type[Envelope[Any]]] = {}

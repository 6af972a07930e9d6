"""Events owned by scheduling, on the topic ``scheduling.meetings``.

What was said in a meeting never appears here (R20).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from shared.events.envelope import EventData

TOPIC = "scheduling.meetings"


class MeetingScheduledV1(EventData):
    """A mediation meeting was booked with an independent mediator.

    ``starts_at`` and ``ends_at`` are timezone-aware; the notice given is at
    least 5 clear working days (R11).
    """

    type: ClassVar[str] = "meeting.scheduled.v1"
    topic: ClassVar[str] = TOPIC

    meeting_id: str
    case_id: str
    mediator_id: str
    mediator_name: str
    provider_name: str
    starts_at: datetime
    ends_at: datetime
    location: str
    arranging_body: Literal["local_authority", "health_commissioning_body"]


class MeetingConcludedV1(EventData):
    """The provider reported that a mediation meeting concluded.

    Certificates issues the mediator certificate (due within 3 working days
    of ``concluded_on``, R15), whatever the agreement.
    """

    type: ClassVar[str] = "meeting.concluded.v1"
    topic: ClassVar[str] = TOPIC

    meeting_id: str
    case_id: str
    mediator_name: str
    provider_name: str
    concluded_on: date
    held: bool
    agreement: Literal["full", "partial", "none"]

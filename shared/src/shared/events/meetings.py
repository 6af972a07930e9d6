"""Events owned by scheduling, on the topic ``scheduling.meetings``.

What was said in a meeting never appears here (R20).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from shared.events.envelope import EventData

TOPIC = "scheduling.meetings"

#: Why a meeting moved or was called off, as a short code (``mediator_unavailable``,
#: ``requested_by_parent``, ...), never free text: nothing said in mediation travels (R20).
ReasonCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


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


class MeetingRescheduledV1(EventData):
    """A booked mediation meeting moved to a new time or place.

    ``sequence`` counts the revisions of the booking (0 at booking, 1 after
    the first change, ...); notifications sends an updated calendar
    invitation under the same UID with a higher SEQUENCE. The new time again
    gives at least 5 clear working days' notice unless the parent or young
    person consented to less (R11).
    """

    type: ClassVar[str] = "meeting.rescheduled.v1"
    topic: ClassVar[str] = TOPIC

    meeting_id: str
    case_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    sequence: int = Field(ge=1)
    reason: ReasonCode = "other"


class MeetingCancelledV1(EventData):
    """A booked mediation meeting was called off and will not take place at that time.

    Notifications withdraws the calendar invitation (``METHOD:CANCEL``, same
    UID) and cancels the meeting's reminders. A new meeting, if any, comes as
    a new ``meeting.scheduled``.
    """

    type: ClassVar[str] = "meeting.cancelled.v1"
    topic: ClassVar[str] = TOPIC

    meeting_id: str
    case_id: str
    sequence: int = Field(ge=1)
    reason: ReasonCode = "other"


class ProviderEndpointDisabledV1(EventData):
    """Scheduling stopped sending webhooks to a provider endpoint (410 Gone, or every retry failed).

    For operations staff: referrals and booking changes for the provider wait until the
    endpoint is fixed and recovered. ``subject`` is the case whose delivery failed last.
    """

    type: ClassVar[str] = "provider.endpoint_disabled.v1"
    topic: ClassVar[str] = "scheduling.operations"

    endpoint_id: str
    provider_id: str
    reason: str
    failed_message_id: str


class MeetingDeadlineMissedV1(EventData):
    """The arranging body cannot arrange mediation within the 30 days (R10).

    The mediation adviser is told at once (``adviser_told_on``) and must issue the
    certificate within 3 working days; mediation may still take place later.
    """

    type: ClassVar[str] = "meeting.deadline_missed.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    meeting_id: str | None = None
    mediate_by: date
    earliest_possible_on: date | None = None
    adviser_told_on: date
    arranging_body: Literal["local_authority", "health_commissioning_body"] = "local_authority"

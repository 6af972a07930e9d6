"""Events owned by scheduling, on the topic ``scheduling.meetings``; and on ``scheduling.timeline`` the same
meeting steps for intake's case timeline, without the mediator's contact details (data minimisation).

What was said in a meeting never appears here (R20).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from shared.events.envelope import EventData, OptionalPersonal

TOPIC = "scheduling.meetings"
#: The meeting steps as intake's timeline shows them: no contact details. Written with each ``meeting.*``
#: event it mirrors, in the same transaction, keyed by case id.
TIMELINE_TOPIC = "scheduling.timeline"

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
    kind: Literal["mediation", "disagreement_resolution"] = "mediation"
    #: The mediator's work address, for their invitation; personal data, never logged.
    mediator_email: OptionalPersonal = None
    #: R11: booked with less than 5 clear working days' notice because the parent or young person consented.
    short_notice_consented: bool = False
    #: R8/R12: health issues are in dispute, so the health commissioning body is invited too.
    health_issues: bool = False
    #: The case's LA (ONS code), so its officers are invited even if this arrives before the case's own event.
    la_code: str = ""


class MeetingConcludedV1(EventData):
    """The provider reported that a mediation meeting concluded.

    Certificates issues the mediator certificate (due within 3 working days
    of ``concluded_on``, R15), whatever the agreement; but none for a
    health-only case (R2), and a review instead after late contact (R4) or
    when a certificate for a missed 30 days (R10) already counts.
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


class MeetingNoShowV1(EventData):
    """A booked meeting did not take place because a party did not come (reported by the provider).

    ``absent_party`` names the role, ``reason`` is a short code; nothing said travels (R20). No certificate
    follows from a no-show by itself: the provider rebooks (a new ``meeting.scheduled``), or the 30-day date
    passes and ``meeting.deadline_breached`` follows.
    """

    type: ClassVar[str] = "meeting.no_show.v1"
    topic: ClassVar[str] = TOPIC

    meeting_id: str
    case_id: str
    scheduled_for: datetime
    absent_party: Literal["parent", "young_person", "local_authority", "health_commissioning_body", "mediator"]
    reason: ReasonCode = "other"


class MeetingDeadlineBreachedV1(EventData):
    """Day 30 (R8/R9) arrived and no mediation meeting has been held (R10).

    For the LA and operations: the statutory date has passed or is passing without mediation. Sent once per
    case. If the adviser was not told earlier (``meeting.deadline_missed``), scheduling tells them now too.
    """

    type: ClassVar[str] = "meeting.deadline_breached.v1"
    topic: ClassVar[str] = TOPIC

    case_id: str
    la_code: str
    meeting_id: str | None = None
    mediate_by: date
    arranging_body: Literal["local_authority", "health_commissioning_body"] = "local_authority"
    meeting_status: Literal["scheduled", "cancelled", "no_show", "none"] = "scheduled"


class TimelineMeetingScheduledV1(EventData):
    """``meeting.scheduled`` for intake's case timeline: when, and with which provider."""

    type: ClassVar[str] = "timeline.meeting_scheduled.v1"
    topic: ClassVar[str] = TIMELINE_TOPIC

    meeting_id: str
    case_id: str
    provider_name: str
    starts_at: datetime
    ends_at: datetime
    kind: Literal["mediation", "disagreement_resolution"] = "mediation"


class TimelineMeetingConcludedV1(EventData):
    """``meeting.concluded`` for intake's case timeline; a held mediation starts the certificate's 3 working
    days (R15)."""

    type: ClassVar[str] = "timeline.meeting_concluded.v1"
    topic: ClassVar[str] = TIMELINE_TOPIC

    meeting_id: str
    case_id: str
    concluded_on: date
    held: bool
    agreement: Literal["full", "partial", "none"]

"""Which message each event sends, to whom: the message catalogue."""

from __future__ import annotations

from dataclasses import dataclass

REQUESTER = "requester"  # the parent or young person
FAMILY_ROLES = frozenset({"parent", "young_person"})


def may_address(role: str, *, case_has_requester: bool) -> bool:
    """R21: a case without a parent or young person party (type-4 disagreement resolution) sends them nothing."""
    return role != REQUESTER or case_has_requester


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    deadline_bound: bool  # a permanent failure needs someone to contact the family another way


CASE_RECEIVED = Template("case_received", "We have received your request for mediation", False)
DECLINE_RECEIVED = Template("decline_received", "Your mediation certificate is on its way", True)
MEETING_SCHEDULED = Template("meeting_scheduled", "Your mediation meeting is booked", True)
CERTIFICATE_ISSUED = Template("certificate_issued", "Your mediation certificate", True)
MEETING_RESCHEDULED = Template("meeting_rescheduled", "Your mediation meeting has moved", True)
MEETING_CANCELLED = Template("meeting_cancelled", "Your mediation meeting is cancelled", True)
MEETING_REMINDER = Template("meeting_reminder", "Reminder: your mediation meeting", False)

TEMPLATES = {t.name: t for t in (CASE_RECEIVED, DECLINE_RECEIVED, MEETING_SCHEDULED, CERTIFICATE_ISSUED,
                                 MEETING_RESCHEDULED, MEETING_CANCELLED, MEETING_REMINDER)}

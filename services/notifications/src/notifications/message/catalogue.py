"""Which message each event sends, to whom: the message catalogue."""

from __future__ import annotations

from dataclasses import dataclass

REQUESTER = "requester"  # the parent or young person


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    deadline_bound: bool  # a permanent failure needs someone to contact the family another way


CASE_RECEIVED = Template("case_received", "We have received your request for mediation", False)
DECLINE_RECEIVED = Template("decline_received", "Your mediation certificate is on its way", True)
MEETING_SCHEDULED = Template("meeting_scheduled", "Your mediation meeting is booked", True)
CERTIFICATE_ISSUED = Template("certificate_issued", "Your mediation certificate", True)

TEMPLATES = {t.name: t for t in (CASE_RECEIVED, DECLINE_RECEIVED, MEETING_SCHEDULED, CERTIFICATE_ISSUED)}

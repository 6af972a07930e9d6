"""Which message each event sends, to whom: the message catalogue.

``CATALOGUE`` is the data the handlers follow: for each event type, who gets
which template, and on what condition. ``REMINDERS`` lists what each event
plans for later and what cancels it. docs/notifications.md ("Who gets which
email") shows both as tables; a unit test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Recipient kinds: a message's ``recipient_role``. Addresses are looked up when the message is sent.
REQUESTER = "requester"  # the parent or young person (from the case events; personal data)
LA_OFFICER = "la_officer"  # the LA's SEND team mailbox (directory: officer_email)
MEDIATOR = "mediator"  # the meeting's mediator (meeting.scheduled: mediator_email); ref = the meeting id
HEALTH_BODY = "health_body"  # each health commissioning body of the LA (directory); ref = the body's id
ADVISER = "adviser"  # the LA's mediation adviser (directory: mediation_adviser.email)
PROVIDER = "provider"  # the LA's mediation provider (directory: mediation_provider.email)
OPS = "ops"  # operations staff (setting NOTIFICATIONS_OPS_EMAIL)

RECIPIENTS = {
    REQUESTER: "parent or young person",
    LA_OFFICER: "LA officer (SEND team)",
    MEDIATOR: "mediator",
    HEALTH_BODY: "each health commissioning body",
    ADVISER: "mediation adviser",
    PROVIDER: "mediation provider",
    OPS: "operations",
}
FAMILY_ROLES = frozenset({"parent", "young_person"})


def may_address(role: str, *, case_has_requester: bool) -> bool:
    """R21: a case without a parent or young person party (type-4 disagreement resolution) sends them nothing."""
    return role != REQUESTER or case_has_requester


@dataclass(frozen=True)
class Template:
    name: str
    subject: str
    deadline_bound: bool  # a permanent failure needs someone to contact the recipient another way
    audience: Literal["family", "staff"] = "family"  # which layout: plain words for families, case facts for staff


# To the parent or young person.
CASE_RECEIVED = Template("case_received", "We have received your request for mediation", False)
DECLINE_RECEIVED = Template("decline_received", "Your mediation certificate is on its way", True)
MEETING_SCHEDULED = Template("meeting_scheduled", "Your {{ meeting_words | default('mediation meeting') }} is booked", True)
CERTIFICATE_ISSUED = Template("certificate_issued", "Your mediation certificate", True)
MEETING_RESCHEDULED = Template("meeting_rescheduled", "Your {{ meeting_words | default('mediation meeting') }} has moved", True)
MEETING_CANCELLED = Template("meeting_cancelled", "Your {{ meeting_words | default('mediation meeting') }} is cancelled", True)
MEETING_REMINDER = Template("meeting_reminder", "Reminder: your {{ meeting_words | default('mediation meeting') }}", False)
MEETING_NO_SHOW = Template("meeting_no_show", "Your {{ meeting_words | default('mediation meeting') }} did not go ahead", False)
DEADLINE_MISSED = Template("deadline_missed", "Your mediation could not be arranged in time", True)

# To the LA, the mediator, the health commissioning bodies, the adviser, the provider and ops.
NEW_REQUEST_NOTICE = Template("new_request_notice", "New mediation request", True, "staff")
HEALTH_BODY_NOTICE = Template("health_body_notice", "Mediation request with health issues", True, "staff")
DECLINE_NOTICE = Template("decline_notice", "Mediation declined: adviser certificate due", False, "staff")
WITHDRAWAL_NOTICE = Template("withdrawal_notice", "Case withdrawn", False, "staff")
DR_REQUEST_NOTICE = Template("dr_request_notice", "New disagreement resolution request", False, "staff")
MEETING_BOOKED_NOTICE = Template("meeting_booked_notice", "Meeting booked", True, "staff")
MEETING_MOVED_NOTICE = Template("meeting_moved_notice", "Meeting moved", True, "staff")
MEETING_CANCELLED_NOTICE = Template("meeting_cancelled_notice", "Meeting cancelled", True, "staff")
MEETING_CONCLUDED_NOTICE = Template("meeting_concluded_notice", "Mediation concluded: certificate due", False, "staff")
MEETING_NO_SHOW_NOTICE = Template("meeting_no_show_notice", "Meeting did not go ahead", False, "staff")
DEADLINE_MISSED_NOTICE = Template("deadline_missed_notice", "Mediation not arranged within 30 days", True, "staff")
DEADLINE_BREACHED_ALERT = Template("deadline_breached_alert", "Deadline breach: no mediation held by day 30", True,
                                   "staff")
CERTIFICATE_ISSUED_NOTICE = Template("certificate_issued_notice", "Mediation certificate issued", False, "staff")
CERTIFICATE_DUE_REMINDER = Template("certificate_due_reminder", "Reminder: mediation certificate due", True, "staff")
DEADLINE_AT_RISK_ALERT = Template("deadline_at_risk_alert", "Deadline at risk: no mediation held yet", True, "staff")
PROVIDER_ENDPOINT_DISABLED_ALERT = Template("provider_endpoint_disabled_alert",
                                            "Provider webhooks stopped: bookings wait until the endpoint is fixed",
                                            True, "staff")

TEMPLATES = {t.name: t for t in (
    CASE_RECEIVED, DECLINE_RECEIVED, MEETING_SCHEDULED, CERTIFICATE_ISSUED, MEETING_RESCHEDULED, MEETING_CANCELLED,
    MEETING_REMINDER, MEETING_NO_SHOW, DEADLINE_MISSED, NEW_REQUEST_NOTICE, HEALTH_BODY_NOTICE, DECLINE_NOTICE,
    WITHDRAWAL_NOTICE, DR_REQUEST_NOTICE, MEETING_BOOKED_NOTICE, MEETING_MOVED_NOTICE, MEETING_CANCELLED_NOTICE,
    MEETING_CONCLUDED_NOTICE, MEETING_NO_SHOW_NOTICE, DEADLINE_MISSED_NOTICE, DEADLINE_BREACHED_ALERT,
    CERTIFICATE_ISSUED_NOTICE, CERTIFICATE_DUE_REMINDER, DEADLINE_AT_RISK_ALERT, PROVIDER_ENDPOINT_DISABLED_ALERT,
)}

# Conditions a send may depend on; the handler works out which hold for the event in hand.
HEALTH_MEETING = "health_meeting"
MEDIATOR_KNOWN = "mediator_known"
CONDITIONS = {
    HEALTH_MEETING: "if the health body arranges, the case has health issues, or it is type-4 DR",
    MEDIATOR_KNOWN: "if the mediator's email is known",
}


@dataclass(frozen=True)
class Send:
    to: str
    template: Template
    when: str | None = None  # one of CONDITIONS; None: always
    attach_document: bool = False  # the certificate PDF names the child: only the parent or young person gets it


CATALOGUE: dict[str, tuple[Send, ...]] = {
    "case.submitted.v1": (
        Send(REQUESTER, CASE_RECEIVED),
        Send(LA_OFFICER, NEW_REQUEST_NOTICE),
    ),
    "case.health_referral.v1": (  # R8: the issues and provision wanted, to each health commissioning body
        Send(HEALTH_BODY, HEALTH_BODY_NOTICE),
    ),
    "case.mediation_declined.v1": (
        Send(REQUESTER, DECLINE_RECEIVED),
        Send(LA_OFFICER, DECLINE_NOTICE),
    ),
    "case.withdrawn.v1": (
        Send(LA_OFFICER, WITHDRAWAL_NOTICE),
        Send(MEDIATOR, WITHDRAWAL_NOTICE, when=MEDIATOR_KNOWN),
    ),
    "case.disagreement_resolution_requested.v1": (  # nothing to a parent: the DR invitation follows the booking
        Send(LA_OFFICER, DR_REQUEST_NOTICE),
    ),
    "meeting.scheduled.v1": (
        Send(REQUESTER, MEETING_SCHEDULED),
        Send(LA_OFFICER, MEETING_BOOKED_NOTICE),
        Send(MEDIATOR, MEETING_BOOKED_NOTICE, when=MEDIATOR_KNOWN),
        Send(HEALTH_BODY, MEETING_BOOKED_NOTICE, when=HEALTH_MEETING),
    ),
    "meeting.rescheduled.v1": (
        Send(REQUESTER, MEETING_RESCHEDULED),
        Send(LA_OFFICER, MEETING_MOVED_NOTICE),
        Send(MEDIATOR, MEETING_MOVED_NOTICE, when=MEDIATOR_KNOWN),
        Send(HEALTH_BODY, MEETING_MOVED_NOTICE, when=HEALTH_MEETING),
    ),
    "meeting.cancelled.v1": (
        Send(REQUESTER, MEETING_CANCELLED),
        Send(LA_OFFICER, MEETING_CANCELLED_NOTICE),
        Send(MEDIATOR, MEETING_CANCELLED_NOTICE, when=MEDIATOR_KNOWN),
        Send(HEALTH_BODY, MEETING_CANCELLED_NOTICE, when=HEALTH_MEETING),
    ),
    "meeting.concluded.v1": (  # held and agreement only: never what was said (R20)
        Send(LA_OFFICER, MEETING_CONCLUDED_NOTICE),
    ),
    "meeting.no_show.v1": (
        Send(REQUESTER, MEETING_NO_SHOW),
        Send(LA_OFFICER, MEETING_NO_SHOW_NOTICE),
    ),
    "meeting.deadline_missed.v1": (
        Send(REQUESTER, DEADLINE_MISSED),
        Send(LA_OFFICER, DEADLINE_MISSED_NOTICE),
    ),
    "meeting.deadline_breached.v1": (
        Send(LA_OFFICER, DEADLINE_BREACHED_ALERT),
        Send(OPS, DEADLINE_BREACHED_ALERT),
    ),
    "certificate.document_ready.v1": (
        Send(REQUESTER, CERTIFICATE_ISSUED, attach_document=True),
        Send(LA_OFFICER, CERTIFICATE_ISSUED_NOTICE),
    ),
    "certificate.issued.v1": (),  # cancels the certificate-due reminders; the document_ready event sends
    "certificate.not_required.v1": (),  # R2, R10 then mediation: no certificate is due, so no reminder
    "certificate.review_requested.v1": (),  # R4: a person decides; no reminder that a certificate is due
    "case.deadlines_changed.v1": (),  # R8: the at-risk alerts move to the new mediate_by
    # Scheduling stopped sending a provider's webhooks: referrals and booking changes wait for ops to act.
    "provider.endpoint_disabled.v1": (
        Send(OPS, PROVIDER_ENDPOINT_DISABLED_ALERT),
    ),
}


@dataclass(frozen=True)
class Planned:
    """A reminder an event plans: ``template`` to ``to``, ``due``; it does not fire once ``cancelled_by`` arrives."""

    trigger: str
    to: str
    template: Template
    due: str
    cancelled_by: str


#: What stops a certificate-due reminder: the certificate, or the word that none is due (R2, R10 then
#: mediation) or that a person decides first (R4).
CERTIFICATE_DUE_CANCELLED_BY = ("certificate.issued.v1, certificate.document_ready.v1, certificate.not_required.v1, "
                                "certificate.review_requested.v1, case.withdrawn.v1")

#: What stops a deadline-at-risk alert (a case.deadlines_changed.v1 replaces it with one for the new date).
AT_RISK_CANCELLED_BY = ("meeting.concluded.v1 (held), case.withdrawn.v1, case.mediation_declined.v1, "
                        "meeting.deadline_breached.v1, case.deadlines_changed.v1 (planned again)")

REMINDERS: tuple[Planned, ...] = (
    Planned("meeting.scheduled.v1", REQUESTER, MEETING_REMINDER, "2 working days before the meeting",
            "meeting.rescheduled.v1 (planned again), meeting.cancelled.v1, case.withdrawn.v1"),
    Planned("case.submitted.v1", LA_OFFICER, DEADLINE_AT_RISK_ALERT, "5 working days before mediate_by",
            AT_RISK_CANCELLED_BY),
    Planned("case.submitted.v1", OPS, DEADLINE_AT_RISK_ALERT, "5 working days before mediate_by",
            AT_RISK_CANCELLED_BY),
    Planned("case.deadlines_changed.v1", LA_OFFICER, DEADLINE_AT_RISK_ALERT,
            "5 working days before the new mediate_by (replaces the pending alert)", AT_RISK_CANCELLED_BY),
    Planned("case.deadlines_changed.v1", OPS, DEADLINE_AT_RISK_ALERT,
            "5 working days before the new mediate_by (replaces the pending alert)", AT_RISK_CANCELLED_BY),
    Planned("meeting.concluded.v1", MEDIATOR, CERTIFICATE_DUE_REMINDER, "the working day before the R15 due date",
            CERTIFICATE_DUE_CANCELLED_BY),
    Planned("meeting.concluded.v1", PROVIDER, CERTIFICATE_DUE_REMINDER,
            "the working day before the R15 due date, if the mediator's email is not known",
            CERTIFICATE_DUE_CANCELLED_BY),
    Planned("case.mediation_declined.v1", ADVISER, CERTIFICATE_DUE_REMINDER, "the working day before the R6 due date",
            CERTIFICATE_DUE_CANCELLED_BY),
    Planned("meeting.deadline_missed.v1", ADVISER, CERTIFICATE_DUE_REMINDER,
            "the working day before the R10 due date", CERTIFICATE_DUE_CANCELLED_BY),
)


#: Events that send nothing themselves but plan reminders again for a moved date.
MOVES_REMINDERS = frozenset({"case.deadlines_changed.v1"})


def as_markdown() -> str:
    """The catalogue as the tables of docs/notifications.md."""
    lines = ["| event | recipient | template | when |", "| --- | --- | --- | --- |"]
    for event_type, sends in CATALOGUE.items():
        if not sends:
            does = "it only moves reminders" if event_type in MOVES_REMINDERS else "it only cancels reminders"
            lines.append(f"| `{event_type}` | nobody | | {does} |")
        for send in sends:
            note = CONDITIONS[send.when] if send.when else "always"
            if send.attach_document:
                note += ", with the certificate PDF"
            lines.append(f"| `{event_type}` | {RECIPIENTS[send.to]} | `{send.template.name}` | {note} |")
    lines += ["", "| planned by | recipient | template | due | cancelled by |", "| --- | --- | --- | --- | --- |"]
    for planned in REMINDERS:
        lines.append(f"| `{planned.trigger}` | {RECIPIENTS[planned.to]} | `{planned.template.name}` | {planned.due} "
                     f"| {planned.cancelled_by} |")
    return "\n".join(lines)

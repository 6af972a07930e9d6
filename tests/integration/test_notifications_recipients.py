"""Who gets which email (message/catalogue.py), over real PostgreSQL, Kafka and SMTP.

The LA officer, the mediator, the health commissioning bodies, the adviser, the provider and ops, beside the
parent or young person; certificate-due (R6, R10, R15) and deadline-at-risk reminders (R8, R9).
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
from sqlmodel import select
from support import eventually, handle, serve

from notifications.main import create_app
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus
from notifications.reminder.models import Reminder, ReminderStatus
from notifications.settings import NotificationsSettings
from shared import clock
from shared.calendar import DEFAULT_CALENDAR
from shared.events import (
    CaseMediationDeclinedV1,
    CaseSubmittedV1,
    CaseWithdrawnV1,
    CertificateDocumentReadyV1,
    CertificateIssuedV1,
    CertificateNotRequiredV1,
    CertificateReviewRequestedV1,
    Envelope,
    EventData,
    MeetingConcludedV1,
    MeetingScheduledV1,
    Party,
)
from shared.events.cases import (
    CaseDeadlinesChangedV1,
    CaseDisagreementResolutionRequestedV1,
    CaseHealthReferralV1,
    DrPartyFact,
)
from shared.events.meetings import (
    MeetingDeadlineBreachedV1,
    MeetingDeadlineMissedV1,
    MeetingNoShowV1,
    ProviderEndpointDisabledV1,
)
from shared.localinfra.smtp import SmtpServer

LONDON = ZoneInfo("Europe/London")
CASE_ID = "case-0001"
MEETING_ID = "meeting-1"
PARENT = "alex@example.org"
LA_OFFICER = "send.team@southend.gov.uk"  # the directory's SEND team mailbox for E06000033
ICB = "mseicb.send@nhs.net"
MEDIATOR = "jordan.avery@mediators.example"
ADVISER = "mediationlondon@kids.org.uk"  # the directory's adviser for E06000033; its provider has the same mailbox
OPS_EMAIL = "ops@send-mediation.example"
REPLY_TO = "send.mediation@southend.gov.uk"
TODAY = clock.today()


def settings_for(database_url: str, kafka_bootstrap: str, namespace: str, smtp_server: SmtpServer,
                 **overrides: object) -> NotificationsSettings:
    return NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                 kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port,
                                 reminder_poll_interval_seconds=0.5, **overrides)


@pytest.fixture
async def notifications(database_url, kafka_bootstrap, namespace, smtp_server) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(database_url, kafka_bootstrap, namespace, smtp_server,
                                  certificates_public_base_url="https://certificates.example/"))
    async with serve(app) as client:
        yield client


async def deliver(client: httpx.AsyncClient, data: EventData, handler: Any, case_id: str = CASE_ID) -> Envelope:
    return await handle(client, data, handler, subject=case_id)


def health_referral() -> CaseHealthReferralV1:
    return CaseHealthReferralV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", health_only=False,
        mediate_by=TODAY + timedelta(days=30), tell_by=DEFAULT_CALENDAR.add_working_days(TODAY, 3),
        mediation_issues=("Section G: speech and language therapy",),
        health_provision_wanted="Weekly therapy in school")


def submitted(*, health_issues: bool = False, mediate_by: date | None = None) -> CaseSubmittedV1:
    return CaseSubmittedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), mediate_by=mediate_by or TODAY + timedelta(days=30),
        health_issues=health_issues, requester=Party(role="parent", name="Alex Example", email=PARENT))


def declined(certificate_due_on: date) -> CaseMediationDeclinedV1:
    return CaseMediationDeclinedV1(
        case_id=CASE_ID, reference="SEND-TEST0001", la_code="E06000033", decision="refusal_to_assess",
        notice_sent_on=date(2026, 11, 3), told_adviser_on=TODAY, certificate_due_on=certificate_due_on,
        requester=Party(role="parent", name="Alex Example", email=PARENT))


def meeting_start(working_days_ahead: int = 10) -> datetime:
    return datetime.combine(DEFAULT_CALENDAR.add_working_days(TODAY, working_days_ahead), time(10, 0), tzinfo=LONDON)


def scheduled(*, mediator_email: str | None = MEDIATOR, arranging_body: str = "local_authority",
              kind: str = "mediation", **more: object) -> MeetingScheduledV1:
    starts = meeting_start()
    return MeetingScheduledV1(
        meeting_id=MEETING_ID, case_id=CASE_ID, mediator_id="med-0001", mediator_name="Jordan Avery",
        provider_name="KIDS", starts_at=starts, ends_at=starts + timedelta(hours=2), location="Video call",
        arranging_body=arranging_body, kind=kind, mediator_email=mediator_email, **more)  # type: ignore[arg-type]


def concluded(*, held: bool = True, concluded_on: date | None = None) -> MeetingConcludedV1:
    return MeetingConcludedV1(meeting_id=MEETING_ID, case_id=CASE_ID, mediator_name="Jordan Avery",
                              provider_name="KIDS", concluded_on=concluded_on or TODAY, held=held, agreement="partial")


async def rows(client: httpx.AsyncClient, model: type) -> list:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        return list((await session.exec(select(model))).all())


async def all_sent(client: httpx.AsyncClient, count: int) -> list[Message] | None:
    found = await rows(client, Message)
    return found if len(found) == count and all(m.status is MessageStatus.sent for m in found) else None


def text_of(email: EmailMessage) -> str:
    return email.get_body(("plain",)).get_content()


def html_of(email: EmailMessage) -> str:
    return email.get_body(("html",)).get_content()


def calendar_event(email: EmailMessage) -> icalendar.Event:
    [part] = [p for p in email.iter_attachments() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    return event


def assert_names_no_family(email: EmailMessage) -> None:
    for body in (text_of(email), html_of(email)):
        assert "Alex" not in body
        assert PARENT not in body


# Cases.


async def test_a_new_request_tells_the_la_officer_and_with_health_issues_each_health_body_r8(notifications,
                                                                                             smtp_server):
    await deliver(notifications, submitted(health_issues=True), handlers.acknowledge_request)
    await deliver(notifications, health_referral(), handlers.notify_health_bodies)

    await eventually(lambda: all_sent(notifications, 3), what="parent, LA officer and ICB emailed")

    [la], [icb], [parent] = (smtp_server.handler.messages(to=address) for address in (LA_OFFICER, ICB, PARENT))
    assert la["Subject"] == "New mediation request"
    assert icb["Subject"] == "Mediation request with health issues"
    assert parent["Subject"] == "We have received your request for mediation"
    assert {e["Reply-To"] for e in (la, icb, parent)} == {REPLY_TO}
    assert icb["To"] == f"NHS Mid and South Essex Integrated Care Board <{ICB}>"
    mediate_by = (TODAY + timedelta(days=30)).strftime("%-d %B %Y")
    assert f"The meeting must take place by {mediate_by} (30 days, R8)." in text_of(la)
    assert "within 3 working days (R8)" in text_of(la)
    assert "SEND-TEST0001" in text_of(icb)
    assert "- Section G: speech and language therapy" in text_of(icb)  # R8: the issues and provision wanted
    assert "Weekly therapy in school" in text_of(icb)
    assert "speech and language" not in text_of(la) + text_of(parent)
    for staff in (la, icb):
        assert_names_no_family(staff)


async def test_a_request_without_health_issues_tells_no_health_body(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await eventually(lambda: all_sent(notifications, 2), what="parent and LA officer emailed")

    assert smtp_server.handler.messages(to=ICB) == []
    assert len(smtp_server.handler.messages(to=LA_OFFICER)) == 1


async def test_a_withdrawal_tells_the_la_and_the_booked_mediator_and_cancels_every_reminder(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(), handlers.invite_to_meeting)

    await deliver(notifications, CaseWithdrawnV1(case_id=CASE_ID, la_code="E06000033", withdrawn_on=TODAY,
                                                 reason="no_longer_disputed"), handlers.note_withdrawal)
    await eventually(lambda: all_sent(notifications, 7), what="2 acknowledgements, 3 invitations, 2 withdrawals")

    assert [e["Subject"] for e in smtp_server.handler.messages(to=MEDIATOR)] == ["Meeting booked", "Case withdrawn"]
    assert "Case withdrawn" in [e["Subject"] for e in smtp_server.handler.messages(to=LA_OFFICER)]
    assert "Case withdrawn" not in [e["Subject"] for e in smtp_server.handler.messages(to=PARENT)]
    reminders = await rows(notifications, Reminder)
    assert {r.kind for r in reminders} == {"meeting", "deadline_at_risk"}
    assert {r.status for r in reminders} == {ReminderStatus.cancelled}


async def test_r21_a_type_4_request_tells_the_la_and_its_meeting_invites_the_la_and_health_body_but_no_parent(
        notifications, smtp_server):  # R21
    parties = (DrPartyFact(role="local_authority", name="Southend SEND team", consented=True),
               DrPartyFact(role="health_commissioning_body", name="Mid and South Essex ICB", consented=True))
    await deliver(notifications, CaseDisagreementResolutionRequestedV1(
        case_id=CASE_ID, reference="SEND-DR0001", la_code="E06000033", dr_type=4, parties=parties, all_consented=True),
        handlers.remember_disagreement_resolution_parties)

    await deliver(notifications, scheduled(kind="disagreement_resolution", mediator_email=None),
                  handlers.invite_to_meeting)
    await eventually(lambda: all_sent(notifications, 3), what="DR notice and two invitations")

    assert smtp_server.handler.messages(to=PARENT) == []
    assert [e["Subject"] for e in smtp_server.handler.messages(to=LA_OFFICER)] == ["New disagreement resolution request",
                                                                          "Meeting booked"]
    [icb] = smtp_server.handler.messages(to=ICB)
    assert "A disagreement resolution meeting is booked" in text_of(icb)
    assert str(calendar_event(icb)["SUMMARY"]) == "SEND disagreement resolution meeting"


# Meetings.


async def test_a_booking_invites_the_la_the_mediator_and_the_health_body_each_with_their_own_calendar_entry(
        notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, scheduled(arranging_body="health_commissioning_body"), handlers.invite_to_meeting)
    await eventually(lambda: all_sent(notifications, 6), what="2 acknowledgements and 4 invitations")

    invitations = {address: [e for e in smtp_server.handler.messages(to=address) if e["Subject"] in
                             ("Your mediation meeting is booked", "Meeting booked")]
                   for address in (PARENT, LA_OFFICER, MEDIATOR, ICB)}
    assert all(len(found) == 1 for found in invitations.values())
    events = {address: calendar_event(found[0]) for address, found in invitations.items()}
    assert {str(event["UID"]) for event in events.values()} == {"meeting-1@send-mediation.example"}
    for address, event in events.items():
        assert str(event["ATTENDEE"]) == f"mailto:{address}"
    [mediator_email] = invitations[MEDIATOR]
    assert mediator_email["To"] == f"Jordan Avery <{MEDIATOR}>"
    assert_names_no_family(mediator_email)
    assert len({e["Message-ID"] for found in invitations.values() for e in found}) == 4


async def test_r8_a_booking_with_health_issues_that_arrives_before_the_case_still_invites_the_la_and_health_body(
        notifications, smtp_server):
    await deliver(notifications, scheduled(health_issues=True, la_code="E06000033"), handlers.invite_to_meeting)
    await deliver(notifications, submitted(health_issues=True), handlers.acknowledge_request)
    await deliver(notifications, health_referral(), handlers.notify_health_bodies)

    async def both_invited() -> bool:
        return all("Meeting booked" in [e["Subject"] for e in smtp_server.handler.messages(to=address)]
                   for address in (ICB, LA_OFFICER))

    await eventually(both_invited, what="the health body's and the LA's invitations")


async def test_a_booking_without_the_mediators_email_invites_no_mediator_and_no_health_body(notifications,
                                                                                            smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, scheduled(mediator_email=None), handlers.invite_to_meeting)
    await eventually(lambda: all_sent(notifications, 4), what="2 acknowledgements and 2 invitations")

    assert smtp_server.handler.messages(to=MEDIATOR) == []
    assert smtp_server.handler.messages(to=ICB) == []


async def test_a_concluded_meeting_tells_the_la_only_held_and_agreement_and_reminds_the_mediator_r15_r20(
        notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, scheduled(), handlers.invite_to_meeting)

    await deliver(notifications, concluded(), handlers.note_meeting_concluded)
    await eventually(lambda: all_sent(notifications, 6), what="acknowledgements, invitations, concluded notice")

    [notice] = [e for e in smtp_server.handler.messages(to=LA_OFFICER) if e["Subject"] == "Mediation concluded: certificate due"]
    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 3)
    assert "Meeting held: yes" in text_of(notice)
    assert "Outcome: partial agreement" in text_of(notice)
    assert f"must issue the certificate by {due_on.strftime('%-d %B %Y')} (3 working days, R15)" in text_of(notice)
    [reminder] = [r for r in await rows(notifications, Reminder) if r.kind == "certificate_due"]
    assert (reminder.recipient_role, reminder.recipient_ref, reminder.status) == (
        "mediator", MEETING_ID, ReminderStatus.pending)
    expected_day = DEFAULT_CALENDAR.latest_working_day_on_or_before(due_on - timedelta(days=1))
    assert reminder.due_at == datetime.combine(expected_day, time(9, 0), tzinfo=LONDON)


async def test_a_no_show_tells_the_parent_and_the_la_in_neutral_words(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, MeetingNoShowV1(meeting_id=MEETING_ID, case_id=CASE_ID, scheduled_for=meeting_start(),
                                                 absent_party="parent", reason="did_not_attend"), handlers.note_no_show)
    await eventually(lambda: all_sent(notifications, 4), what="acknowledgements and no-show emails")

    [parent] = [e for e in smtp_server.handler.messages(to=PARENT) if e["Subject"] == "Your mediation meeting did not go ahead"]
    [la] = [e for e in smtp_server.handler.messages(to=LA_OFFICER) if e["Subject"] == "Meeting did not go ahead"]
    assert "did not go ahead" in text_of(parent)
    assert "not every party was able to attend" in text_of(la)
    for email in (parent, la):  # no party is named or blamed, and the reason code stays out
        assert "did_not_attend" not in text_of(email)
        assert "absent" not in text_of(email)


async def test_a_missed_30_days_tells_the_parent_and_the_la_a_certificate_follows_and_reminds_the_adviser_r10(
        notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, MeetingDeadlineMissedV1(case_id=CASE_ID, mediate_by=TODAY + timedelta(days=3),
                                                         adviser_told_on=TODAY), handlers.note_deadline_missed)
    await eventually(lambda: all_sent(notifications, 4), what="acknowledgements and deadline-missed emails")

    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 3).strftime("%-d %B %Y")
    [parent] = [e for e in smtp_server.handler.messages(to=PARENT) if e["Subject"] == "Your mediation could not be arranged in time"]
    assert f"will issue your mediation certificate by {due_on}" in text_of(parent)
    [la] = [e for e in smtp_server.handler.messages(to=LA_OFFICER) if e["Subject"] == "Mediation not arranged within 30 days"]
    assert f"must issue the certificate by {due_on}" in text_of(la)
    [reminder] = [r for r in await rows(notifications, Reminder) if r.kind == "certificate_due"]
    assert (reminder.recipient_role, reminder.context["rule"]) == ("adviser", "R10")


async def _ops_alerts(client: httpx.AsyncClient, kind: str) -> float:
    text = (await client.get("/metrics")).text
    match = re.search(rf'^notifications_ops_alerts_total\{{kind="{kind}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_r10_a_deadline_breach_alerts_the_la_officer_and_ops_and_counts_it(notifications, smtp_server):  # R10
    before = await _ops_alerts(notifications, "deadline_breached")
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, MeetingDeadlineBreachedV1(case_id=CASE_ID, la_code="E06000033", mediate_by=TODAY,
                                                           meeting_status="no_show"), handlers.raise_deadline_breach)
    await eventually(lambda: all_sent(notifications, 4), what="acknowledgements and the breach alerts")

    for address in (LA_OFFICER, OPS_EMAIL):
        [alert] = [e for e in smtp_server.handler.messages(to=address) if e["Subject"].startswith("Deadline breach")]
        assert "no mediation meeting has been held (R10)" in text_of(alert)
        assert_names_no_family(alert)
    assert await _ops_alerts(notifications, "deadline_breached") == before + 1
    assert {r.status for r in await rows(notifications, Reminder)} == {ReminderStatus.cancelled}


async def test_a_deadline_breach_handled_in_a_transaction_that_rolls_back_is_counted_only_when_handled_again(
        notifications, smtp_server):
    before = await _ops_alerts(notifications, "deadline_breached")
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    breach = MeetingDeadlineBreachedV1(case_id=CASE_ID, la_code="E06000033", mediate_by=TODAY, meeting_status="no_show")
    async with notifications.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        await handlers.raise_deadline_breach(Envelope.wrap(breach, source="/test", subject=CASE_ID), session)
        await session.rollback()  # as when an event handled with others fails, and each is handled again alone

    assert await _ops_alerts(notifications, "deadline_breached") == before

    await deliver(notifications, breach, handlers.raise_deadline_breach)

    assert await _ops_alerts(notifications, "deadline_breached") == before + 1


async def test_a_disabled_provider_endpoint_is_emailed_to_ops_alone_and_counted(notifications, smtp_server):
    before = await _ops_alerts(notifications, "provider_endpoint_disabled")
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, ProviderEndpointDisabledV1(endpoint_id="kids-primary", provider_id="kids-send-mediation",
                                                            reason="410 Gone", failed_message_id="wh-0001"),
                  handlers.alert_endpoint_disabled)
    await eventually(lambda: all_sent(notifications, 3), what="acknowledgements and the ops alert")

    [alert] = [e for e in smtp_server.handler.messages(to=OPS_EMAIL) if e["Subject"].startswith("Provider webhooks stopped")]
    assert "provider kids-send-mediation (endpoint kids-primary): 410 Gone" in text_of(alert)
    assert_names_no_family(alert)
    assert not [e for e in smtp_server.handler.messages(to=LA_OFFICER) if e["Subject"].startswith("Provider webhooks")]
    assert await _ops_alerts(notifications, "provider_endpoint_disabled") == before + 1


# Certificates.


async def test_the_certificate_pdf_goes_only_to_the_parent_and_both_emails_link_the_verification_page(
        notifications, smtp_server):
    pdf = b"%PDF-1.7 a certificate naming the child"
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, CertificateDocumentReadyV1(
        certificate_id="cert-1", case_id=CASE_ID, number="MC-2026-000001-1", kind="mediator", issued_on=TODAY,
        filename="MC-2026-000001-1.pdf", pdf_base64=base64.b64encode(pdf).decode()), handlers.send_certificate)
    await eventually(lambda: all_sent(notifications, 4), what="acknowledgements and certificate emails")

    link = "https://certificates.example/v1/verify?number=MC-2026-000001-1"
    [parent] = [e for e in smtp_server.handler.messages(to=PARENT) if e["Subject"] == "Your mediation certificate"]
    [la] = [e for e in smtp_server.handler.messages(to=LA_OFFICER) if e["Subject"] == "Mediation certificate issued"]
    assert [(a.get_filename(), a.get_content()) for a in parent.iter_attachments()] == [("MC-2026-000001-1.pdf", pdf)]
    assert list(la.iter_attachments()) == []
    for email in (parent, la):
        assert link in text_of(email)
        assert f'href="{link}"' in html_of(email)


# Reminders: certificate due (R6, R10, R15) and deadline at risk (R8, R9).


async def _make_due(client: httpx.AsyncClient, kind: str) -> None:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        for reminder in (await session.exec(select(Reminder).where(Reminder.kind == kind))).all():
            reminder.due_at = clock.now() - timedelta(minutes=5)
            session.add(reminder)
        await session.commit()
    client.app.state.runtime.wake("reminder_scheduler")  # type: ignore[attr-defined]


async def test_a_decline_reminds_the_adviser_the_working_day_before_the_certificate_is_due_r6(notifications,
                                                                                              smtp_server):
    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 5)
    await deliver(notifications, declined(due_on), handlers.acknowledge_decline)
    await eventually(lambda: all_sent(notifications, 2), what="parent and LA officer told")
    [reminder] = await rows(notifications, Reminder)
    expected_day = DEFAULT_CALENDAR.latest_working_day_on_or_before(due_on - timedelta(days=1))
    assert reminder.due_at == datetime.combine(expected_day, time(9, 0), tzinfo=LONDON)

    await _make_due(notifications, "certificate_due")
    await eventually(lambda: all_sent(notifications, 3), what="the adviser reminded")

    [email] = smtp_server.handler.messages(to=ADVISER)
    assert email["Subject"] == "Reminder: mediation certificate due"
    assert f"due by {due_on.strftime('%-d %B %Y')} (R6: 3 working days)" in text_of(email)
    assert_names_no_family(email)


async def test_an_issued_certificate_cancels_its_due_reminder(notifications, smtp_server):
    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 5)
    await deliver(notifications, declined(due_on), handlers.acknowledge_decline)

    await deliver(notifications, CertificateIssuedV1(certificate_id="cert-1", case_id=CASE_ID, number="MC-2026-000001-1",
                                                     kind="adviser", issued_on=TODAY, due_on=due_on),
                  handlers.stop_certificate_reminders)
    await _make_due(notifications, "certificate_due")
    await eventually(lambda: all_sent(notifications, 2), what="parent and LA officer told")

    [reminder] = await rows(notifications, Reminder)
    assert reminder.status is ReminderStatus.cancelled
    assert smtp_server.handler.messages(to=ADVISER) == []


async def test_r4_a_late_contact_decline_held_for_review_reminds_no_adviser_that_a_certificate_is_due(
        notifications, smtp_server):
    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 5)
    await deliver(notifications, declined(due_on), handlers.acknowledge_decline)

    await deliver(notifications, CertificateReviewRequestedV1(review_id="rev-1", case_id=CASE_ID, kind="late_contact",
                                                              certificate_kind="adviser", opened_on=TODAY),
                  handlers.stop_certificate_reminders)
    await _make_due(notifications, "certificate_due")
    await eventually(lambda: all_sent(notifications, 2), what="parent and LA officer told")

    [reminder] = await rows(notifications, Reminder)
    assert reminder.status is ReminderStatus.cancelled
    assert smtp_server.handler.messages(to=ADVISER) == []


async def test_r2_no_certificate_required_cancels_the_certificate_due_reminder(notifications):
    due_on = DEFAULT_CALENDAR.add_working_days(TODAY, 5)
    await deliver(notifications, declined(due_on), handlers.acknowledge_decline)

    await deliver(notifications, CertificateNotRequiredV1(case_id=CASE_ID, kind="adviser", trigger_ref="declined",
                                                          triggered_on=TODAY, reason="health_only", decided_on=TODAY),
                  handlers.stop_certificate_reminders)

    [reminder] = await rows(notifications, Reminder)
    assert reminder.status is ReminderStatus.cancelled


async def test_a_certificate_reminder_planned_before_a_restart_fires_after_it(database_url, kafka_bootstrap, namespace,
                                                                              smtp_server):
    settings = settings_for(database_url, kafka_bootstrap, namespace, smtp_server)
    before = create_app(settings.model_copy(update={"reminder_poll_interval_seconds": 3600}))
    async with serve(before) as client:
        await deliver(client, submitted(), handlers.acknowledge_request)
        await deliver(client, concluded(), handlers.note_meeting_concluded)  # no booking seen: the provider is reminded
        await eventually(lambda: all_sent(client, 3), what="acknowledgements and the concluded notice")
        async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
            for reminder in (await session.exec(select(Reminder).where(Reminder.kind == "certificate_due"))).all():
                reminder.due_at = clock.now() - timedelta(minutes=5)  # fell due while the service was down
                session.add(reminder)
            await session.commit()

    async with serve(create_app(settings)) as client:
        await eventually(lambda: all_sent(client, 4), what="the provider reminded after the restart")
        [reminder] = [r for r in await rows(client, Reminder) if r.kind == "certificate_due"]

    assert (reminder.recipient_role, reminder.status) == ("provider", ReminderStatus.sent)
    assert [e["Subject"] for e in smtp_server.handler.messages(to=ADVISER)] == ["Reminder: mediation certificate due"]


async def test_a_request_plans_a_deadline_at_risk_alert_to_the_la_and_ops_five_working_days_before(notifications):
    mediate_by = TODAY + timedelta(days=30)
    await deliver(notifications, submitted(mediate_by=mediate_by), handlers.acknowledge_request)

    reminders = await rows(notifications, Reminder)

    day = mediate_by
    for _ in range(5):
        day = DEFAULT_CALENDAR.latest_working_day_on_or_before(day - timedelta(days=1))
    assert sorted(r.recipient_role for r in reminders) == ["la_officer", "ops"]
    assert {r.due_at for r in reminders} == {datetime.combine(day, time(9, 0), tzinfo=LONDON)}
    assert {r.kind for r in reminders} == {"deadline_at_risk"}


async def test_a_deadline_at_risk_alert_fires_to_the_la_and_ops_when_no_meeting_was_held(notifications, smtp_server):
    before = await _ops_alerts(notifications, "deadline_at_risk")
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, concluded(held=False), handlers.note_meeting_concluded)  # not held: still at risk

    await _make_due(notifications, "deadline_at_risk")
    await eventually(lambda: all_sent(notifications, 5), what="acknowledgements, concluded notice, two alerts")

    for address in (LA_OFFICER, OPS_EMAIL):
        [alert] = [e for e in smtp_server.handler.messages(to=address) if e["Subject"] == "Deadline at risk: no mediation held yet"]
        assert "5 working days away" in text_of(alert)
    assert await _ops_alerts(notifications, "deadline_at_risk") == before + 1


async def test_a_held_meeting_cancels_the_deadline_at_risk_alert(notifications, smtp_server):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, concluded(held=True), handlers.note_meeting_concluded)
    await _make_due(notifications, "deadline_at_risk")
    await eventually(lambda: all_sent(notifications, 3), what="acknowledgements and the concluded notice")

    at_risk = [r for r in await rows(notifications, Reminder) if r.kind == "deadline_at_risk"]
    assert {r.status for r in at_risk} == {ReminderStatus.cancelled}
    assert smtp_server.handler.messages(to=OPS_EMAIL) == []


def deadlines_changed(mediate_by: date) -> CaseDeadlinesChangedV1:
    return CaseDeadlinesChangedV1(
        case_id=CASE_ID, la_code="E06000033", mediate_by=mediate_by,
        last_bookable_day=DEFAULT_CALENDAR.latest_working_day_on_or_before(mediate_by),
        trigger="health_notice_sent_on", trigger_date=mediate_by - timedelta(days=30))


def five_working_days_before(day: date) -> datetime:
    for _ in range(5):
        day = DEFAULT_CALENDAR.latest_working_day_on_or_before(day - timedelta(days=1))
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


async def test_r8_a_later_health_notice_moves_the_deadline_at_risk_alerts_to_the_new_mediate_by(notifications):
    first, moved = TODAY + timedelta(days=30), TODAY + timedelta(days=37)
    await deliver(notifications, submitted(mediate_by=first), handlers.acknowledge_request)

    await deliver(notifications, deadlines_changed(moved), handlers.move_deadline_alerts)

    at_risk = [r for r in await rows(notifications, Reminder) if r.kind == "deadline_at_risk"]
    pending = [r for r in at_risk if r.status == ReminderStatus.pending]
    assert sorted(r.recipient_role for r in pending) == ["la_officer", "ops"]
    assert {r.due_at for r in pending} == {five_working_days_before(moved)}
    assert {r.due_at for r in at_risk if r.status == ReminderStatus.cancelled} == {five_working_days_before(first)}


async def test_r8_a_moved_deadline_does_not_revive_alerts_a_held_meeting_called_off(notifications):
    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await deliver(notifications, concluded(held=True), handlers.note_meeting_concluded)

    await deliver(notifications, deadlines_changed(TODAY + timedelta(days=40)), handlers.move_deadline_alerts)

    at_risk = [r for r in await rows(notifications, Reminder) if r.kind == "deadline_at_risk"]
    assert at_risk and {r.status for r in at_risk} == {ReminderStatus.cancelled}


async def test_a_decline_cancels_the_deadline_at_risk_alert(notifications):
    await deliver(notifications, submitted(), handlers.acknowledge_request)

    await deliver(notifications, declined(DEFAULT_CALENDAR.add_working_days(TODAY, 5)), handlers.acknowledge_decline)

    at_risk = [r for r in await rows(notifications, Reminder) if r.kind == "deadline_at_risk"]
    assert {r.status for r in at_risk} == {ReminderStatus.cancelled}

"""Email bodies render completely (StrictUndefined), as accessible HTML, and the invitation is a valid iCalendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import icalendar
import jinja2
import pytest

from notifications.message.catalogue import TEMPLATES
from notifications.message.rendering import meeting_invitation, render_bodies
from shared.events import Envelope, MeetingScheduledV1
from shared.kafka.codec import decode, encode

LONDON = ZoneInfo("Europe/London")

VERIFY_URL = "https://certificates.example/v1/verify?number=MC-2026-000042-5"
STAFF_MEETING = {"starts_at": "Friday 8 January 2027, 14:00", "ends_at": "16:00", "location": "Room 4, Civic Centre",
               "mediator_name": "Grace Hopper", "provider_name": "Global Mediation",
               "meeting_words": "mediation meeting"}

# What service._email_for adds to every message, then what each handler in message/handlers.py supplies.
COMMON = {"recipient_name": "Ada Lovelace", "case_reference": "SM-2026-0001",
          "la_name": "Hounslow Council", "la_contact": "send.team@hounslow.example"}
CONTEXTS = {
    "case_received": {"mediate_by": "2 December 2026", "provider_name": "Global Mediation",
                      "provider_phone": "020 7946 0000", "provider_email": "cases@mediation.example"},
    "decline_received": {"certificate_due_on": "31 December 2026"},
    "meeting_scheduled": {"invitation": {"uid": "m-1@send.example", "sequence": 0,
                                         "starts_at": "2027-01-06T10:00:00+00:00",
                                         "ends_at": "2027-01-06T12:00:00+00:00", "location": "Video call"},
                          "starts_at": "Wednesday 6 January 2027, 10:00", "ends_at": "12:00",
                          "location": "Video call arranged by Global Mediation", "mediator_name": "Grace Hopper",
                          "provider_name": "Global Mediation"},
    "certificate_issued": {"certificate_number": "MC-2026-000042-5", "issued_on": "31 December 2026",
                           "verify_url": VERIFY_URL},
    "meeting_rescheduled": {"invitation": {"uid": "m-1@send.example", "sequence": 1, "method": "REQUEST",
                                           "starts_at": "2027-01-08T14:00:00+00:00",
                                           "ends_at": "2027-01-08T16:00:00+00:00", "location": "Room 4"},
                            "starts_at": "Friday 8 January 2027, 14:00", "ends_at": "16:00",
                            "location": "Room 4, Civic Centre", "mediator_name": "Grace Hopper",
                            "provider_name": "Global Mediation"},
    "meeting_cancelled": {"invitation": {"uid": "m-1@send.example", "sequence": 2, "method": "CANCEL",
                                         "starts_at": "2027-01-08T14:00:00+00:00",
                                         "ends_at": "2027-01-08T16:00:00+00:00", "location": "Room 4"},
                          "starts_at": "Friday 8 January 2027, 14:00", "ends_at": "16:00",
                          "location": "Room 4, Civic Centre", "mediator_name": "Grace Hopper",
                          "provider_name": "Global Mediation"},
    "meeting_reminder": {"starts_at": "Friday 8 January 2027, 14:00", "ends_at": "16:00",
                         "location": "Room 4, Civic Centre", "mediator_name": "Grace Hopper",
                         "provider_name": "Global Mediation"},
    "meeting_no_show": {"scheduled_for": "Friday 8 January 2027, 14:00"},
    "deadline_missed": {"mediate_by": "20 December 2026", "certificate_due_on": "23 December 2026"},
    # To the LA, the mediator, the health bodies, the adviser, the provider and ops.
    "new_request_notice": {"mediate_by": "20 December 2026", "arranging_body": "the local authority",
                           "health_issues": True, "health_only": False},
    "health_body_notice": {"mediate_by": "20 December 2026", "tell_by": "25 November 2026", "health_only": False,
                           "mediation_issues": ["Section G: speech and language therapy"],
                           "health_provision_wanted": "Weekly therapy in school"},
    "decline_notice": {"certificate_due_on": "25 November 2026", "told_adviser_on": "20 November 2026"},
    "withdrawal_notice": {"withdrawn_on": "24 November 2026", "reason": "the decision is no longer disputed"},
    "dr_request_notice": {"dr_type": 4, "all_consented": False, "parties": "local authority, health commissioning body"},
    "meeting_booked_notice": {"invitation": {"uid": "m-1@send.example", "sequence": 0, "method": "REQUEST",
                                             "starts_at": "2027-01-08T14:00:00+00:00",
                                             "ends_at": "2027-01-08T16:00:00+00:00", "location": "Room 4"},
                              **STAFF_MEETING},
    "meeting_moved_notice": {"invitation": {"uid": "m-1@send.example", "sequence": 1, "method": "REQUEST",
                                            "starts_at": "2027-01-08T14:00:00+00:00",
                                            "ends_at": "2027-01-08T16:00:00+00:00", "location": "Room 4"},
                             **STAFF_MEETING},
    "meeting_cancelled_notice": {"invitation": {"uid": "m-1@send.example", "sequence": 2, "method": "CANCEL",
                                                "starts_at": "2027-01-08T14:00:00+00:00",
                                                "ends_at": "2027-01-08T16:00:00+00:00", "location": "Room 4"},
                                 **STAFF_MEETING},
    "meeting_concluded_notice": {"concluded_on": "10 December 2026", "held": True, "agreement": "partial agreement",
                                 "certificate_due_on": "15 December 2026"},
    "meeting_no_show_notice": {"scheduled_for": "Friday 8 January 2027, 14:00"},
    "deadline_missed_notice": {"mediate_by": "20 December 2026", "certificate_due_on": "23 December 2026",
                               "arranging_body": "the local authority"},
    "deadline_breached_alert": {"mediate_by": "20 December 2026", "arranging_body": "the local authority",
                                "meeting_status": "no show"},
    "certificate_issued_notice": {"certificate_number": "MC-2026-000042-5", "issued_on": "31 December 2026",
                                  "certificate_kind": "mediator certificate (mediation took place)",
                                  "verify_url": VERIFY_URL},
    "certificate_due_reminder": {"certificate_due_on": "15 December 2026", "rule": "R15"},
    "deadline_at_risk_alert": {"mediate_by": "20 December 2026", "working_days": 5},
    "provider_endpoint_disabled_alert": {"endpoint_id": "kids-primary", "provider_id": "kids-send-mediation",
                                         "reason": "410 Gone", "failed_message_id": "wh-0001"},
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def full_context(template: str) -> dict:
    return {**COMMON, **CONTEXTS[template]}


class StrictHTML(HTMLParser):
    """Records the html lang attribute and every mismatched or unclosed tag."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"unexpected </{tag}> with open {self.open}")
        else:
            self.open.pop()


def parse(html: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(html)
    parser.close()
    return parser


def test_every_template_in_the_catalogue_has_a_test_context():
    assert set(TEMPLATES) == set(CONTEXTS)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_rendering_with_the_full_context_leaves_no_placeholder(template):
    subject, text, html = render_bodies(template, full_context(template))

    assert "{{" not in subject and subject.startswith(TEMPLATES[template].subject.split("{{")[0])
    for body in (text, html):
        assert "{{" not in body
        assert "{%" not in body
        assert "Dear Ada Lovelace," in body
        assert "SM-2026-0001" in body
        assert "Hounslow Council: send.team@hounslow.example" in body


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_html_body_is_well_formed_with_a_language(template):
    _, _, html = render_bodies(template, full_context(template))

    parsed = parse(html)

    assert parsed.problems == []
    assert parsed.open == []
    assert parsed.lang == "en-GB"


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_html_title_and_heading_are_the_subject(template):
    subject, _, html = render_bodies(template, full_context(template))

    assert f"<title>{subject}</title>" in html
    assert f"<h1 style=\"font-size: 22px;\">{subject}</h1>" in html


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_html_body_escapes_values_but_text_body_keeps_them(template):
    context = {**full_context(template), "recipient_name": "<script>alert(1)</script> O'Neil"}

    _, text, html = render_bodies(template, context)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "Dear <script>alert(1)</script> O'Neil," in text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("missing", ["recipient_name", "la_contact"])
def test_a_missing_common_key_raises_undefined_error(template, missing):
    context = full_context(template)
    del context[missing]

    with pytest.raises(jinja2.UndefinedError, match=missing):
        render_bodies(template, context)


@pytest.mark.parametrize(
    ("template", "missing"),
    [("case_received", "mediate_by"), ("case_received", "provider_email"),
     ("decline_received", "certificate_due_on"), ("meeting_scheduled", "starts_at"),
     ("meeting_scheduled", "mediator_name"), ("certificate_issued", "certificate_number"),
     ("certificate_issued", "issued_on"), ("meeting_rescheduled", "starts_at"), ("meeting_rescheduled", "location"),
     ("meeting_cancelled", "starts_at"), ("meeting_reminder", "starts_at"), ("meeting_reminder", "location"),
     ("meeting_no_show", "scheduled_for"), ("deadline_missed", "certificate_due_on"),
     ("new_request_notice", "mediate_by"), ("health_body_notice", "mediate_by"), ("decline_notice", "certificate_due_on"),
     ("withdrawal_notice", "reason"), ("dr_request_notice", "dr_type"), ("meeting_booked_notice", "starts_at"),
     ("meeting_moved_notice", "location"), ("meeting_cancelled_notice", "meeting_words"),
     ("meeting_concluded_notice", "agreement"), ("meeting_concluded_notice", "certificate_due_on"),
     ("meeting_no_show_notice", "scheduled_for"), ("deadline_missed_notice", "certificate_due_on"),
     ("deadline_breached_alert", "mediate_by"), ("certificate_issued_notice", "verify_url"),
     ("certificate_due_reminder", "certificate_due_on"), ("deadline_at_risk_alert", "mediate_by")],
)
def test_a_missing_template_key_raises_undefined_error(template, missing):
    context = full_context(template)
    del context[missing]

    with pytest.raises(jinja2.UndefinedError, match=missing):
        render_bodies(template, context)


def test_case_received_states_the_mediate_by_date_and_the_notice_period():
    _, text, _ = render_bodies("case_received", full_context("case_received"))

    assert "It must take place by 2 December 2026." in text
    assert "at least 5 working days before the meeting" in text


def test_meeting_scheduled_states_when_where_and_who():
    _, text, _ = render_bodies("meeting_scheduled", full_context("meeting_scheduled"))

    assert "When: Wednesday 6 January 2027, 10:00 to 12:00" in text
    assert "Where: Video call arranged by Global Mediation" in text
    assert "Mediator: Grace Hopper, Global Mediation" in text


def test_certificate_issued_states_the_number_and_date():
    _, text, _ = render_bodies("certificate_issued", full_context("certificate_issued"))

    assert "Your mediation certificate MC-2026-000042-5 was issued on 31 December 2026" in text


def test_meeting_rescheduled_states_the_new_time_place_and_mediator():
    _, text, _ = render_bodies("meeting_rescheduled", full_context("meeting_rescheduled"))

    assert "Your mediation meeting has moved" in text
    assert "When: Friday 8 January 2027, 14:00 to 16:00" in text
    assert "Where: Room 4, Civic Centre" in text
    assert "Mediator: Grace Hopper, Global Mediation" in text


@pytest.mark.parametrize("template", ["meeting_rescheduled", "meeting_reminder"])
def test_a_meeting_whose_mediator_is_not_known_leaves_the_mediator_line_out(template):
    context = {**full_context(template), "mediator_name": "", "provider_name": ""}

    _, text, html = render_bodies(template, context)

    assert "Mediator:" not in text
    assert "Mediator:" not in html
    assert parse(html).problems == []


def test_meeting_cancelled_says_which_meeting_and_not_to_go():
    _, text, _ = render_bodies("meeting_cancelled", full_context("meeting_cancelled"))

    assert "Your mediation meeting on Friday 8 January 2027, 14:00 has been cancelled" in text
    assert "Please do not go to it." in text


def test_the_certificate_email_links_to_the_verification_page_in_both_bodies():
    _, text, html = render_bodies("certificate_issued", full_context("certificate_issued"))

    assert f"check that this certificate is genuine at {VERIFY_URL}" in text
    assert f'<a href="{VERIFY_URL}">{VERIFY_URL}</a>' in html


def test_a_certificate_email_queued_before_the_link_existed_still_renders():
    context = full_context("certificate_issued")
    del context["verify_url"]

    _, text, _ = render_bodies("certificate_issued", context)

    assert "genuine" not in text


@pytest.mark.parametrize("template", sorted(name for name, spec in TEMPLATES.items() if spec.audience == "staff"))
def test_a_staff_email_gives_the_case_reference_and_never_addresses_the_family(template):
    _, text, html = render_bodies(template, full_context(template))

    for body in (text, html):
        assert "Case reference" in body
        assert "Choosing not to mediate" not in body


def test_r8_the_new_request_tells_the_la_about_the_health_bodies_only_when_there_are_health_issues():
    with_health = render_bodies("new_request_notice", full_context("new_request_notice"))[1]
    without = render_bodies("new_request_notice", {**full_context("new_request_notice"), "health_issues": False})[1]

    assert "The meeting must take place by 20 December 2026 (30 days, R8)." in with_health
    assert "within 3 working days (R8)" in with_health
    assert "health commissioning body" not in without


def test_a_health_only_case_tells_the_health_body_it_arranges_the_mediation():
    _, text, _ = render_bodies("health_body_notice", {**full_context("health_body_notice"), "health_only": True})

    assert "you arrange the mediation" in text


def test_r20_the_concluded_notice_says_held_and_agreement_and_that_the_content_stays_confidential():
    _, text, _ = render_bodies("meeting_concluded_notice", full_context("meeting_concluded_notice"))

    assert "Meeting held: yes" in text
    assert "Outcome: partial agreement" in text
    assert "The mediator must issue the certificate by 15 December 2026 (3 working days, R15)." in text
    assert "not shared here (R20)" in text


@pytest.mark.parametrize("template", ["meeting_no_show", "meeting_no_show_notice"])
def test_a_no_show_is_told_in_neutral_words(template):
    _, text, _ = render_bodies(template, full_context(template))

    assert "did not go ahead" in text
    for blame in ("did not attend", "failed", "absent", "fault"):
        assert blame not in text


def test_the_family_is_told_a_certificate_follows_a_missed_30_days():
    _, text, _ = render_bodies("deadline_missed", full_context("deadline_missed"))

    assert "will issue your mediation certificate by 23 December 2026" in text


def test_a_disagreement_resolution_meeting_is_called_that_in_the_staff_invitation():
    context = {**full_context("meeting_booked_notice"), "meeting_words": "disagreement resolution meeting"}

    _, text, _ = render_bodies("meeting_booked_notice", context)

    assert "A disagreement resolution meeting is booked" in text


def test_meeting_reminder_states_when_and_where():
    _, text, _ = render_bodies("meeting_reminder", full_context("meeting_reminder"))

    assert "When: Friday 8 January 2027, 14:00 to 16:00" in text
    assert "Where: Room 4, Civic Centre" in text


# The calendar invitation.


def invitation(**overrides) -> str:
    fields = {"uid": "m-1@send.example", "sequence": 3, "starts_at": datetime(2026, 7, 6, 10, 0, tzinfo=LONDON),
              "ends_at": datetime(2026, 7, 6, 12, 0, tzinfo=LONDON), "summary": "SEND mediation meeting",
              "location": "Video call", "organiser": "noreply@send.example", "attendee": "ada@example.org"}
    return meeting_invitation(**{**fields, **overrides})


def test_invitation_is_a_request_with_the_given_uid_and_sequence():
    calendar = icalendar.Calendar.from_ical(invitation())

    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == "m-1@send.example"
    assert int(event["SEQUENCE"]) == 3


def test_invitation_starts_and_ends_in_europe_london():
    calendar = icalendar.Calendar.from_ical(invitation())

    [event] = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event.decoded("DTSTART") == datetime(2026, 7, 6, 9, 0, tzinfo=ZoneInfo("UTC"))  # 10:00 BST
    assert event.decoded("DTEND") == datetime(2026, 7, 6, 11, 0, tzinfo=ZoneInfo("UTC"))


def test_invitation_names_organiser_attendee_summary_and_location():
    calendar = icalendar.Calendar.from_ical(invitation())

    [event] = calendar.walk("VEVENT")
    assert str(event["ORGANIZER"]) == "mailto:noreply@send.example"
    assert str(event["ATTENDEE"]) == "mailto:ada@example.org"
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert str(event["SUMMARY"]) == "SEND mediation meeting"
    assert str(event["LOCATION"]) == "Video call"


def test_an_updated_invitation_keeps_the_uid_and_raises_the_sequence():
    first = icalendar.Calendar.from_ical(invitation(sequence=0))
    update = icalendar.Calendar.from_ical(invitation(sequence=1))

    [before], [after] = first.walk("VEVENT"), update.walk("VEVENT")
    assert str(before["UID"]) == str(after["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1


def test_invitation_defines_the_europe_london_timezone_it_uses():
    calendar = icalendar.Calendar.from_ical(invitation())

    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/London"


@pytest.mark.parametrize(("starts_at", "offset_hours"), [(datetime(2026, 7, 6, 10, 0), 1),
                                                       (datetime(2026, 12, 14, 10, 0), 0),
                                                       (datetime(2027, 3, 29, 10, 0), 1)])  # the day after BST begins
def test_the_invitations_own_timezone_gives_the_meetings_london_offset_and_lists_only_its_years(starts_at,
                                                                                               offset_hours):
    calendar = icalendar.Calendar.from_ical(invitation(starts_at=starts_at.replace(tzinfo=LONDON),
                                                       ends_at=starts_at.replace(hour=12, tzinfo=LONDON)))

    [timezone] = calendar.walk("VTIMEZONE")
    own = timezone.to_tz()  # what a mail client that reads the VTIMEZONE (not the TZID's name) applies
    assert starts_at.replace(tzinfo=own).utcoffset() == timedelta(hours=offset_hours)
    changes = [sub.decoded("DTSTART") for sub in timezone.subcomponents]
    changes += [period.dt for sub in timezone.subcomponents for rdates in _as_list(sub.get("RDATE"))
                for period in rdates.dts]
    assert {change.year for change in changes} <= {starts_at.year, starts_at.year + 1}  # not 1970-2038 (7 ms a time)


def _as_list(value: object) -> list[object]:
    return [] if value is None else value if isinstance(value, list) else [value]


def test_invitation_built_from_a_decoded_meeting_event_is_in_europe_london():
    event = Envelope.wrap(MeetingScheduledV1(
        meeting_id="m-1", case_id="c-1", mediator_id="med-1", mediator_name="Grace Hopper",
        provider_name="Global Mediation", starts_at=datetime(2026, 7, 6, 10, 0, tzinfo=LONDON),
        ends_at=datetime(2026, 7, 6, 12, 0, tzinfo=LONDON), location="Video call",
        arranging_body="local_authority"), source="/scheduling", subject="c-1")
    message = encode(event, "scheduling.meetings")
    received = decode(message.headers, message.value).data
    starts_at = datetime.fromisoformat(received.starts_at.isoformat())  # as handlers.py and service.py do
    ends_at = datetime.fromisoformat(received.ends_at.isoformat())

    calendar = icalendar.Calendar.from_ical(invitation(starts_at=starts_at, ends_at=ends_at))

    [ics_event] = calendar.walk("VEVENT")
    assert ics_event["DTSTART"].params["TZID"] == "Europe/London"


def test_a_cancellation_is_method_cancel_with_the_same_uid_and_status_cancelled():
    calendar = icalendar.Calendar.from_ical(invitation(method="CANCEL", sequence=4))

    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["UID"]) == "m-1@send.example"
    assert int(event["SEQUENCE"]) == 4
    assert str(event["STATUS"]) == "CANCELLED"


def test_a_request_is_confirmed():
    [event] = icalendar.Calendar.from_ical(invitation()).walk("VEVENT")

    assert str(event["STATUS"]) == "CONFIRMED"


@pytest.mark.parametrize("template", ["meeting_scheduled", "meeting_rescheduled", "meeting_cancelled", "meeting_reminder"])
def test_r21_a_disagreement_resolution_meeting_is_called_so_to_the_family(template):
    context = {**full_context(template), "meeting_words": "disagreement resolution meeting"}

    subject, text, html = render_bodies(template, context)

    assert "mediation meeting" not in subject + text + html
    assert "disagreement resolution meeting" in text


def test_r8_the_health_bodies_notice_gives_the_issues_the_provision_wanted_and_its_due_date():
    _, text, html = render_bodies("health_body_notice", full_context("health_body_notice"))

    for body in (text, html):
        assert "Section G: speech and language therapy" in body
        assert "Weekly therapy in school" in body
        assert "25 November 2026" in body

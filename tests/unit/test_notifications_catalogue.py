"""The message catalogue: every event and recipient covered, docs/notifications.md in step, the PDF only to the family."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifications.consumers import SUBSCRIPTIONS
from notifications.message.catalogue import (
    ADVISER,
    CATALOGUE,
    HEALTH_BODY,
    LA_OFFICER,
    MEDIATOR,
    OPS,
    PROVIDER,
    RECIPIENTS,
    REMINDERS,
    REQUESTER,
    TEMPLATES,
    as_markdown,
)
from notifications.message.service import short_reply

CATALOGUE_DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def test_every_event_notifications_consumes_has_a_catalogue_entry_and_no_entry_goes_unconsumed():
    assert set(CATALOGUE) == {model.type for model in SUBSCRIPTIONS}


def test_every_recipient_kind_gets_something():
    sent_to = {send.to for sends in CATALOGUE.values() for send in sends} | {planned.to for planned in REMINDERS}

    assert sent_to == set(RECIPIENTS) == {REQUESTER, LA_OFFICER, MEDIATOR, HEALTH_BODY, ADVISER, PROVIDER, OPS}


def test_every_template_in_the_catalogue_is_a_known_template():
    used = {send.template.name for sends in CATALOGUE.values() for send in sends} | {p.template.name for p in REMINDERS}

    assert used <= set(TEMPLATES)


def test_only_the_parent_or_young_person_gets_the_certificate_pdf():
    attaching = [(event, send.to) for event, sends in CATALOGUE.items() for send in sends if send.attach_document]

    assert attaching == [("certificate.document_ready.v1", REQUESTER)]


def test_r21_a_disagreement_resolution_request_sends_nothing_to_a_parent():  # R21: type 4 has no parent
    assert REQUESTER not in {send.to for send in CATALOGUE["case.disagreement_resolution_requested.v1"]}


def test_r10_a_deadline_breach_goes_to_the_la_and_to_ops():  # R10, day 30
    assert {send.to for send in CATALOGUE["meeting.deadline_breached.v1"]} == {LA_OFFICER, OPS}


def test_r8_the_health_bodies_are_told_of_a_request_only_by_the_health_referral_with_its_issues():  # R8
    assert not [send for send in CATALOGUE["case.submitted.v1"] if send.to == HEALTH_BODY]
    assert [send.to for send in CATALOGUE["case.health_referral.v1"]] == [HEALTH_BODY]


@pytest.mark.parametrize("event", ["meeting.scheduled.v1", "meeting.rescheduled.v1", "meeting.cancelled.v1"])
def test_every_party_gets_every_change_to_the_meeting(event):
    assert {send.to for send in CATALOGUE[event]} == {REQUESTER, LA_OFFICER, MEDIATOR, HEALTH_BODY}


def test_the_notifications_document_shows_the_catalogue_as_it_is():
    assert as_markdown() in CATALOGUE_DOC.read_text()


@pytest.mark.parametrize(("reply", "expected"), [
    ("5.1.1 <alex@example.org>: Recipient address rejected", "5.1.1 <<address>>: Recipient address rejected"),
    ("Message accepted\n  for delivery", "Message accepted for delivery"),
    ("x" * 500, "x" * 200),
])
def test_the_smtp_reply_kept_in_the_delivery_log_has_no_address_and_is_short(reply, expected):
    assert short_reply(reply) == expected

"""Personal fields stay out of repr/str, so they cannot leak into logs or tracebacks."""

from __future__ import annotations

from datetime import date

import pytest

from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, Envelope, Party

NAME = "Ada Lovelace"
EMAIL = "ada.lovelace@example.org"


def party() -> Party:
    return Party(role="parent", name=NAME, email=EMAIL)


def case_submitted() -> CaseSubmittedV1:
    return CaseSubmittedV1(case_id="c-1", reference="SM-2026-0001", la_code="E09000033",
                           decision="refusal_to_assess", notice_sent_on=date(2026, 11, 2), requester=party(),
                           mediate_by=date(2026, 12, 2))


def test_personal_fields_of_a_party_are_not_in_its_repr():
    text = repr(party())

    assert NAME not in text
    assert EMAIL not in text
    assert "role='parent'" in text


@pytest.mark.parametrize("render", [repr, str], ids=["repr", "str"])
def test_personal_fields_are_not_in_the_event_representation(render):
    text = render(case_submitted())

    assert NAME not in text
    assert EMAIL not in text
    assert "case_id='c-1'" in text


@pytest.mark.parametrize("render", [repr, str], ids=["repr", "str"])
def test_personal_fields_are_not_in_the_envelope_representation(render):
    envelope = Envelope.wrap(case_submitted(), source="/intake", subject="c-1")

    text = render(envelope)

    assert NAME not in text
    assert EMAIL not in text
    assert "c-1" in text


def test_personal_fields_are_not_in_the_repr_of_a_declined_case():
    event = CaseMediationDeclinedV1(case_id="c-1", reference="SM-2026-0001", la_code="E09000033",
                                    decision="cease_plan", notice_sent_on=date(2026, 11, 2), requester=party(),
                                    told_adviser_on=date(2026, 11, 10), certificate_due_on=date(2026, 11, 13))

    text = repr(event)

    assert NAME not in text
    assert EMAIL not in text


def test_personal_fields_are_still_carried_in_the_event_data():
    event = case_submitted()

    assert event.requester.name == NAME
    assert event.model_dump()["requester"]["email"] == EMAIL

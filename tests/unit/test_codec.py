"""CloudEvents Kafka binding, binary mode: ce_* headers, key = subject, value = data JSON; bad records are poison."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from shared.events import CaseSubmittedV1, Envelope, Party
from shared.kafka.codec import PoisonMessage, decode, encode

CASE_ID = "6f1c2a9e-0000-4000-8000-000000000001"
NAME = "Ada Lovelace"
EMAIL = "ada.lovelace@example.org"


def case_submitted(**overrides) -> CaseSubmittedV1:
    fields = {
        "case_id": CASE_ID, "reference": "SM-2026-0001", "la_code": "E09000033", "decision": "refusal_to_assess",
        "notice_sent_on": date(2026, 11, 2), "requester": Party(role="parent", name=NAME, email=EMAIL),
        "mediate_by": date(2026, 12, 2), "health_issues": False,
    }
    return CaseSubmittedV1(**{**fields, **overrides})


def envelope() -> Envelope[CaseSubmittedV1]:
    return Envelope.wrap(case_submitted(), source="/intake", subject=CASE_ID, id="evt-1",
                         time=datetime(2026, 11, 3, 9, 30, tzinfo=UTC))


def data_json() -> dict:
    return {
        "case_id": CASE_ID, "reference": "SM-2026-0001", "la_code": "E09000033", "decision": "refusal_to_assess",
        "notice_sent_on": "2026-11-02", "requester": {"role": "parent", "name": NAME, "email": EMAIL},
        "mediate_by": "2026-12-02", "health_issues": False, "health_only": False,
        "arranging_body": "local_authority", "languages": [], "accessibility_needs": [], "school_urn": None, "late_contact": False,
    }


def headers(**changes: str | None) -> list[tuple[str, bytes]]:
    values = {"content-type": "application/json", "ce_id": "evt-1", "ce_source": "/intake", "ce_specversion": "1.0",
              "ce_type": "case.submitted.v1", "ce_time": "2026-11-03T09:30:00+00:00", "ce_subject": CASE_ID}
    values.update(changes)
    return [(name, value.encode()) for name, value in values.items() if value is not None]


def test_encode_puts_context_attributes_in_ce_headers():
    message = encode(envelope(), "intake.cases")

    assert dict(message.headers) == {
        "content-type": b"application/json",
        "ce_id": b"evt-1",
        "ce_source": b"/intake",
        "ce_specversion": b"1.0",
        "ce_type": b"case.submitted.v1",
        "ce_time": b"2026-11-03T09:30:00+00:00",
        "ce_subject": CASE_ID.encode(),
    }


def test_encode_keys_the_message_by_subject_so_a_case_stays_on_one_partition():
    message = encode(envelope(), "intake.cases")

    assert message.topic == "intake.cases"
    assert message.key == CASE_ID.encode()


def test_encode_value_is_the_data_as_json_without_the_envelope():
    message = encode(envelope(), "intake.cases")

    assert json.loads(message.value) == data_json()


def test_encode_includes_traceparent_when_present():
    traced = Envelope.wrap(case_submitted(), source="/intake", subject=CASE_ID,
                           traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")

    message = encode(traced, "intake.cases")

    assert dict(message.headers)["ce_traceparent"] == b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_decode_of_encode_gives_back_the_same_typed_envelope():
    original = envelope()
    message = encode(original, "intake.cases")

    decoded = decode(message.headers, message.value)

    assert decoded == original
    assert isinstance(decoded.data, CaseSubmittedV1)
    assert decoded.data.requester.email == EMAIL


def test_decode_reads_a_record_written_by_another_producer():
    decoded = decode(headers(), json.dumps(data_json()).encode())

    assert decoded.id == "evt-1"
    assert decoded.subject == CASE_ID
    assert decoded.time == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    assert decoded.data.mediate_by == date(2026, 12, 2)


def test_an_unknown_extra_field_in_data_is_ignored():
    value = json.dumps({**data_json(), "favourite_colour": "blue"}).encode()

    decoded = decode(headers(), value)

    assert decoded.data == case_submitted()
    assert "favourite_colour" not in decoded.data.model_dump()


def test_a_record_missing_ce_id_is_poison():
    with pytest.raises(PoisonMessage, match="missing CloudEvents attributes: id"):
        decode(headers(ce_id=None), json.dumps(data_json()).encode())


def test_a_record_without_headers_is_poison():
    with pytest.raises(PoisonMessage, match="missing CloudEvents attributes"):
        decode(None, json.dumps(data_json()).encode())


def test_an_unknown_ce_type_is_poison():
    with pytest.raises(PoisonMessage, match=r"unknown event type 'case\.exploded\.v1'"):
        decode(headers(ce_type="case.exploded.v1"), json.dumps(data_json()).encode())


def test_a_wrong_specversion_is_poison():
    with pytest.raises(PoisonMessage, match=r"unsupported specversion '0\.3'"):
        decode(headers(ce_specversion="0.3"), json.dumps(data_json()).encode())


def test_a_header_that_is_not_utf8_is_poison():
    bad = [*headers(), ("ce_traceparent", b"\xff\xfe")]

    with pytest.raises(PoisonMessage, match="header ce_traceparent is not UTF-8"):
        decode(bad, json.dumps(data_json()).encode())


def test_a_value_that_is_not_json_is_poison_and_does_not_echo_the_value():
    value = b'{"requester": {"name": "' + NAME.encode() + b'", "email": "' + EMAIL.encode() + b'"'

    with pytest.raises(PoisonMessage, match="value is not JSON") as raised:
        decode(headers(), value)

    assert NAME not in str(raised.value)
    assert EMAIL not in str(raised.value)


def test_an_empty_value_is_poison():
    with pytest.raises(PoisonMessage, match="value is not JSON"):
        decode(headers(), None)


def test_invalid_data_is_poison_naming_the_field_but_not_the_personal_values():
    payload = data_json()
    payload["requester"] = {"role": "grandparent", "name": NAME, "email": EMAIL}

    with pytest.raises(PoisonMessage) as raised:
        decode(headers(), json.dumps(payload).encode())

    text = str(raised.value)
    assert "data.requester.role" in text
    assert NAME not in text
    assert EMAIL not in text
    assert "grandparent" not in text


def test_data_missing_a_required_field_is_poison_naming_the_field():
    payload = data_json()
    del payload["requester"]["email"]

    with pytest.raises(PoisonMessage, match=r"data\.requester\.email: missing") as raised:
        decode(headers(), json.dumps(payload).encode())

    assert NAME not in str(raised.value)


def test_a_malformed_ce_time_is_poison():
    with pytest.raises(PoisonMessage, match="time"):
        decode(headers(ce_time="yesterday"), json.dumps(data_json()).encode())

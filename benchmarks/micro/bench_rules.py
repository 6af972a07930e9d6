"""The pure rules every case goes through: working days (T3, T4), the appeal deadline (R17), webhook signatures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared import webhooks
from shared.calendar import DEFAULT_CALENDAR, add_months, appeal_deadline

SECRET = webhooks.generate_secret()
OLD_SECRET = webhooks.generate_secret()
BODY = json.dumps({"type": "meeting.outcome_reported", "data": {
    "meeting_id": "0b6c6f0e-3f7e-4c39-9a55-3c1f4f1f2f10", "held": True, "concluded_on": "2026-12-14",
    "agreement": "partial", "resolved_issues": ["Section F provision"], "unresolved_issues": ["Named school"]}}).encode()


@pytest.fixture(scope="module", autouse=True)
def _warm_calendar() -> None:
    DEFAULT_CALENDAR.is_working_day(date(2026, 12, 25))  # the bank holidays load once, on first use


def test_add_3_working_days_over_christmas(benchmark: Any) -> None:
    benchmark(DEFAULT_CALENDAR.add_working_days, date(2026, 12, 23), 3)


def test_add_30_working_days(benchmark: Any) -> None:
    benchmark(DEFAULT_CALENDAR.add_working_days, date(2026, 11, 20), 30)


def test_clear_working_days_between_over_a_month(benchmark: Any) -> None:
    benchmark(DEFAULT_CALENDAR.clear_working_days_between, date(2026, 11, 20), date(2026, 12, 21))


def test_add_2_calendar_months(benchmark: Any) -> None:
    benchmark(add_months, date(2026, 12, 31), 2)


def test_appeal_deadline_without_certificate(benchmark: Any) -> None:
    benchmark(lambda: appeal_deadline(notice_sent_on=date(2026, 11, 3), certificate_issued_on=None))


def test_appeal_deadline_moved_out_of_august(benchmark: Any) -> None:
    benchmark(lambda: appeal_deadline(notice_sent_on=date(2027, 5, 10), certificate_issued_on=date(2027, 7, 9)))


def test_appeal_deadline_moved_out_of_christmas(benchmark: Any) -> None:
    benchmark(lambda: appeal_deadline(notice_sent_on=date(2026, 10, 27), certificate_issued_on=date(2026, 11, 30)))


def test_webhook_sign(benchmark: Any) -> None:
    benchmark(lambda: webhooks.sign(SECRET, msg_id="msg_bench", body=BODY))


def test_webhook_verify(benchmark: Any) -> None:
    headers = webhooks.sign(SECRET, msg_id="msg_bench", body=BODY, timestamp=datetime.now(UTC))
    benchmark(lambda: webhooks.verify([SECRET], headers=headers, body=BODY))


def test_webhook_verify_during_rotation_second_secret(benchmark: Any) -> None:
    headers = webhooks.sign(SECRET, msg_id="msg_bench", body=BODY, timestamp=datetime.now(UTC))
    benchmark(lambda: webhooks.verify([OLD_SECRET, SECRET], headers=headers, body=BODY))


def test_webhook_verify_refuses_a_forged_signature(benchmark: Any) -> None:
    headers = {**webhooks.sign(SECRET, msg_id="msg_bench", body=BODY, timestamp=datetime.now(UTC)),
               "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}

    def forged() -> None:
        with pytest.raises(webhooks.InvalidWebhook):
            webhooks.verify([SECRET], headers=headers, body=BODY)

    benchmark(forged)

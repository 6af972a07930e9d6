"""Poison isolation's parts that need no infrastructure: what is parked at once, a stuck worker, the size check."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError, RecordTooLargeError

from shared.kafka.codec import KafkaMessage
from shared.kafka.producer import MAX_REQUEST_SIZE, Producer
from shared.outage import is_outage
from shared.poison import retry_delay
from shared.worker import Worker


@pytest.mark.parametrize("error", [MessageSizeTooLargeError(), RecordTooLargeError()])
def test_a_record_the_broker_refuses_as_too_large_is_not_an_outage_so_it_can_be_parked(error):
    assert not is_outage(error)
    assert is_outage(KafkaConnectionError())  # while an unreachable broker still is


def test_the_producer_names_a_record_larger_than_its_max_request_size_before_sending_it():
    small = KafkaMessage(topic="intake.cases", key=b"case-1", value=b"{}", headers=[])
    huge = KafkaMessage(topic="intake.cases", key=b"case-1", value=b"x" * MAX_REQUEST_SIZE, headers=[])

    assert Producer.refusal(small) is None
    assert isinstance(Producer.refusal(huge), MessageSizeTooLargeError)


def test_a_failed_item_waits_longer_after_each_failure_up_to_five_minutes():
    assert [retry_delay(tries, 5.0) for tries in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert retry_delay(20, 5.0) == 300.0


async def run_for_a_moment(worker: Worker) -> None:
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.3)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_a_worker_whose_steps_keep_failing_not_for_an_outage_reports_itself_stuck():
    async def broken() -> bool:
        raise ValueError("a bug in the worker's own query")

    worker = Worker("email_sender", broken, service="notifications", poll_interval=1, stuck_after=0.1,
                    max_backoff=0.05)
    await run_for_a_moment(worker)

    assert worker.detail()["status"].startswith("stuck: failing for")
    assert "ValueError" in worker.detail()["status"]
    assert worker.detail()["last_success_seconds_ago"] is None


async def test_a_worker_waiting_out_an_outage_is_not_stuck_and_a_working_one_reports_its_last_success():
    async def outage() -> bool:
        raise KafkaConnectionError()

    async def working() -> bool:
        return False

    waiting = Worker("outbox_relay", outage, service="intake", poll_interval=1, stuck_after=0.0,
                     outage_backoff=0.05)
    fine = Worker("outbox_relay", working, service="intake", poll_interval=1, stuck_after=0.0)
    await run_for_a_moment(waiting)
    await run_for_a_moment(fine)

    assert waiting.detail()["status"] == "ok"
    assert fine.detail()["status"] == "ok" and fine.detail()["last_success_seconds_ago"] is not None

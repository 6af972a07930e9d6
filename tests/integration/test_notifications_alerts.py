"""Ops-visible alerts for failed deadline-bound emails, and the delivery-log filters, over real PostgreSQL, Kafka, SMTP."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import select
from support import NOVEMBER_2026, OPS, eventually, handle, serve

from notifications.main import create_app
from notifications.message import handlers
from notifications.message.models import Message, MessageStatus
from notifications.settings import NotificationsSettings
from shared.events import CaseMediationDeclinedV1, CaseSubmittedV1, Envelope, EventData, Party
from shared.events.notifications import NotificationAlertRaisedV1
from shared.localinfra.smtp import SmtpServer
from shared.outbox import OutboxEvent

#: Written with the dates of late November 2026 (the notice sent Tue 3 Nov): the clock starts there.
pytestmark = pytest.mark.clock(NOVEMBER_2026)

CASE_ID = "case-0001"
PARENT = "alex@example.org"
REQUESTER = Party(role="parent", name="Alex Example", email="alex@example.org")


@pytest.fixture
async def notifications(database_url: str, kafka_bootstrap: str, namespace: str,
                        smtp_server: SmtpServer) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotificationsSettings(database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                                     kafka_namespace=namespace, environment="test", smtp_port=smtp_server.port)
    app = create_app(settings)
    async with serve(app) as client:
        yield client


async def deliver(client: httpx.AsyncClient, data: EventData, handler: Any, case_id: str = CASE_ID) -> Envelope:
    return await handle(client, data, handler, subject=case_id)


def submitted(case_id: str = CASE_ID) -> CaseSubmittedV1:
    return CaseSubmittedV1(case_id=case_id, reference="SEND-TEST0001", la_code="E06000033",
                           decision="refusal_to_assess", notice_sent_on=date(2026, 11, 3),
                           mediate_by=date(2026, 12, 20), requester=REQUESTER)


def declined(case_id: str = CASE_ID) -> CaseMediationDeclinedV1:
    return CaseMediationDeclinedV1(case_id=case_id, reference="SEND-TEST0002", la_code="E06000033",
                                   decision="refusal_to_assess", notice_sent_on=date(2026, 11, 3),
                                   told_adviser_on=date(2026, 11, 20), certificate_due_on=date(2026, 11, 25),
                                   requester=REQUESTER)


async def settled(client: httpx.AsyncClient, count: int) -> list[Message] | None:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        found = list((await session.exec(select(Message).where(Message.recipient_role == "requester"))).all())
    return found if len(found) == count and all(m.status is not MessageStatus.pending for m in found) else None


async def outbox(client: httpx.AsyncClient) -> list[OutboxEvent]:
    async with client.app.state.runtime.sessionmaker() as session:  # type: ignore[attr-defined]
        rows = (await session.exec(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    return [row for row in rows if json.loads(row.envelope)["data"]["recipient_role"] == "requester"]


async def alerts_counted(client: httpx.AsyncClient, template: str) -> float:
    text = (await client.get("/metrics")).text
    match = re.search(rf'^notifications_deadline_alerts_total\{{template="{template}"\}} (\S+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_a_deadline_bound_email_that_fails_permanently_raises_an_ops_alert(notifications, smtp_server):
    before = await alerts_counted(notifications, "decline_received")
    smtp_server.handler.script("550 5.1.1 No such mailbox", to=PARENT)

    await deliver(notifications, declined(), handlers.acknowledge_decline)
    [message] = await eventually(lambda: settled(notifications, 1), what="the email failed")

    assert message.status is MessageStatus.failed
    failed, alert = await outbox(notifications)
    assert (failed.type, alert.type) == ("notification.failed.v1", "notification.alert_raised.v1")
    data = Envelope[NotificationAlertRaisedV1].model_validate_json(alert.envelope).data
    assert (data.kind, data.message_id, data.case_id, data.template, data.recipient_role) == (
        "deadline_message_failed", message.id, CASE_ID, "decline_received", "requester")
    assert "alex@example.org" not in alert.envelope
    assert await alerts_counted(notifications, "decline_received") == before + 1


async def test_a_failed_email_not_tied_to_a_deadline_raises_no_alert(notifications, smtp_server):
    before = await alerts_counted(notifications, "case_received")
    smtp_server.handler.script("550 5.1.1 No such mailbox", to=PARENT)

    await deliver(notifications, submitted(), handlers.acknowledge_request)
    await eventually(lambda: settled(notifications, 1), what="the email failed")

    assert [row.type for row in await outbox(notifications)] == ["notification.failed.v1"]
    assert await alerts_counted(notifications, "case_received") == before


async def test_the_delivery_log_filters_by_template_and_by_deadline(notifications, smtp_server):
    await deliver(notifications, submitted("case-a"), handlers.acknowledge_request, case_id="case-a")
    await deliver(notifications, declined("case-b"), handlers.acknowledge_decline, case_id="case-b")
    await eventually(lambda: settled(notifications, 2), what="both emails sent")

    by_template = (await notifications.get("/v1/messages?template=decline_received", headers=OPS)).json()["items"]
    family = "recipient_role=requester"
    bound = (await notifications.get(f"/v1/messages?deadline_bound=true&{family}", headers=OPS)).json()["items"]
    unbound = (await notifications.get(f"/v1/messages?deadline_bound=false&{family}", headers=OPS)).json()["items"]
    by_role = (await notifications.get("/v1/messages?recipient_role=requester", headers=OPS)).json()["items"]

    assert [(m["case_id"], m["template"], m["deadline_bound"]) for m in by_template] == [
        ("case-b", "decline_received", True)]
    assert [m["case_id"] for m in bound] == ["case-b"]
    assert [m["case_id"] for m in unbound] == ["case-a"]
    assert sorted(m["case_id"] for m in by_role) == ["case-a", "case-b"]


async def test_the_delivery_log_refuses_an_unknown_template_naming_the_field(notifications):
    response = await notifications.get("/v1/messages?template=no_such_template", headers=OPS)

    assert response.status_code == 422
    assert "template" in response.text

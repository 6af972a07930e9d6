"""Outbound webhooks to the mediation provider: persisted, signed, retried, replayable.

Every message is stored before it is sent and keeps its id as ``webhook-id`` on
every attempt, so the provider can de-duplicate. Retries follow the Standard
Webhooks schedule (now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h)
with jitter and honour ``Retry-After``; they live in the database, so they
survive restarts. 410 Gone disables the endpoint at once; so does a message
whose retries are exhausted, with an event for operations, unless the endpoint
took other messages meanwhile: then the receiver refuses this one message (its
data), and only it is parked (``shared.poison``, a dead letter with reason
``rejected``), while later deliveries go out. Re-driving it sends it again.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any

import httpx
from sqlalchemy import BindParameter, and_, bindparam, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from scheduling.outbound.models import DeliveryStatus, WebhookEndpoint, WebhookMessage
from shared import claims, clock, poison, webhooks
from shared.db import wake_after_commit
from shared.deadletters import DeadLetterReason
from shared.errors import NotFound
from shared.events.meetings import ProviderEndpointDisabledV1
from shared.logging import bound_contextvars, get_logger
from shared.outbox import add_event

log = get_logger(__name__)

DISPATCHER = "webhook_dispatcher"
KEPT_SECRETS = 2  # the newest signs; the previous one too, until the next rotation


class EndpointNotFound(NotFound):
    title = "Webhook endpoint not found"


class MessageNotFound(NotFound):
    title = "Webhook message not found"


async def create_endpoint(session: AsyncSession, *, provider_id: str, url: str,
                          endpoint_id: str | None = None, secret: str | None = None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(id=endpoint_id or f"ep_{uuid.uuid4().hex[:16]}", provider_id=provider_id, url=url,
                               secrets=[secret or webhooks.generate_secret()])
    session.add(endpoint)
    await session.flush()
    return endpoint


async def get_endpoint(session: AsyncSession, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise EndpointNotFound(f"no endpoint {endpoint_id}")
    return endpoint


async def rotate_secret(session: AsyncSession, endpoint_id: str) -> str:
    """A new secret signs from now on; the previous one still signs too, so the provider can switch over."""
    endpoint = await get_endpoint(session, endpoint_id)
    secret = webhooks.generate_secret()
    endpoint.secrets = [secret, *endpoint.secrets][:KEPT_SECRETS]
    session.add(endpoint)
    return secret


async def enqueue(session: AsyncSession, *, provider_id: str, case_id: str, type: str,
                  data: dict[str, Any]) -> list[WebhookMessage]:
    """Persist one message per enabled endpoint of the provider; the dispatcher sends it after commit."""
    endpoints = (await session.exec(select(WebhookEndpoint).where(WebhookEndpoint.provider_id == provider_id))).all()
    messages = []
    for endpoint in endpoints:
        message = WebhookMessage(id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint.id, case_id=case_id, type=type,
                                 payload={"type": type, "timestamp": clock.now().isoformat(), "data": data})
        session.add(message)
        messages.append(message)
    if messages:
        wake_after_commit(session, DISPATCHER)
    return messages


async def next_due(session: AsyncSession, now: datetime) -> tuple[WebhookMessage, WebhookEndpoint] | None:
    """The next message to attempt, locked for this transaction; another replica's dispatcher skips it.

    A case's messages to one endpoint go one at a time, oldest first: one waits while an older one for the same
    case and endpoint is still pending (being sent by a replica, or waiting for its retry), so the provider never
    hears of a cancellation before the referral it cancels. A message found behind an older one is passed over
    (and stays locked by this transaction until it ends).
    """
    row = await claims.first_not_held_back(session, _next_due_query, {"now": now})
    return None if row is None else (row[0], row[1])


@cache
def _next_due_query(passing_over: bool) -> Select[WebhookMessage, WebhookEndpoint, bool]:
    """The claim of ``next_due``, built once (``now`` and the ids passed over are bound at each call), in two levels
    (``shared.claims``): so that stale statistics cannot make a claim compare every pending message with every
    other."""
    now: BindParameter[datetime] = bindparam("now")
    claim = (
        select(WebhookMessage)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookMessage.endpoint_id))
        .where(WebhookMessage.status == DeliveryStatus.pending, col(WebhookMessage.next_attempt_at) <= now,
               col(WebhookEndpoint.enabled).is_(True), poison.available(DISPATCHER, WebhookMessage.id, now))
    )
    claimed = claims.first_locked(WebhookMessage, claim, order_by=col(WebhookMessage.next_attempt_at),
                                  passing_over=passing_over)
    older = aliased(WebhookMessage)
    behind = exists().where(
        col(older.endpoint_id) == col(claimed.endpoint_id), col(older.case_id) == col(claimed.case_id),
        col(older.status) == DeliveryStatus.pending,
        or_(col(older.created_at) < col(claimed.created_at),
            and_(col(older.created_at) == col(claimed.created_at), col(older.id) < col(claimed.id))))
    return (select(claimed, WebhookEndpoint, behind)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(claimed.endpoint_id)))


def retry_delay(attempts: int, schedule: list[float], *, jitter: float, retry_after: float | None) -> float | None:
    """Seconds until the next attempt after ``attempts`` failures, or None when the schedule is exhausted."""
    if attempts >= len(schedule):
        return None
    delay = schedule[attempts] * (1 + random.uniform(-jitter, jitter))
    return max(delay, retry_after or 0.0)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - clock.real_now()).total_seconds())
        except (TypeError, ValueError):
            return None


async def deliver(session: AsyncSession, message: WebhookMessage, endpoint: WebhookEndpoint, *,
                  client: httpx.AsyncClient, schedule: list[float], jitter: float,
                  park: ParkSettings | None = None) -> poison.ItemFailure | None:
    """One attempt: 2xx delivers; 410 disables the endpoint; anything else is retried on the schedule.

    Returns the failure recorded when the message was parked (count it once committed)."""
    with bound_contextvars(case_id=message.case_id, webhook_id=message.id, endpoint_id=endpoint.id):
        body = json.dumps(message.payload, separators=(",", ":")).encode()
        headers = {"content-type": "application/json"}
        for index, secret in enumerate(endpoint.secrets):  # every current secret signs (rotation)
            signed = webhooks.sign(secret, msg_id=message.id, body=body)
            headers.update({k: v for k, v in signed.items() if k != "webhook-signature"})
            headers["webhook-signature"] = (headers["webhook-signature"] + " " if index else "") + \
                signed["webhook-signature"]
        message.attempts += 1
        retry_after = None
        try:
            response = await client.post(endpoint.url, content=body, headers=headers)
            message.last_status_code, message.last_error = response.status_code, None
            if 200 <= response.status_code < 300:
                message.status, message.delivered_at = DeliveryStatus.delivered, clock.now()
                session.add(message)
                log.info("webhook.delivered", attempts=message.attempts)
                return None
            if response.status_code == 410:
                message.status = DeliveryStatus.failed
                _disable(session, endpoint, message, "the endpoint answered 410 Gone")
                return None
            retry_after = _retry_after(response)
            message.last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            message.last_status_code, message.last_error = None, type(exc).__name__
        delay = retry_delay(message.attempts, schedule, jitter=jitter, retry_after=retry_after)
        if delay is None:
            message.status = DeliveryStatus.failed
            if park is not None and await _took_others_since(session, endpoint, message):
                session.add(message)
                return await poison.note_failure(
                    session, worker=DISPATCHER, item_key=message.id, subject=message.case_id,
                    table=WebhookMessage.__tablename__, item_type=message.type,
                    exc=poison.ParkNow(DeadLetterReason.rejected,
                                       f"{message.last_error} on each of {message.attempts} attempts"),
                    max_tries=park.max_tries, retry_base_seconds=park.retry_seconds)
            _disable(session, endpoint, message, f"every retry failed ({message.last_error})")
            return None
        message.next_attempt_at = clock.now() + timedelta(seconds=delay)
        session.add(message)
        log.warning("webhook.retry", attempts=message.attempts, error=message.last_error, delay_seconds=round(delay, 1))
        return None


@dataclass(frozen=True)
class ParkSettings:
    max_tries: int
    retry_seconds: float


async def _took_others_since(session: AsyncSession, endpoint: WebhookEndpoint, message: WebhookMessage) -> bool:
    """Did the endpoint take another message since this one was queued? Then it refuses only this one."""
    other = (await session.exec(select(WebhookMessage.id).where(
        WebhookMessage.endpoint_id == endpoint.id, WebhookMessage.id != message.id,
        WebhookMessage.status == DeliveryStatus.delivered,
        col(WebhookMessage.delivered_at) >= message.created_at).limit(1))).first()
    return other is not None


async def _requeue(session: AsyncSession, message_id: str) -> None:
    """A re-driven parked message: pending again, sent now, its retries counted afresh."""
    message = await session.get(WebhookMessage, message_id)
    if message is not None and message.status is not DeliveryStatus.delivered:
        message.status, message.attempts, message.next_attempt_at = DeliveryStatus.pending, 0, clock.now()
        session.add(message)


poison.on_requeue(DISPATCHER, _requeue)


def _disable(session: AsyncSession, endpoint: WebhookEndpoint, message: WebhookMessage, reason: str) -> None:
    endpoint.enabled, endpoint.disabled_reason = False, reason[:200]
    session.add_all([endpoint, message])
    add_event(session, ProviderEndpointDisabledV1(endpoint_id=endpoint.id, provider_id=endpoint.provider_id,
                                                  reason=reason, failed_message_id=message.id),
              subject=message.case_id)
    log.error("webhook.endpoint_disabled", reason=reason)


async def list_messages(session: AsyncSession, *, status: DeliveryStatus | None, endpoint_id: str | None,
                        case_id: str | None, limit: int) -> list[WebhookMessage]:
    query = select(WebhookMessage).order_by(col(WebhookMessage.created_at).desc()).limit(limit)
    if status is not None:
        query = query.where(WebhookMessage.status == status)
    if endpoint_id is not None:
        query = query.where(WebhookMessage.endpoint_id == endpoint_id)
    if case_id is not None:
        query = query.where(WebhookMessage.case_id == case_id)
    return list((await session.exec(query)).all())


async def replay(session: AsyncSession, message_id: str) -> WebhookMessage:
    """Send one message again, now, under the same webhook-id."""
    message = await session.get(WebhookMessage, message_id)
    if message is None:
        raise MessageNotFound(f"no message {message_id}")
    message.status, message.attempts, message.next_attempt_at = DeliveryStatus.pending, 0, clock.now()
    session.add(message)
    await poison.forget(session, DISPATCHER, message.id)  # a parked message is taken again too
    wake_after_commit(session, DISPATCHER)
    return message


async def recover(session: AsyncSession, endpoint_id: str, *, since: datetime) -> int:
    """Re-enable the endpoint and send again every message that failed since ``since``."""
    endpoint = await get_endpoint(session, endpoint_id)
    endpoint.enabled, endpoint.disabled_reason = True, None
    session.add(endpoint)
    failed = (await session.exec(select(WebhookMessage).where(
        WebhookMessage.endpoint_id == endpoint_id, WebhookMessage.status == DeliveryStatus.failed,
        col(WebhookMessage.created_at) >= since))).all()
    now = clock.now()
    for message in failed:
        message.status, message.attempts, message.next_attempt_at = DeliveryStatus.pending, 0, now
        session.add(message)
    await poison.forget(session, DISPATCHER, *(message.id for message in failed))
    wake_after_commit(session, DISPATCHER)
    return len(failed)

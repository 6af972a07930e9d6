"""Standard Webhooks: HMAC-SHA256 over id.timestamp.body, 5-minute tolerance, secret rotation."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.webhooks import InvalidWebhook, generate_secret, sign, verify

BODY = b'{"meeting_id": "m-1", "held": true, "agreement": "full", "concluded_on": "2026-11-20"}'


@pytest.fixture
def secret() -> str:
    return generate_secret()


def test_generated_secret_has_whsec_prefix_and_32_random_bytes():
    secret = generate_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_generated_secrets_differ():
    assert generate_secret() != generate_secret()


def test_sign_gives_the_three_standard_headers(secret):
    at = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=at)

    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1795867200"
    assert headers["webhook-signature"].startswith("v1,")


def test_a_signed_webhook_verifies(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    verify([secret], headers=headers, body=BODY)


def test_a_webhook_signed_four_minutes_ago_still_verifies(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=datetime.now(UTC) - timedelta(minutes=4))

    verify([secret], headers=headers, body=BODY)


def test_a_tampered_body_is_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook, match="no matching signature"):
        verify([secret], headers=headers, body=BODY.replace(b'"full"', b'"none"'))


def test_a_changed_webhook_id_is_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook):
        verify([secret], headers={**headers, "webhook-id": "msg_2"}, body=BODY)


def test_a_wrong_secret_is_refused(secret):
    headers = sign(generate_secret(), msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook, match="no matching signature"):
        verify([secret], headers=headers, body=BODY)


def test_a_timestamp_older_than_five_minutes_is_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=datetime.now(UTC) - timedelta(minutes=6))

    with pytest.raises(InvalidWebhook, match="too old"):
        verify([secret], headers=headers, body=BODY)


def test_a_timestamp_more_than_five_minutes_ahead_is_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=datetime.now(UTC) + timedelta(minutes=6))

    with pytest.raises(InvalidWebhook, match="too new"):
        verify([secret], headers=headers, body=BODY)


def test_a_stale_timestamp_is_refused_even_if_another_secret_is_configured(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=datetime.now(UTC) - timedelta(minutes=6))

    with pytest.raises(InvalidWebhook, match="too old"):
        verify([generate_secret(), secret], headers=headers, body=BODY)


@pytest.mark.parametrize("signature", ["garbage", "v1", "v1,abc,def"])
def test_a_malformed_signature_header_is_refused(secret, signature):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook, match="malformed webhook-signature header"):
        verify([secret], headers={**headers, "webhook-signature": signature}, body=BODY)


def test_a_non_numeric_timestamp_header_is_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook):
        verify([secret], headers={**headers, "webhook-timestamp": "yesterday"}, body=BODY)


def test_missing_headers_are_refused(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)
    del headers["webhook-signature"]

    with pytest.raises(InvalidWebhook, match="Missing required headers"):
        verify([secret], headers=headers, body=BODY)


def test_rotation_verifies_when_the_second_secret_matches(secret):
    old = generate_secret()
    headers = sign(secret, msg_id="msg_1", body=BODY)

    verify([old, secret], headers=headers, body=BODY)


def test_rotation_verifies_when_the_first_secret_matches(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    verify([secret, generate_secret()], headers=headers, body=BODY)


def test_no_secrets_configured_refuses_everything(secret):
    headers = sign(secret, msg_id="msg_1", body=BODY)

    with pytest.raises(InvalidWebhook, match="no matching signature"):
        verify([], headers=headers, body=BODY)


def test_a_webhook_signed_with_a_non_utc_timestamp_verifies(secret):
    bst = timezone(timedelta(hours=1))
    headers = sign(secret, msg_id="msg_1", body=BODY, timestamp=datetime.now(bst))

    verify([secret], headers=headers, body=BODY)

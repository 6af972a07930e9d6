"""Standard Webhooks signing and verification (HMAC-SHA256 over ``id.timestamp.body``)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared import clock


class InvalidWebhook(Exception):
    """The signature, timestamp or headers do not verify."""


def generate_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, *, msg_id: str, body: bytes, timestamp: datetime | None = None) -> dict[str, str]:
    """The three headers a sender attaches to ``body``."""
    at = (timestamp or clock.real_now()).astimezone(UTC)  # the far side checks it against its wall clock
    signature = Webhook(secret).sign(msg_id=msg_id, timestamp=at, data=body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def verify(secrets_to_try: list[str], *, headers: dict[str, str], body: bytes) -> None:
    """Verify against any of the endpoint's current secrets (rotation), or raise InvalidWebhook.

    Signatures are compared in constant time and a timestamp more than five
    minutes from now is refused, by the ``standardwebhooks`` library.
    """
    for secret in secrets_to_try:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return
        except WebhookVerificationError as exc:
            error = str(exc)
            if "timestamp" in error.lower() or "headers" in error.lower():
                raise InvalidWebhook(error) from exc
        except UnicodeDecodeError as exc:
            raise InvalidWebhook("body is not UTF-8") from exc
        except ValueError as exc:  # malformed signature header
            raise InvalidWebhook("malformed webhook-signature header") from exc
    raise InvalidWebhook("no matching signature")

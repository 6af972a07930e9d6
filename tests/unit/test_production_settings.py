"""Production refuses unsafe defaults: development tokens and secrets, weak ones, the development mediators and
the development webhook endpoint. Each refusal names what to change; a safe production configuration starts."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from pydantic import ValidationError

from intake.settings import IntakeSettings
from notifications.settings import NotificationsSettings
from scheduling.settings import DEVELOPMENT_PROVIDER_SECRET, SchedulingSettings
from shared import webhooks
from shared.auth import ApiClient
from shared.settings import estimated_bits, secret_weakness

PORTAL = ApiClient(name="Southend portal", la_code="E06000033", scopes=frozenset({"cases:read"}))
DB = "postgresql+asyncpg://db/send"


def strong_clients() -> dict[str, ApiClient]:
    return {secrets.token_urlsafe(32): PORTAL}


def scheduling(**overrides: Any) -> SchedulingSettings:
    fields: dict[str, Any] = {
        "database_url": DB, "environment": "production", "api_clients": strong_clients(),
        "provider_webhook_secrets": [webhooks.generate_secret()], "seed_mediators": False, **overrides}
    return SchedulingSettings(**fields)


def test_a_safe_production_configuration_starts():
    assert scheduling().environment == "production"
    assert IntakeSettings(database_url=DB, environment="production", api_clients=strong_clients())


def test_production_refuses_the_development_api_tokens():
    with pytest.raises(ValidationError, match=r"api_clients\[Southend-on-Sea portal \(development\)\] is still a "
                                              r"development placeholder"):
        IntakeSettings(database_url=DB, environment="production")


@pytest.mark.parametrize(("token", "reason"), [
    ("0123456789abcdef", "shorter than 32 characters"),
    ("a" * 64, "less than 128 bits of entropy"),
    ("abcd" * 16, "less than 128 bits of entropy"),
])
def test_production_refuses_a_short_or_low_entropy_api_token(token, reason):
    with pytest.raises(ValidationError, match=reason):
        IntakeSettings(database_url=DB, environment="production", api_clients={token: PORTAL})


def test_production_refuses_to_seed_the_development_mediators():
    with pytest.raises(ValidationError, match="seed_mediators: the packaged mediators are a development pool"):
        scheduling(seed_mediators=True)


def test_production_refuses_the_development_webhook_endpoint():
    with pytest.raises(ValidationError, match="provider_webhook_url registers a development endpoint"):
        scheduling(provider_webhook_url="http://127.0.0.1:9000/hooks")


@pytest.mark.parametrize(("secret", "reason"), [
    (DEVELOPMENT_PROVIDER_SECRET, "still a development placeholder"),
    ("whsec_" + "QUJD" * 8, "less than 80 bits of entropy"),  # "ABC" repeated: 24 bytes, 3 symbols
    ("whsec_c2hvcnQ=", "shorter than 24 bytes"),
    ("whsec_not base64!", "not a base64 whsec_ key"),
])
def test_production_refuses_a_development_or_weak_webhook_secret(secret, reason):
    with pytest.raises(ValidationError, match=reason):
        scheduling(provider_webhook_secrets=[secret])


def test_production_refuses_a_weak_webhook_secret_of_any_further_provider():
    with pytest.raises(ValidationError, match="webhook secret 0 of provider other-provider"):
        scheduling(other_provider_webhook_secrets={"other-provider": [DEVELOPMENT_PROVIDER_SECRET]})


def test_production_refuses_a_placeholder_smtp_password():
    with pytest.raises(ValidationError, match=r"placeholder secrets in production: smtp_password"):
        NotificationsSettings(database_url=DB, environment="production", api_clients=strong_clients(),
                              smtp_password="dev-only-REPLACE-ME")


def test_every_refusal_is_reported_at_once():
    with pytest.raises(ValidationError) as refused:
        SchedulingSettings(database_url=DB, environment="production")

    message = str(refused.value)
    assert "api_clients" in message and "seed_mediators" in message and "webhook secret 0" in message


def test_development_keeps_its_placeholders():
    settings = SchedulingSettings(database_url=DB, environment="development")

    assert settings.seed_mediators and settings.provider_webhook_secrets == [DEVELOPMENT_PROVIDER_SECRET]


def test_a_generated_token_carries_far_more_than_the_minimum_entropy():
    assert estimated_bits(secrets.token_urlsafe(32)) > 160
    assert secret_weakness(secrets.token_urlsafe(32)) is None
    assert secret_weakness(secrets.token_hex(32)) is None

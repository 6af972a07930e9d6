from __future__ import annotations

import base64

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, secret_weakness

DEVELOPMENT_PROVIDER_SECRET = "whsec_" + base64.b64encode(b"dev-only provider webhook secret").decode()


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/scheduling.sqlite"
    #: The provider that signs with ``provider_webhook_secrets``.
    provider_id: str = "kids-send-mediation"
    #: Secrets the provider may sign inbound webhooks with; more than one during a rotation.
    provider_webhook_secrets: list[str] = Field(default_factory=lambda: [DEVELOPMENT_PROVIDER_SECRET])
    #: Further providers (a deployment serving several LAs): provider id -> its signing secrets.
    other_provider_webhook_secrets: dict[str, list[str]] = Field(default_factory=dict)
    #: Load the development pool of mediators (scheduling/data/mediators.yaml) on start.
    seed_mediators: bool = True
    meeting_timezone: str = "Europe/London"
    #: How often the day-30 watch (R10) looks for cases whose 30 days ran out without a meeting held.
    deadline_watch_interval_seconds: float = 300.0
    #: Outbound webhook retry schedule (seconds after the previous attempt), Standard Webhooks style.
    webhook_retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [0.0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400])
    webhook_retry_jitter: float = 0.1
    webhook_timeout_seconds: float = 10.0
    #: Development only: register this URL as the seeded provider's endpoint on start.
    provider_webhook_url: str | None = None

    @property
    def service_name(self) -> str:
        return "scheduling"

    def webhook_secrets_by_provider(self) -> dict[str, list[str]]:
        """Who may sign inbound webhooks, and with what: the signature tells which provider sent one."""
        return {self.provider_id: self.provider_webhook_secrets, **self.other_provider_webhook_secrets}

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.seed_mediators:
            problems.append("seed_mediators: the packaged mediators are a development pool, not real people "
                            "(set SCHEDULING_SEED_MEDIATORS=false)")
        if self.provider_webhook_url:
            problems.append("provider_webhook_url registers a development endpoint with the development secret: "
                            "register the provider's endpoint through POST /v1/admin/webhook-endpoints")
        for provider_id, secrets in self.webhook_secrets_by_provider().items():
            for i, secret in enumerate(secrets):
                weakness = _webhook_key_weakness(secret)
                if weakness is not None:
                    problems.append(f"webhook secret {i} of provider {provider_id} is {weakness}")
        return problems


#: Standard Webhooks keys are 24 to 64 random bytes; ``shared.webhooks.generate_secret`` makes 32.
MIN_WEBHOOK_KEY_BYTES, MIN_WEBHOOK_KEY_BITS = 24, 80  # 24 random bytes rate about 100 or more


def _webhook_key_weakness(secret: str) -> str | None:
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        return "not a base64 whsec_ key"
    return secret_weakness(key, min_length=MIN_WEBHOOK_KEY_BYTES, min_bits=MIN_WEBHOOK_KEY_BITS)


def get_settings() -> SchedulingSettings:
    return SchedulingSettings()

from __future__ import annotations

import base64

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

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

    def secrets(self) -> dict[str, str]:
        every = [*self.provider_webhook_secrets, *(s for v in self.other_provider_webhook_secrets.values() for s in v)]
        return {
            f"provider_webhook_secrets[{i}]": base64.b64decode(secret.removeprefix("whsec_") + "==").decode("latin-1")
            for i, secret in enumerate(every)
        }


def get_settings() -> SchedulingSettings:
    return SchedulingSettings()

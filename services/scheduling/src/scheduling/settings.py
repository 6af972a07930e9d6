from __future__ import annotations

import base64

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEVELOPMENT_PROVIDER_SECRET = "whsec_" + base64.b64encode(b"dev-only provider webhook secret").decode()


class SchedulingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULING_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/scheduling.sqlite"
    #: Secrets the provider may sign inbound webhooks with; more than one during a rotation.
    provider_webhook_secrets: list[str] = Field(default_factory=lambda: [DEVELOPMENT_PROVIDER_SECRET])
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

    def secrets(self) -> dict[str, str]:
        return {
            f"provider_webhook_secrets[{i}]": base64.b64decode(secret.removeprefix("whsec_") + "==").decode("latin-1")
            for i, secret in enumerate(self.provider_webhook_secrets)
        }


def get_settings() -> SchedulingSettings:
    return SchedulingSettings()

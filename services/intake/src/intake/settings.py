from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/intake.sqlite"

    @property
    def service_name(self) -> str:
        return "intake"


def get_settings() -> IntakeSettings:
    return IntakeSettings()

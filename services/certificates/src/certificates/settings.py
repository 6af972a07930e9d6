from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CertificatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CERTIFICATES_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/certificates.sqlite"
    number_prefix: str = "MC"

    @property
    def service_name(self) -> str:
        return "certificates"


def get_settings() -> CertificatesSettings:
    return CertificatesSettings()

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from certificates.certificate.signing import SigningConfig
from shared.settings import ServiceSettings


class CertificatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CERTIFICATES_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/certificates.sqlite"
    number_prefix: str = "MC"
    #: Where the verification page is reached from outside; printed as a QR code on every certificate.
    public_base_url: str = "http://127.0.0.1:8003"
    #: PEM key and certificate the PDFs are signed with. Outside production they are generated on first run.
    signing_key_path: Path = Path(".run/signing/certificates-key.pem")
    signing_cert_path: Path = Path(".run/signing/certificates-cert.pem")
    signing_key_passphrase: str | None = None
    #: Processes that render and sign the PDFs, off the event loop (``certificate/documents.py``), each with
    #: the key loaded once (about 130 MiB resident each); on PostgreSQL the issuer works on one certificate
    #: more at once. 1 keeps the consumer and the API responsive and leaves a core to the rest on a small
    #: machine; more help where cores are free. 0: in the service's own process, on its loop (before issue 12).
    signing_processes: int = Field(default=1, ge=0, le=32)
    #: Seconds one document may take in a signing process (render and sign: about 40 ms here). A render that
    #: hangs past it has its process killed, the pool replaced, and is the item's failure (tried again, then
    #: parked): it never holds a lane, or the certificates behind it, for ever. Not enforced with 0 processes.
    signing_timeout_seconds: float = Field(default=60.0, gt=0)
    #: Public verification: each client IP may make this many checks in a burst, refilled at this rate per minute.
    verify_burst: int = 10
    verify_per_minute: float = 10.0
    #: Public verification: after this many wrong answers for one number within the window, that number refuses
    #: every check (even a right one) until the window passes. Durable, shared by every replica.
    verify_failures_per_number: int = Field(default=5, ge=1)
    verify_lockout_minutes: float = Field(default=15.0, gt=0)

    @property
    def service_name(self) -> str:
        return "certificates"

    def signing(self) -> SigningConfig:
        return SigningConfig(key_path=self.signing_key_path, cert_path=self.signing_cert_path,
                             key_passphrase=self.signing_key_passphrase,
                             may_generate=self.environment != "production")


def get_settings() -> CertificatesSettings:
    return CertificatesSettings()

from __future__ import annotations

from datetime import time

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///.run/db/notifications.sqlite"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_use_tls: bool = False  # implicit TLS (port 465)
    smtp_starttls: bool = False  # STARTTLS upgrade (port 587)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = 30.0  # each SMTP command
    #: The name this service gives in EHLO; by default the machine's fully qualified name, looked up once (not,
    #: as aiosmtplib would, a DNS lookup on a thread for every connection).
    smtp_local_hostname: str | None = None
    #: The whole of one delivery (connect to the server's last reply): a server that trickles is cut off.
    smtp_send_timeout_seconds: float = 120.0
    #: How long a connection that has just delivered is kept open for the next email (MAIL, RCPT and DATA then,
    #: not a new TCP connection, EHLO and QUIT as well); 0 opens a connection for every email.
    smtp_keepalive_seconds: float = Field(default=15.0, ge=0, le=240)
    #: On shutdown, how long an SMTP send in flight may take to finish so that its outcome is recorded.
    smtp_shutdown_grace_seconds: float = 5.0
    #: SMTP sends in flight at once, each over its own connection (one case's emails still go one at a time).
    #: On SQLite (``make run``'s default database) the sender sends one at a time whatever this says.
    smtp_concurrency: int = Field(default=4, ge=1, le=16)  # each slot holds one of the pool's 20 connections
    from_address: str = "SEND mediation service <no-reply@send-mediation.example>"
    message_id_domain: str = "send-mediation.example"
    max_attempts: int = 8
    #: How long a message may wait for its recipient's contact details before it fails.
    recipient_wait_seconds: float = 3600.0
    #: Meeting reminders go out at this London time, this many working days before the meeting day.
    meeting_reminder_working_days: int = 2
    meeting_reminder_time: time = time(9, 0)
    #: How often the reminder worker looks for reminders that have fallen due.
    reminder_poll_interval_seconds: float = 30.0
    #: Operations staff: deadline breaches and deadlines at risk (and nothing personal about a family).
    ops_email: str = "ops@send-mediation.example"
    #: Deadline at risk: LA officer and ops are warned this many working days before mediate_by (R8/R9).
    deadline_at_risk_working_days: int = 5
    #: Certificate-due and at-risk reminders go out at this London time.
    staff_reminder_time: time = time(9, 0)
    #: Where certificates serves ``GET /v1/verify?number=...``; the certificate email links to it.
    certificates_public_base_url: str = "http://127.0.0.1:8003"

    @property
    def service_name(self) -> str:
        return "notifications"

    def secrets(self) -> dict[str, str]:
        return {"smtp_password": self.smtp_password or ""}


def get_settings() -> NotificationsSettings:
    return NotificationsSettings()

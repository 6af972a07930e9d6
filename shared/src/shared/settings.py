"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import DEVELOPMENT_CLIENTS, ApiClient

DEVELOPMENT_SECRET_MARKER = "dev-only"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 3
    kafka_create_topics: bool = True
    #: Prefix for every topic and consumer group, so several environments (or test runs) share a cluster.
    kafka_namespace: str = ""
    #: Flags that let deploy/ split API and workers into separate processes.
    run_consumer: bool = True
    run_workers: bool = True
    migrate_on_start: bool = True
    outbox_poll_interval_seconds: float = 2.0
    consumer_max_attempts: int = 5
    consumer_retry_backoff_seconds: float = 0.2
    #: Table workers (shared.poison): an item failing (not an outage) this many times is parked for ops.
    poison_max_tries: int = 5
    #: ... tried again after this many seconds, doubling each time (at most five minutes).
    poison_retry_seconds: float = 5.0
    #: A worker whose steps have failed (not an outage) for this long shows as stuck in /readyz and metrics.
    worker_stuck_seconds: float = 300.0
    log_level: str = "INFO"
    public_base_url: str = "http://127.0.0.1"
    #: bearer token -> client; JSON in the environment, e.g.
    #: {"<token>": {"name": "Southend portal", "la_code": "E06000033", "scopes": ["cases:read"]}}
    api_clients: dict[str, ApiClient] = Field(default_factory=lambda: dict(DEVELOPMENT_CLIENTS))
    #: Follow the named scenario clock (shared.scenario_clock) instead of the system clock: development and
    #: staging only, so a council can rehearse a case across its time limits. Production refuses it.
    scenario_clock: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    @property
    def service_name(self) -> str:
        raise NotImplementedError

    def secrets(self) -> dict[str, str]:
        """Secrets to refuse when they still hold a development placeholder."""
        return {}

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment == "production" and self.scenario_clock:
            raise ValueError("a scenario clock cannot run with production settings: statutory dates follow real time")
        if self.environment == "production":
            secrets = {**self.secrets(), **{f"api_clients[{c.name}]": token for token, c in self.api_clients.items()}}
            weak = [name for name, value in secrets.items() if DEVELOPMENT_SECRET_MARKER in value]
            if weak:
                raise ValueError(f"development placeholder secrets in production: {', '.join(weak)}")
        return self

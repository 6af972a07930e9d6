"""Settings every service shares; each service subclasses with its own env prefix."""

from __future__ import annotations

import math
import zlib
from collections import Counter
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth import DEVELOPMENT_CLIENTS, ApiClient

DEVELOPMENT_SECRET_MARKER = "dev-only"
#: Production bearer tokens: e.g. ``secrets.token_urlsafe(32)`` (43 characters, about 256 bits).
MIN_TOKEN_LENGTH, MIN_TOKEN_BITS = 32, 128


def estimated_bits(value: str | bytes) -> float:
    """An upper estimate of the information in ``value``: the lesser of Shannon's (its length times the entropy
    of its symbol counts) and what zlib compresses it to.

    It cannot see that a string was chosen rather than drawn, but it does catch the short, the repeated and the
    patterned ("aaaa...", "abcdabcd...", "password1password1...").
    """
    if not value:
        return 0.0
    counts = Counter(value)
    shannon = -len(value) * sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    raw = value.encode() if isinstance(value, str) else value
    compressed = 8 * (len(zlib.compress(raw, 9)) - len(zlib.compress(b"", 9)))
    return max(0.0, min(shannon, float(compressed)))


def secret_weakness(value: str | bytes, *, min_length: int = MIN_TOKEN_LENGTH,
                    min_bits: float = MIN_TOKEN_BITS) -> str | None:
    """Why ``value`` is no production secret, or None. ``min_length`` counts characters, or bytes for a key."""
    marker = DEVELOPMENT_SECRET_MARKER if isinstance(value, str) else DEVELOPMENT_SECRET_MARKER.encode()
    if marker in value:  # type: ignore[operator]
        return "still a development placeholder"
    if len(value) < min_length:
        return f"shorter than {min_length} {'characters' if isinstance(value, str) else 'bytes'}"
    if estimated_bits(value) < min_bits:
        return f"less than {min_bits:.0f} bits of entropy (repeated or patterned)"
    return None


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
    #: A TLS-terminating proxy is in front even when it does not say so (no trusted X-Forwarded-Proto):
    #: send Strict-Transport-Security on every response, not only on requests that came over https.
    behind_tls: bool = False
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
        """Secrets chosen elsewhere (e.g. an SMTP password): refused only while they hold a development placeholder."""
        return {}

    def production_problems(self) -> list[str]:
        """What production refuses to start with; a service adds its own (``super()`` first)."""
        problems: list[str] = []
        if self.scenario_clock:
            problems.append("a scenario clock cannot run with production settings: statutory dates follow real time")
        placeholders = [name for name, value in self.secrets().items() if DEVELOPMENT_SECRET_MARKER in value]
        if placeholders:
            problems.append(f"development placeholder secrets in production: {', '.join(placeholders)}")
        for token, client in self.api_clients.items():  # tokens are ours to generate: real strength
            weakness = secret_weakness(token)
            if weakness is not None:
                problems.append(f"the API token of api_clients[{client.name}] is {weakness}")
        return problems

    @model_validator(mode="after")
    def _refuse_unsafe_production_settings(self) -> ServiceSettings:
        if self.environment == "production":
            problems = self.production_problems()
            if problems:
                raise ValueError("; ".join(problems))
        return self

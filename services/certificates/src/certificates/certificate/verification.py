"""Public verification: the second factor and the per-IP rate limit.

The rate limit is an in-memory token bucket per client IP: simple, and enough
to make enumerating numbers slow. It is per process, so N replicas allow N
times the rate; behind a proxy run uvicorn with ``--proxy-headers`` (and
``--forwarded-allow-ips``) so the client IP is the caller's, not the proxy's.
"""

from __future__ import annotations

import hmac
import time
import unicodedata
from dataclasses import dataclass, field


def _tokens(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name).casefold()
    letters = "".join(ch if ch.isalnum() else " " for ch in folded
                      if not unicodedata.combining(ch) and ch not in "'\u2019")  # O'Brien = OBrien
    return letters.split()


def surname_matches(full_name: str, surname: str) -> bool:
    """True when ``surname`` is the last word(s) of ``full_name``, ignoring case, accents, hyphens and apostrophes.

    "van der Berg" matches "Alex van der Berg"; a first name alone does not match "Alex Example".
    """
    name, given = _tokens(full_name), _tokens(surname)
    if not given or len(given) > len(name):
        hmac.compare_digest(b"-", b"+")  # about the same work either way
        return False
    return hmac.compare_digest(" ".join(name[-len(given):]).encode(), " ".join(given).encode())


@dataclass
class TokenBucket:
    """``burst`` requests at once per key, refilled at ``per_minute``."""

    burst: int
    per_minute: float
    max_keys: int = 100_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str, *, now: float | None = None) -> float:
        """0 when allowed; otherwise the seconds until the next request would be."""
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * rate)
        if tokens >= 1.0:
            self._remember(key, (tokens - 1.0, now))
            return 0.0
        self._remember(key, (tokens, now))
        return (1.0 - tokens) / rate if rate > 0 else 3600.0

    def _remember(self, key: str, value: tuple[float, float]) -> None:
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._buckets.clear()  # bounded memory; a flood of addresses resets everyone's burst
        self._buckets[key] = value

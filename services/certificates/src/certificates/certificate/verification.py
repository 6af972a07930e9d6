"""Public verification: the verification code, the surname, and the limits on trying.

Numbers are sequential with a public check digit, so a number is no secret. Each certificate carries an
unguessable verification code (15 symbols of Crockford base32 from ``secrets``: 75 bits), printed on it and in
its QR code, and verification needs the number, that code and the surname. Two limits make guessing slow:

- per client IP, an in-memory token bucket (per process: N replicas allow N times the rate). The client IP is
  the TCP peer unless uvicorn trusts a proxy's ``X-Forwarded-For`` (``--proxy-headers`` with
  ``--forwarded-allow-ips`` listing that proxy; see docs/configuration.md), so a caller cannot pick its own;
- per certificate number, durable in the database and shared by every replica (``VerificationAttempt``):
  after ``verify_failures_per_number`` wrong answers within ``verify_lockout_minutes`` (the project clock) the
  number refuses every check, even a right one, until the window passes. Unknown numbers are counted alike,
  so a refusal says nothing about whether a certificate exists.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field

#: Crockford's base32: no I, L, O or U, so nothing is misread; 5 bits a symbol.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 5
CODE_BITS = CODE_GROUPS * CODE_GROUP_LENGTH * 5
#: What a reader may mistype for a symbol of the alphabet (Crockford's decoding).
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_verification_code() -> str:
    """A fresh code such as ``7Q2KD-M9XHE-4TRWB``: 75 bits from ``secrets``, in groups a person can type."""
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(symbols[i:i + CODE_GROUP_LENGTH] for i in range(0, len(symbols), CODE_GROUP_LENGTH))


def normalise_code(code: str) -> str:
    """As typed (any case, spaces or hyphens, O for 0, I or L for 1) to the bare symbols."""
    return re.sub(r"[\s-]", "", code).upper().translate(_READ_AS)


def code_matches(stored: str | None, given: str) -> bool:
    """Constant time; a certificate without a code matches nothing."""
    expected = normalise_code(stored) if stored else "\0"
    return hmac.compare_digest(expected.encode(), normalise_code(given).encode())


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

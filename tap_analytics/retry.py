"""The retry policy: which failures are retried, how long to wait, and when to give up.

Replaces the SDK's `backoff` decorator because the seeds need things it cannot express
together: per-endpoint status lists, a constant wait (seed 004: 62 s), and `Retry-After`
(RFC 9110 §10.2.3, seconds or an HTTP-date) taking precedence over the computed wait.
The waits are pure functions of the attempt and the response, so tests check them
without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

DEFAULT_RETRY_STATUSES: tuple[int, ...] = (429, 500, 502, 503, 504)

#: A Retry-After longer than this is not waited out: the run fails with a clear error
#: rather than hanging silently for hours.
MAX_RETRY_AFTER_SECONDS = 900.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """dlt's `error_handler`, plus the backoff shape."""

    retry_on_status_codes: frozenset[int] = field(
        default_factory=lambda: frozenset(DEFAULT_RETRY_STATUSES)
    )
    max_retries: int = 3
    backoff_factor: float = 2.0
    backoff: Literal["exponential", "constant"] = "exponential"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        """Build from an `error_handler` mapping (already validated)."""
        default = cls()
        codes = config.get("retry_on_status_codes")
        return cls(
            retry_on_status_codes=(
                frozenset(int(c) for c in codes)
                if codes is not None
                else default.retry_on_status_codes
            ),
            max_retries=int(config.get("max_retries", default.max_retries)),
            backoff_factor=float(config.get("backoff_factor", default.backoff_factor)),
            backoff=config.get("backoff", default.backoff),
        )

    def retries_status(self, status: int) -> bool:
        return status in self.retry_on_status_codes

    def computed_wait(self, retry_number: int) -> float:
        """Wait before retry `retry_number` (1-based): factor·2^(n-1), or factor."""
        if self.backoff == "constant":
            return self.backoff_factor
        return float(self.backoff_factor * 2 ** (retry_number - 1))

    def connection_wait(self, retry_number: int) -> float:
        """Wait before retry `retry_number` after a failure to connect: always exponential
        (a constant backoff is for an API's own throttling), from at most 2 s."""
        base = self.backoff_factor if self.backoff == "exponential" else min(self.backoff_factor, 2.0)
        return float(base * 2 ** (retry_number - 1))

    def wait(self, retry_number: int, retry_after: str | None = None) -> float:
        """The wait before retry `retry_number`; a valid Retry-After wins."""
        server_wait = parse_retry_after(retry_after)
        if server_wait is not None:
            return server_wait
        return self.computed_wait(retry_number)


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a Retry-After header value, or None if absent or invalid.

    Accepts delay-seconds and HTTP-date (RFC 9110 §10.2.3); a date in the past means 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now() if now else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


#: Indirections so tests can observe waits without sleeping (patch both together).
sleep: Callable[[float], None] = time.sleep
clock: Callable[[], float] = time.monotonic

#: Statuses that mean "the API is rate limiting": the wait applies to the whole run.
THROTTLE_STATUSES = frozenset({420, 429})

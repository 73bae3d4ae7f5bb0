"""One rate-limit budget per tap run, shared by every stream and worker.

A 429/420 tells us the *API* is overloaded, not one worker: so the wait it asks for
pauses every request of the run, and the number of requests allowed in flight halves
(additive increase, multiplicative decrease, as TCP does), growing back by one after a
run of successes. `max_requests_per_second` spaces requests out before the API has
to complain at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tap_analytics import retry

#: Successes needed before one more concurrent request is allowed again.
RECOVERY_SUCCESSES = 20


class RateGate:
    """Admits requests within the shared budget; thread-safe."""

    def __init__(self, max_concurrency: int = 8, max_requests_per_second: float | None = None) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.limit = self.max_concurrency
        self.interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self._active = 0
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._successes = 0
        self._cond = threading.Condition()
        self.throttled = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one request slot for the duration of a request."""
        self._acquire()
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def _acquire(self) -> None:
        while True:
            with self._cond:
                now = retry.clock()
                if self._active >= self.limit:
                    self._cond.wait(0.05)
                    continue
                start = max(self._paused_until, self._next_slot)
                if start <= now:
                    self._active += 1
                    self._next_slot = max(now, self._next_slot) + self.interval
                    return
                delay = start - now
            retry.sleep(delay)

    def throttle(self, wait: float) -> None:
        """The API said slow down: pause everyone for `wait` s and halve concurrency."""
        with self._cond:
            self.throttled += 1
            self._paused_until = max(self._paused_until, retry.clock() + wait)
            self.limit = max(1, self.limit // 2)
            self._successes = 0

    def success(self) -> None:
        with self._cond:
            if self.limit >= self.max_concurrency:
                return
            self._successes += 1
            if self._successes >= RECOVERY_SUCCESSES:
                self._successes = 0
                self.limit += 1
                self._cond.notify_all()

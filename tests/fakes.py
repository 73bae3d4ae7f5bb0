"""Test doubles shared by every suite."""

from __future__ import annotations

import threading


class FakeClock:
    """Stands in for `retry.clock`/`retry.sleep` (or any injected clock): sleeping
    advances the clock and is recorded, so backoffs are checked without waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    __call__ = clock

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(seconds, 0.0)

    @property
    def slept(self) -> float:
        return sum(self.sleeps)

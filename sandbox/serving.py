"""What happens to every data request on its way: counting, latency and faults.

Faults come from an explicit queue (:meth:`inject`) or a seeded RNG (``fail_rate``), so a
test can script "503, then a dropped connection, then success" and a benchmark can ask for
reproducible random failures. Shared by the seed APIs and the forum.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from http import HTTPStatus

from .transport import _BadRequest, _html, _json, _Response

DEFAULT_FAIL_STATUSES: tuple[int | str, ...] = (429, 420, 500, 502, 503, 504)
#: Fault kinds other than a bare HTTP status code.
FAULT_KINDS = frozenset({"drop", "slow", "html200", "truncated", "no_data", "null_data"})

Fault = int | str


def _check_fault(fault: Fault) -> Fault:
    if isinstance(fault, bool) or not (
        (isinstance(fault, int) and 100 <= fault <= 599) or (isinstance(fault, str) and fault in FAULT_KINDS)
    ):
        raise ValueError(f"unknown fault {fault!r}: use an HTTP status or one of {sorted(FAULT_KINDS)}")
    return fault


class ServingMixin:
    """Fault queue, random faults, latency and per-resource counters of :class:`SandboxServer`."""

    _lock: threading.RLock
    _injected: list[tuple[str, deque[Fault]]]
    _fault_rng: random.Random
    _data_counts: dict[str, int]
    _in_progress: int
    _peak_in_progress: int
    fail_rate: float
    fail_statuses: list[Fault]
    latency_ms: float
    retry_after: str | float
    retry_after_date: bool
    slow_seconds: float

    @contextlib.contextmanager
    def _counted(self, key: str) -> Iterator[None]:
        """Count one data request of resource ``key`` and track how many run at once."""
        with self._lock:
            self._data_counts[key] = self._data_counts.get(key, 0) + 1
            self._in_progress += 1
            self._peak_in_progress = max(self._peak_in_progress, self._in_progress)
        try:
            yield
        finally:
            with self._lock:
                self._in_progress -= 1

    def _serve_faulted(self, path: str, produce: Callable[[], _Response]) -> _Response:
        """Latency, then the next fault for ``path`` or ``produce()`` (a _BadRequest is a 400)."""
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        fault = self._next_fault(path, data=True)
        early = self._apply_fault(fault)
        if early is not None:
            return early
        try:
            resp = produce()
        except _BadRequest as exc:
            return _json(400, {"error": "invalid_request", "error_description": str(exc)})
        if fault == "truncated":
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        return resp

    def inject(self, path_substring: str, faults: Iterable[Fault]) -> None:
        """Queue faults for the next requests whose path contains ``path_substring``.

        Each matching request consumes one fault, in order. Faults are HTTP
        statuses or kinds: drop, slow, html200, truncated, no_data, null_data.
        """
        queue = deque(_check_fault(f) for f in faults)
        with self._lock:
            if queue:
                self._injected.append((path_substring, queue))

    def clear_faults(self) -> None:
        with self._lock:
            self._injected.clear()

    def _next_fault(self, path: str, data: bool) -> Fault | None:
        with self._lock:
            for i, (sub, queue) in enumerate(self._injected):
                if sub in path:
                    fault = queue.popleft()
                    if not queue:
                        del self._injected[i]
                    return fault
            if (
                data
                and self.fail_rate > 0
                and self.fail_statuses
                and self._fault_rng.random() < self.fail_rate
            ):
                return self._fault_rng.choice(self.fail_statuses)
        return None

    def _retry_after(self) -> str:
        if self.retry_after_date:
            return formatdate(time.time() + float(self.retry_after), usegmt=True)
        return str(self.retry_after)

    def _status_fault(self, status: int) -> _Response:
        if status in (502, 504):
            return _html(status, f"{status} {HTTPStatus(status).phrase}")
        headers: list[tuple[str, str]] = []
        if status in (429, 420, 503):
            headers.append(("Retry-After", self._retry_after()))
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="sandbox", error="invalid_token"'))
        code = {429: "rate_limited", 420: "rate_limited", 503: "service_unavailable", 500: "internal_error"}
        return _json(status, {"error": code.get(status, "injected_fault"), "status": status}, headers)

    def _apply_fault(self, fault: Fault | None) -> _Response | None:
        """Response for a fault, or None when the request should proceed ("slow" sleeps first)."""
        if fault is None:
            return None
        if isinstance(fault, int):
            return self._status_fault(fault)
        if fault == "drop":
            return _Response(0, drop=True)
        if fault == "slow":
            time.sleep(self.slow_seconds)
            return None
        if fault == "html200":
            return _html(200, "Service temporarily unavailable")
        if fault == "no_data":
            return _json(200, {"items": []})
        if fault == "null_data":
            return _json(200, {"data": None})
        return None  # "truncated" is applied to the real body by the caller

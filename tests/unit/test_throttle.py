"""The run-wide rate gate, on fake time: pauses, AIMD concurrency, request spacing."""

from __future__ import annotations

from tap_analytics.throttle import RECOVERY_SUCCESSES, RateGate

from .conftest import FakeTime


def take(gate: RateGate, count: int = 1) -> None:
    for _ in range(count):
        with gate.slot():
            pass


def test_free_gate_never_waits(fake_time: FakeTime) -> None:
    take(RateGate(max_concurrency=4), 10)
    assert fake_time.sleeps == []


def test_throttle_pauses_the_next_request_and_halves_concurrency(fake_time: FakeTime) -> None:
    gate = RateGate(max_concurrency=8)
    gate.throttle(30)
    assert gate.limit == 4
    assert gate.throttled == 1
    take(gate)
    assert sum(fake_time.sleeps) == 30
    take(gate)
    assert sum(fake_time.sleeps) == 30, "the pause is over"


def test_concurrency_never_drops_below_one(fake_time: FakeTime) -> None:
    gate = RateGate(max_concurrency=3)
    for _ in range(5):
        gate.throttle(0)
    assert gate.limit == 1


def test_concurrency_recovers_one_step_per_run_of_successes(fake_time: FakeTime) -> None:
    gate = RateGate(max_concurrency=8)
    gate.throttle(0)
    assert gate.limit == 4
    for _ in range(RECOVERY_SUCCESSES - 1):
        gate.success()
    assert gate.limit == 4
    gate.success()
    assert gate.limit == 5
    for _ in range(RECOVERY_SUCCESSES * 10):
        gate.success()
    assert gate.limit == 8, "never above the configured maximum"


def test_max_requests_per_second_spaces_requests(fake_time: FakeTime) -> None:
    gate = RateGate(max_concurrency=8, max_requests_per_second=2)
    take(gate, 3)
    assert fake_time.sleeps == [0.5, 0.5]

"""Fan-out: concurrent child walks, handed out in parent order, bounded, failures in order."""

from __future__ import annotations

import threading

import pytest

from tap_analytics.fanout import fan_out


def test_results_come_in_parent_order_whatever_finishes_first() -> None:
    release = {i: threading.Event() for i in range(6)}

    def fetch(parent: int) -> list[str]:
        # Later parents finish first: each waits for the one after it (the last waits for none).
        if parent < 5:
            assert release[parent + 1].wait(5)
        release[parent].set()
        return [f"{parent}-a", f"{parent}-b"]

    out = list(fan_out(range(6), fetch, window=6))
    assert [p for p, _ in out] == list(range(6))
    assert out[2] == (2, ["2-a", "2-b"])


def test_at_most_window_walks_run_at_once() -> None:
    lock = threading.Lock()
    running = peak = 0
    gate = threading.Barrier(3, timeout=5)

    def fetch(parent: int) -> list[int]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if parent < 3:
            gate.wait()  # the first three are in flight together: the window is used
        with lock:
            running -= 1
        return [parent]

    assert [c for _, (c,) in fan_out(range(12), fetch, window=3)] == list(range(12))
    assert peak == 3


def test_a_failure_comes_at_its_parents_turn() -> None:
    def fetch(parent: int) -> list[int]:
        if parent == 2:
            raise ValueError("parent 2 failed")
        return [parent]

    seen: list[int] = []

    def consume() -> None:
        for parent, _ in fan_out(range(5), fetch, window=4):
            seen.append(parent)

    with pytest.raises(ValueError, match="parent 2"):
        consume()
    assert seen == [0, 1]


def test_sequential_without_a_window() -> None:
    calls: list[int] = []

    def fetch(parent: int) -> list[int]:
        calls.append(parent)
        return [parent * 10]

    assert list(fan_out([1, 2], fetch, window=1)) == [(1, [10]), (2, [20])]
    assert calls == [1, 2]

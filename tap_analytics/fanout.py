"""Fan-out: one child request walk per parent record, many at once, handed out in parent order.

Children of different parents are independent, so their walks run concurrently (at most
`window` at a time, each holding its records in memory until its turn); the caller
receives them strictly in the order of the parents, so the output -- and every STATE
written between -- is the same as a sequential run's. A failure is raised when its
parent's turn comes, after every earlier parent's children were handed out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Parent = TypeVar("Parent")
Child = TypeVar("Child")


def fan_out(
    parents: Iterable[Parent],
    fetch: Callable[[Parent], list[Child]],
    *,
    window: int,
    name: str = "fan-out",
) -> Iterator[tuple[Parent, list[Child]]]:
    """`(parent, fetch(parent))` for every parent, in order; up to `window` fetched ahead."""
    if window <= 1:
        for parent in parents:
            yield parent, fetch(parent)
        return
    pending: deque[tuple[Parent, Future[list[Child]]]] = deque()
    source = iter(parents)
    with ThreadPoolExecutor(window, name) as pool:
        try:
            for parent in source:
                pending.append((parent, pool.submit(fetch, parent)))
                if len(pending) >= window:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()

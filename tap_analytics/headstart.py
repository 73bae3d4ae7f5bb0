"""Head starts: the first page of each stream still to come, requested while the current
stream is on its last pages, so a run of many streams waits one round trip per stream less.

A stream's walk leaves request slots idle at its end: its last pages (the total says
they are all in flight) or the end of the walk itself. The walk offers those slots
(`HeadStarts.offer`) to the first pages of the next streams in sync order. When such a
stream's turn comes, its walk takes the response (`take`) only if it asks for exactly that
request and the response is fresh (`MAX_AGE_SECONDS`: a first page much older than the
second would widen the window in which offset paging can miss a shifted record); otherwise
the head start is dropped and the page fetched anew. Nothing is emitted early: records and
STATE still come one stream after another, as in a run without head starts, and every
request still passes the run's one rate gate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

import requests

from tap_analytics import retry

#: A head start older than this when its stream begins is fetched again.
MAX_AGE_SECONDS = 30.0

logger = logging.getLogger("tap-analytics")


@dataclass(frozen=True)
class FirstRequest:
    """The request a stream's walk will send first, and how to send it now."""

    key: Hashable
    send: Callable[[], requests.Response]


class Upcoming(Protocol):
    """A stream still to come in this run."""

    name: str

    def first_request(self) -> FirstRequest | None:
        """Its first request, known in advance; None when it cannot be (or must not be
        sent before the stream's turn)."""


@dataclass
class _Started:
    key: Hashable
    at: float
    future: Future[requests.Response]


class HeadStarts:
    """The run's head starts: at most one per stream, each on its own thread (the rate
    gate, not a pool, bounds what is in flight), taken once."""

    def __init__(self, max_age: float | None = None) -> None:
        self.max_age = MAX_AGE_SECONDS if max_age is None else max_age
        self._offered: set[str] = set()
        self._started: dict[str, _Started] = {}

    def offer(self, upcoming: Iterable[Upcoming], free: int) -> None:
        """Start the first pages of the next streams not offered before, while fewer than
        `free` head starts are still in flight."""
        pending = sum(1 for s in self._started.values() if not s.future.done())
        for stream in upcoming:
            if pending >= free:
                return
            if stream.name in self._offered:
                continue
            self._offered.add(stream.name)
            first = stream.first_request()
            if first is None:
                continue
            self._started[stream.name] = _Started(first.key, retry.clock(), _run(stream.name, first.send))
            pending += 1

    def take(self, name: str, key: Hashable) -> Future[requests.Response] | None:
        """The head start of stream `name` if it is the request `key` and still fresh."""
        started = self._started.pop(name, None)
        if started is None:
            return None
        age = retry.clock() - started.at
        if started.key == key and age <= self.max_age:
            return started.future
        started.future.cancel()
        logger.info(
            "%s: head start dropped (%s); fetching its first page again",
            name, "another request" if started.key != key else f"{age:.0f} s old",
        )
        return None


def _run(name: str, send: Callable[[], requests.Response]) -> Future[requests.Response]:
    """`send` on a thread of its own. Not a daemon: a run that fails before the stream's turn
    still waits for the request in flight (as for its page workers), since its response may
    rotate a refresh token the token cache must keep."""
    future: Future[requests.Response] = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(send())
        except BaseException as exc:  # handed to the stream that takes it, as its own send would raise
            future.set_exception(exc)

    threading.Thread(target=work, name=f"{name}-head-start").start()
    return future

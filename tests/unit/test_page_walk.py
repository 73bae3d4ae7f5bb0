"""The page loop (`PageWalk`) against a fake stream: the order requests go out in, where a
404 ends the walk, response actions, the detection log line."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import pytest
import requests

from tap_analytics.config import PaginatorSpec
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.fetch import PageWalk, ParsedPage
from tap_analytics.paging import OffsetPaginator, PageRequest, Paginator
from tap_analytics.selectors import select_records
from tap_analytics.throttle import RateGate

URL = "https://api.example.com/things"
#: A fail-safe only: nothing waits this long unless the code under test is wrong.
DEADLINE_SECONDS = 20.0

Answer = Callable[[dict[str, Any]], tuple[int, Any]]


class FakeSource:
    """A stream whose server is `answer(params) -> (status, body)`; sends go through a
    real rate gate sized like the walk's window, as the stream's do."""

    name = "things"

    def __init__(self, answer: Answer, *, window: int = 1, ignore: int | None = None) -> None:
        self.answer = answer
        self.gate = RateGate(max_concurrency=window)
        self.ignore = ignore
        self.sent: list[dict[str, Any]] = []
        self.logger = logging.getLogger("test.page_walk")
        self._lock = threading.Lock()

    def send(self, params: Mapping[str, Any] | PageRequest) -> requests.Response:
        query = dict(params.params if isinstance(params, PageRequest) else params)
        with self.gate.slot():
            with self._lock:
                self.sent.append(query)
            status, body = self.answer(query)
        made = requests.Response()
        made.status_code, made._content, made.url = status, json.dumps(body).encode(), URL
        return made

    def parse_page(self, response: requests.Response) -> ParsedPage:
        body = response.json()
        return ParsedPage(select_records(body, "data", "test"), None, body, response.headers, URL)

    def page_keys(self, records: list[dict[str, Any]]) -> list[Hashable] | None:
        return [r["id"] for r in records]

    def response_action(self, response: requests.Response) -> int | None:
        return 0 if response.status_code == self.ignore else None

    def http_error(self, response: requests.Response) -> TapAnalyticsError:
        return TapAnalyticsError(f"stream things: HTTP {response.status_code}; check endpoint.path")


def walk(source: FakeSource, paginator: Paginator, window: int = 1) -> PageWalk:
    return PageWalk(source, paginator, {}, window=window, speculative=False, max_pages=1000,
                    before_page=lambda _: None)


def offset_answer(n: int, *, total: bool = True, past_end: int | None = None) -> Answer:
    def answer(query: dict[str, Any]) -> tuple[int, Any]:
        offset, limit = int(query["offset"]), int(query["limit"])
        if past_end is not None and offset >= n:
            return past_end, {"detail": "Invalid page."}
        body: dict[str, Any] = {"data": [{"id": i} for i in range(offset, min(n, offset + limit))]}
        if total:
            body["total"] = n
        return 200, body

    return answer


def test_the_page_needed_now_is_requested_before_the_guesses() -> None:
    """Page 2 is needed while pages 3.. are guessed: it must not wait behind them for a
    request slot (it used to be sent last, from the main thread, and wait for a slot
    that every guess held)."""
    window = 4
    release = threading.Event()
    order: list[str] = []

    def answer(query: dict[str, Any]) -> tuple[int, Any]:
        offset = int(query["offset"])
        if offset >= 20:  # a guess: held until page 2 is through
            release.wait(DEADLINE_SECONDS)
            order.append(f"guess {offset}")
        return offset_answer(100)(query)

    source = FakeSource(answer, window=window)
    pages = iter(walk(source, OffsetPaginator(limit=10), window))
    try:
        assert [r["id"] for r in next(pages).records][:1] == [0]
        second = next(pages)
        order.append("page 2")
        assert [r["id"] for r in second.records][:1] == [10]
    finally:
        release.set()
    assert order[0] == "page 2", order
    assert sum(1 for _ in pages) == 8


@pytest.mark.parametrize("status", [404, 400])
def test_a_missing_page_after_a_short_page_ends_the_walk(status: int) -> None:
    """A server whose last page is short and which answers past it with 404/400, on a
    walk without a total (the first short page is not trusted: servers cap sizes)."""
    source = FakeSource(offset_answer(7, total=False, past_end=status))
    pages = list(walk(source, OffsetPaginator(limit=10)))
    assert [r["id"] for page in pages for r in page.records] == list(range(7))
    assert [q["offset"] for q in source.sent] == [0, 7]


def test_a_missing_page_before_the_data_visibly_ended_is_an_error() -> None:
    source = FakeSource(offset_answer(20, total=False, past_end=404))
    with pytest.raises(TapAnalyticsError) as caught:
        list(walk(source, OffsetPaginator(limit=10)))
    message = str(caught.value)
    assert "HTTP 404 at offset=20" in message
    assert "response_actions" in message
    assert "\n" not in message


def test_a_missing_first_page_is_the_streams_http_error() -> None:
    source = FakeSource(lambda _: (404, {"detail": "Not found."}))
    with pytest.raises(TapAnalyticsError, match=r"endpoint\.path"):
        list(walk(source, OffsetPaginator(limit=10)))


def test_an_ignored_response_ends_the_walk_without_its_records(caplog: pytest.LogCaptureFixture) -> None:
    def answer(query: dict[str, Any]) -> tuple[int, Any]:
        return (503, {"data": [{"id": 99}]}) if int(query["offset"]) >= 10 else offset_answer(30)(query)

    source = FakeSource(answer, ignore=503)
    with caplog.at_level(logging.INFO, "test.page_walk"):
        pages = list(walk(source, OffsetPaginator(limit=10)))
    assert [r["id"] for page in pages for r in page.records] == list(range(10))
    assert any("ignoring the response" in m and "HTTP 503" in m for m in caplog.messages)


def test_a_detected_paginator_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def answer(query: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"data": [{"id": 1}], "next": None}

    source = FakeSource(answer)
    with caplog.at_level(logging.INFO, "test.page_walk"):
        list(walk(source, PaginatorSpec("auto").new()))
    lines = [m for m in caplog.messages if "paginator detected" in m]
    assert lines == [
        "things: one page: the first response shows no paging "
        "(paginator detected: set endpoint.paginator to choose)"
    ]


def test_a_page_stays_requested_ahead_even_when_pages_come_faster_than_records() -> None:
    """An instant server: every page is ready before it is needed, so the look-ahead
    shrinks -- to one page, never to none. The next request stays with a worker while the
    main thread turns a page into records (the server works meanwhile); at none, every
    page would be requested from the main thread and waited for."""
    threads: list[str] = []
    answer = offset_answer(600)

    def recording(query: dict[str, Any]) -> tuple[int, Any]:
        threads.append(threading.current_thread().name)
        return answer(query)

    window = 4
    source = FakeSource(recording, window=window)
    pages = []
    for page in walk(source, OffsetPaginator(limit=10), window):
        time.sleep(0.005)  # records take longer than a page: pages arrive before they are needed
        pages.append(page)

    assert len(pages) == 60
    # The first page (no total yet) comes from the main thread; every later one from a worker.
    on_main = [i for i, name in enumerate(threads) if name == threading.main_thread().name]
    assert on_main == [0], f"pages requested from the main thread: {on_main}"

"""The page loop: which page to fetch next, fetched ahead concurrently, handed out in order.

`PageWalk` drives one stream's paginator over the API and yields each page once, in
server order, with its records parsed; it is the one place that knows about requests in
flight. Around it the stream writes checkpoints, drops records it already emitted
(`RecentKeys`) and moves the bookmark.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import requests

from tap_analytics.config import ResourceSpec
from tap_analytics.config.responses import matching_action
from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.paging import Page, PageRequest, Paginator, PagingError
from tap_analytics.paging.http import RequestPlan, decode_json
from tap_analytics.selectors import find_records_path, read_total, select_records

#: A page with this many times more records than asked for (and over the floor) is
#: refused: the server ignores the page size, and the next page could exhaust memory.
OVERSIZED_PAGE_FACTOR = 10
OVERSIZED_PAGE_FLOOR = 50

#: Pages that arrive before they are needed, in a row, before the look-ahead shrinks.
ADAPT_AFTER_EARLY_PAGES = 3

#: How often a long sync reports progress.
PROGRESS_INTERVAL_SECONDS = 5.0


class PageSource(Protocol):
    """What the walk needs of a stream: one request, and one response read."""

    name: str

    @property
    def logger(self) -> logging.Logger: ...

    def send(self, params: Mapping[str, Any] | PageRequest) -> requests.Response: ...

    def parse_page(self, response: requests.Response) -> ParsedPage: ...

    def page_keys(self, records: list[dict[str, Any]]) -> list[Hashable] | None: ...

    def response_action(self, response: requests.Response) -> int | None: ...

    def http_error(self, response: requests.Response) -> TapAnalyticsError: ...


class PlanSender(PageSource, Protocol):
    """A stream able to send a page on another request plan than its own."""

    def send(
        self, params: Mapping[str, Any] | PageRequest, plan: RequestPlan | None = None
    ) -> requests.Response: ...


class PlannedSource:
    """The stream as the page source of one walk whose requests follow `plan` (a backfill
    window's, a parent's children's): the stream's one HTTP policy, another URL, headers
    and body."""

    def __init__(self, stream: PlanSender, plan: RequestPlan) -> None:
        self.stream = stream
        self.plan = plan
        self.name = stream.name

    @property
    def logger(self) -> logging.Logger:
        return self.stream.logger

    def send(self, params: Mapping[str, Any] | PageRequest) -> requests.Response:
        return self.stream.send(params, self.plan)

    def parse_page(self, response: requests.Response) -> ParsedPage:
        return self.stream.parse_page(response)

    def page_keys(self, records: list[dict[str, Any]]) -> list[Hashable] | None:
        return self.stream.page_keys(records)

    def response_action(self, response: requests.Response) -> int | None:
        return self.stream.response_action(response)

    def http_error(self, response: requests.Response) -> TapAnalyticsError:
        return self.stream.http_error(response)


def no_checkpoint(params: Mapping[str, Any]) -> None:
    """The `before_page` of a walk that writes no checkpoint of its own: a child's (its
    parent's page checkpoint covers it) or a concurrent window's (checkpointed whole)."""


class ParsedPage(tuple[list[dict[str, Any]], int | None]):
    """One response read: `(records, total)` -- what `parse_page` has always returned --
    with the parts paginators decide by (`body`, `headers`, `url`) as attributes."""

    body: Any
    headers: Mapping[str, str]
    url: str

    def __new__(
        cls, records: list[dict[str, Any]], total: int | None, body: Any,
        headers: Mapping[str, str], url: str,
    ) -> ParsedPage:
        made = super().__new__(cls, (records, total))
        made.body, made.headers, made.url = body, headers, url
        return made

    @property
    def records(self) -> list[dict[str, Any]]:
        return self[0]


class PageReader:
    """Reads one stream's responses: the records at its `data_selector` (found in the
    first body, by dlt's rules, when it is not set) and which response action applies."""

    def __init__(self, name: str, spec: ResourceSpec, logger: logging.Logger) -> None:
        self.name = name
        self.method = spec.method
        self.actions = spec.response_actions
        self.logger = logger
        self.selector = spec.data_selector
        self.total_path = spec.paginator.total_path

    def parse(self, response: requests.Response, default_url: str) -> ParsedPage:
        """The records (none when a response action ignores the response), the total at
        the configured `total_path`, and the parts a paginator reads."""
        url = response.url or default_url
        if self.action(response) is not None:
            return ParsedPage([], None, None, response.headers, url)
        where = f"stream {self.name}: {self.method} {redact_url(url)} (HTTP {response.status_code})"
        body = decode_json(response, where)
        records = select_records(body, self.selector or self._find(body), where)
        return ParsedPage(records, read_total(body, self.total_path), body, response.headers, url)

    def _find(self, body: Any) -> str:
        self.selector = found = find_records_path(body)
        where = (
            f"records at `{found}` in the body" if found != "$"
            else "the body is the list of records" if isinstance(body, list)
            else "the body is one record"
        )
        self.logger.info(
            "%s: %s (data_selector detected: set endpoint.data_selector to choose)", self.name, where
        )
        return found

    def action(self, response: requests.Response) -> int | None:
        """The index of the `response_actions` entry that ignores `response`, or None."""
        if not self.actions:
            return None
        return matching_action(self.actions, response.status_code, lambda: response.text)


@dataclass(frozen=True)
class FetchedPage:
    """One page, parsed: its records, their primary keys (None without a key)."""

    records: list[dict[str, Any]]
    keys: list[Hashable] | None
    where: str


#: Statuses that may mean "no such page" past the end of the data (DRF answers 404,
#: some servers 400 "invalid page"): handed back to the walk, which decides.
END_OF_DATA_STATUSES = frozenset({400, 404})


class PageWalk:
    """Walks a paginator to the end, one page at a time, fetching ahead when it can.

    `before_page` runs before each page is requested, after the records of the one
    before it were handed out: the stream writes its checkpoint there. `on_idle(n)` is
    told when `n` request slots will stay idle: the last pages are all in flight, or the
    walk is over (see `headstart`); `head_start` is a first page already requested.
    """

    def __init__(
        self,
        source: PageSource,
        paginator: Paginator,
        base: Mapping[str, Any],
        *,
        window: int,
        speculative: bool,
        max_pages: int,
        before_page: Callable[[Mapping[str, Any]], None],
        on_idle: Callable[[int], None] | None = None,
        head_start: Future[requests.Response] | None = None,
    ) -> None:
        self.source = source
        self.on_idle = on_idle
        self.head_start = head_start
        self.paginator = paginator
        self.base = dict(base)
        self.window = window
        self.speculative = speculative
        self.max_pages = max_pages
        self.before_page = before_page

    def pages_ahead(self) -> list[PageRequest]:
        """Pages worth requesting before the paginator asks for them.

        With a total the guesses stop where the data does. Without one, a guess can
        land past the end, so it is made only when `speculative_paging` allows
        spending up to the window on requests beyond the data."""
        paginator = self.paginator
        if self.window <= 1 or not (paginator.knows_total or self.speculative):
            return []
        return paginator.speculate(self.window)

    def __iter__(self) -> Iterator[FetchedPage]:
        yield from self._pages()
        if self.on_idle is not None:  # the walk ran to its end (not stopped early)
            self.on_idle(self.window)

    def _pages(self) -> Iterator[FetchedPage]:
        source, paginator = self.source, self.paginator
        last_total: int | None = None
        announced = False
        first = (paginator.request().key(), self.head_start) if self.head_start else None
        with _PageFetcher(source, self.base, self.window, first) as fetcher:
            while True:
                self.before_page(paginator.checkpoint())
                ahead = self.pages_ahead()
                if self.on_idle is not None and paginator.knows_total and len(ahead) < self.window - 1:
                    self.on_idle(self.window - 1 - len(ahead))
                response = fetcher.fetch(paginator.request(), ahead)
                parsed = self._receive(response)
                if parsed is None:
                    return
                page, keys = self._page(parsed)
                total = paginator.total_of(page)
                if total is not None and last_total is not None and total != last_total:
                    # The collection changed mid-sync: pages fetched ahead may predate the
                    # change, and one announcing a smaller total did. Fetch afresh.
                    fetcher.drop_inflight()
                    if total < last_total:
                        parsed = self._receive(source.send(paginator.request().over(self.base)))
                        if parsed is None:
                            return
                        page, keys = self._page(parsed)
                        total = paginator.total_of(page)
                last_total = total if total is not None else last_total
                where = f"stream {source.name}: {_method(response)} {redact_url(parsed.url)}"
                self._check_page_size(page.count, where)
                try:
                    more = paginator.advance(page)
                except PagingError as exc:
                    raise TapAnalyticsError(f"{where}: {exc}") from None
                if paginator.detected and not announced:
                    announced = True
                    source.logger.info(
                        "%s: %s (paginator detected: set endpoint.paginator to choose)",
                        source.name, paginator.detected,
                    )
                if more and paginator.pages >= self.max_pages:
                    msg = (
                        f"{where}: still paging after {paginator.pages} pages at "
                        f"{paginator.describe()}; the server never signals the end: set "
                        "endpoint.paginator.maximum_offset/maximum_page or max_pages_per_stream"
                    )
                    raise TapAnalyticsError(msg)
                if not paginator.drop_page:
                    yield FetchedPage(parsed.records, keys, where)
                if not more:
                    return

    def _page(self, parsed: ParsedPage) -> tuple[Page, list[Hashable] | None]:
        """What the paginator may know of a response, and its records' keys."""
        keys = self.source.page_keys(parsed.records)
        page = Page(
            len(parsed.records), None, fingerprint(parsed.records, keys),
            body=parsed.body, headers=parsed.headers, url=parsed.url,
        )
        return page, keys

    def _receive(self, response: requests.Response) -> ParsedPage | None:
        """The response read; None when it ends the walk: a response action ignores it,
        or it says "no such page" after the data visibly ended."""
        source, paginator = self.source, self.paginator
        where = f"stream {source.name}: {_method(response)} {redact_url(response.url or '')}"
        action = source.response_action(response)
        if action is not None:
            source.logger.info(
                "%s: ignoring the response to %s (HTTP %d), as response_actions[%d] says",
                source.name, where.partition(": ")[2], response.status_code, action,
            )
            return None
        status = response.status_code
        if status < 300:
            return source.parse_page(response)
        if status in END_OF_DATA_STATUSES and paginator.missing_page_ends():
            source.logger.info(
                "%s: HTTP %d for %s, after the data ended: the walk is complete",
                source.name, status, paginator.describe(),
            )
            return None
        if status in END_OF_DATA_STATUSES and paginator.pages:
            msg = (
                f"{where} returned HTTP {status} at {paginator.describe()} after "
                f"{paginator.pages} pages, before the data visibly ended (no total reached, "
                f"no short or empty page); if the API answers {status} past its last page, "
                f'add endpoint.response_actions [{{"status_code": {status}, "action": "ignore"}}]'
            )
            raise TapAnalyticsError(msg)
        raise source.http_error(response)

    def _check_page_size(self, count: int, where: str) -> None:
        expected = self.paginator.expected_size
        if expected and count > max(expected * OVERSIZED_PAGE_FACTOR, OVERSIZED_PAGE_FLOOR):
            msg = (
                f"{where} returned {count} records for a page of {expected}: the server "
                "ignores the page size; check endpoint.paginator.limit_param"
            )
            raise TapAnalyticsError(msg)


def _method(response: requests.Response) -> str:
    request = response.request
    return (request.method if request is not None else None) or "GET"


def fingerprint(records: list[dict[str, Any]], keys: list[Hashable] | None) -> int | None:
    """A digest of the page (of its keys when it has them), so the paginator can spot a
    repeated page."""
    if not records:
        return None
    if keys is None:
        return hash(msgspec.json.encode(records))
    return hash(tuple(keys))


class _PageFetcher:
    """Fetches the current page, with guessed next pages requested ahead.

    `window` workers send the requests, so at most `window` are in flight; up to
    `window` guesses are queued beyond the current page, so a worker that finishes one
    starts the next at once and the pool stays busy while records are processed.

    The paginator stays the only judge of what comes next: a guessed page is used only
    if its parameters are exactly what the paginator asks for when it gets there, so
    records come out in server order and the stop rules are the sequential ones. A
    wrong guess (the server's page size changed) is dropped and fetched again.

    How far ahead it looks adapts: when a page is still in flight as the records of
    the previous one are done, latency dominates and the look-ahead doubles (up to the
    window); when pages keep arriving before they are needed, record processing
    dominates and the look-ahead shrinks, down to one page: the server prepares the next
    page (on another core, or while the answer travels) as the main thread turns the last
    one into records, and more threads would only compete for the interpreter. (At none,
    the main thread would wait out every response: 2-4 % slower at 0 ms.)
    """

    def __init__(
        self, source: PageSource, base: Mapping[str, Any], window: int,
        first: tuple[Hashable, Future[requests.Response]] | None = None,
    ) -> None:
        self.source = source
        self.base = dict(base)
        self.max_ahead = window
        self.ahead = self.max_ahead
        self._early = 0
        self.pool = ThreadPoolExecutor(window, f"{source.name}-page") if window > 1 else None
        self.inflight: deque[tuple[Hashable, Future[requests.Response]]] = deque([first] if first else [])

    def __enter__(self) -> _PageFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop_inflight()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def fetch(self, current: PageRequest, ahead: list[PageRequest]) -> requests.Response:
        if self.pool is None:
            return self._send(current)
        future: Future[requests.Response] | None = None
        if self.inflight and self.inflight[0][0] == current.key():
            future = self.inflight.popleft()[1]
        elif self.inflight:
            self.drop_inflight()
        kept = min(len(self.inflight), len(ahead))
        if [key for key, _ in self.inflight][:kept] != [p.key() for p in ahead[:kept]] or (
            len(self.inflight) > len(ahead)
        ):
            self.drop_inflight()
        guesses = ahead[len(self.inflight) : self.ahead]
        fetched_ahead = future is not None
        if future is None and guesses:
            # The page needed now goes first: guesses must never hold it up.
            future = self.pool.submit(self._send, current)
        for request in guesses:
            self.inflight.append((request.key(), self.pool.submit(self._send, request)))
        if future is None:
            return self._send(current)
        if fetched_ahead:
            self._adapt(ready=future.done())
        return future.result()

    def _adapt(self, *, ready: bool) -> None:
        if not ready:
            self._early = 0
            self.ahead = min(self.max_ahead, self.ahead * 2)
            return
        self._early += 1
        if self._early >= ADAPT_AFTER_EARLY_PAGES and self.ahead > 1:
            self._early = 0
            self.ahead -= 1

    def _send(self, request: PageRequest) -> requests.Response:
        return self.source.send(request.over(self.base))

    def drop_inflight(self) -> None:
        for _, future in self.inflight:
            future.cancel()
        self.inflight.clear()


class Progress:
    """Logs records and records/s every few seconds while a stream syncs."""

    def __init__(self, name: str, logger: logging.Logger, counts: Callable[[], tuple[int, int]]) -> None:
        self.name = name
        self.logger = logger
        self.counts = counts
        self.started = self.last = time.monotonic()
        self.records = 0

    def update(self, count: int) -> None:
        self.records += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL_SECONDS:
            self.last = now
            self._log("progress")

    def done(self) -> None:
        self._log("done")

    def _log(self, what: str) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        requests_made, retries_made = self.counts()
        self.logger.log(
            logging.INFO,
            "%s: %s, %d records fetched in %.1f s (%.0f records/s), %d requests, %d retries",
            self.name, what, self.records, elapsed, self.records / elapsed,
            requests_made, retries_made,
        )

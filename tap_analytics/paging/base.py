"""The paginator contract and the stop rules every paginator shares: pure decisions, no HTTP.

The client tells a paginator what one response held -- a `Page`: its record count, its
body and headers, the URL it came from -- and asks what the next request adds to the
endpoint's -- a `PageRequest`: query parameters, values at paths of a JSON body, or a
whole next URL. Every decision is a function of those parts alone, so the same rules
serve the sequential page loop, a concurrent fetcher planning pages ahead, and unit tests.

Shared by every paginator (`Paginator.advance`):

* a page identical to one already seen means the server ignores the paging parameters:
  that is an error (`PagingError`), never an endless loop -- unless the announced total
  reached a new high (records inserted at the head shift pages);
* the checkpoint (STATE `paging`) is the next request's own parts, so any paginator can
  resume where a killed run stopped.

The numeric paginators add the rules of where the data ends (totals, short and empty
pages, `has_more`; see `numeric.py`); the link and cursor paginators end where the
server stops giving a next reference (`links.py`, `cursors.py`).
"""

from __future__ import annotations

import abc
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tap_analytics.errors import redact_url
from tap_analytics.selectors import MISSING, as_bool, read_total, value_at

#: The key of a next URL in a `paging` checkpoint.
NEXT_URL_KEY = "next_url"


class PagingError(Exception):
    """The server's paging cannot be followed safely (it repeats pages, for instance)."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What one page's request adds to the endpoint's own.

    `params` are query parameters, `body` maps dot-separated paths of the JSON body to
    values (patched into a copy of `endpoint.json`), and `url`, when set, is the absolute
    URL the server named for the next page: it replaces the endpoint's URL and query."""

    params: Mapping[str, Any] = field(default_factory=dict)
    body: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None

    def over(self, base: Mapping[str, Any]) -> PageRequest:
        """This request on top of the query parameters every page carries; a next URL
        already holds what the server needs, so it gets none (dlt's rule)."""
        if self.url is not None or not base:
            return self
        return PageRequest({**base, **self.params}, self.body, None)

    def key(self) -> Hashable:
        """Identity of the request, to match a page fetched ahead with the one needed."""
        return (
            tuple(sorted(self.params.items())),
            tuple(sorted(self.body.items())),
            self.url,
        )

    def checkpoint(self) -> dict[str, Any]:
        """The request as a resumable position: its parameters, body values and URL."""
        saved = {**self.params, **self.body}
        if self.url is not None:
            saved[NEXT_URL_KEY] = self.url
        return saved

    def describe(self) -> str:
        if self.url is not None:
            return redact_url(self.url)
        parts = {**self.params, **self.body}
        return ", ".join(f"{k}={v}" for k, v in parts.items()) or "the first page"


@dataclass(frozen=True, slots=True)
class Page:
    """What a paginator may know about one response."""

    #: Number of records in the response.
    count: int
    #: The total the response announced, when the caller read it already; None: the
    #: paginator reads it from `body` at its `total_path`.
    total: int | None = None
    #: A digest of the page's records (e.g. of their primary keys), to spot repeats.
    fingerprint: int | None = None
    #: The decoded JSON body, the response headers, and the URL the response came from.
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    def header(self, name: str) -> str | None:
        """A response header, by case-insensitive name."""
        value = self.headers.get(name)
        if value is None:
            lowered = name.lower()
            value = next((v for k, v in self.headers.items() if k.lower() == lowered), None)
        return value


@dataclass
class Paginator(abc.ABC):
    """One walk over an endpoint's pages. Create a fresh one per sync."""

    #: The dlt `type` name this class is registered under (see `tap_analytics.paging`).
    type_name: ClassVar[str]
    #: The options the config may set, with the types each accepts.
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]]
    #: Where the total is read from when `total_path` is not set (None: nowhere).
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = None
    #: What a user should check when the server repeats a page.
    REPEAT_ADVICE: ClassVar[str] = "check the paginator settings against the API's documentation"

    @classmethod
    @abc.abstractmethod
    def from_options(cls, options: Mapping[str, Any]) -> Paginator:
        """A fresh walk configured by validated `options`."""

    @classmethod
    def problems(cls, options: Mapping[str, Any]) -> list[str]:
        """What is wrong with a combination of (individually valid) options, one line each,
        each starting with the option's name."""
        return []

    @classmethod
    def total_path_of(cls, options: Mapping[str, Any]) -> str | None:
        """The response path of the announced total, given the configured options."""
        value = options.get("total_path", cls.DEFAULT_TOTAL_PATH)
        return str(value) if value else None

    finished: bool = field(default=False, init=False)
    pages: int = field(default=0, init=False)
    records: int = field(default=0, init=False)
    #: Where this walk reads totals (None: it does not).
    total_path: str | None = field(default=None, init=False)
    #: The number of records a page should hold, when the paginator asks for one.
    expected_size: int | None = field(default=None, init=False)
    #: True after `advance` when that page repeats one already handed out: the walk
    #: emits none of its records (a detected paginator's probe, see `auto.py`).
    drop_page: bool = field(default=False, init=False)
    #: How a detected paginator pages ("paging by ..."), for the log (None: configured).
    detected: str | None = field(default=None, init=False)
    _largest_page: int = field(default=0, init=False)
    _last_count: int = field(default=0, init=False)
    _total: int | None = field(default=None, init=False)
    #: The largest total announced so far: only a total beyond it excuses a repeated page.
    _highest_total: int | None = field(default=None, init=False)
    _seen: set[int] = field(default_factory=set, init=False)
    #: The last page was shorter than an earlier one (the tail, when nothing else says).
    _shorter_than_before: bool = field(default=False, init=False)
    #: ... or, being the first, shorter than the page size asked for: a sign the data
    #: ended, but not proof (servers may cap the page size below what is asked).
    _short: bool = field(default=False, init=False)

    @abc.abstractmethod
    def request(self) -> PageRequest:
        """What the next request adds to the endpoint's."""

    def params(self) -> dict[str, Any]:
        """The query parameters of the next request."""
        return dict(self.request().params)

    def checkpoint(self) -> dict[str, Any]:
        """The next request as STATE keeps it (`restore` reads it back)."""
        return self.request().checkpoint()

    @abc.abstractmethod
    def restore(self, saved: Mapping[str, Any]) -> bool:
        """Continue from a `checkpoint` (a resumed sync); False when it does not fit this
        paginator (the walk then starts afresh)."""

    @abc.abstractmethod
    def _decide(self, page: Page, total: int | None) -> bool:
        """Move past `page` (already counted) and say whether another request is needed."""

    @property
    def knows_total(self) -> bool:
        """Whether guessed pages cannot pass the end of the data (see `speculate`)."""
        return self._total is not None

    def speculate(self, count: int) -> list[PageRequest]:
        """Up to `count` requests after the next one, guessed from the pages so far. A
        concurrent fetcher may send them early; it must still check each against
        `request()` when the paginator gets there, since a guess is only a guess.
        Paginators that follow a server's reference (links, cursors) cannot guess."""
        if self.finished or self.pages == 0 or self._last_count == 0 or count <= 0:
            return []
        return self._guess(count)

    def _guess(self, count: int) -> list[PageRequest]:
        return []

    def missing_page_ends(self) -> bool:
        """Whether a 404 (or "invalid page" 400) for the next request means the data
        ended before it, not that something is wrong."""
        return False

    def describe(self) -> str:
        """The current position, for messages."""
        return self.request().describe()

    def total_of(self, page: Page) -> int | None:
        """The total `page` announces, as this paginator reads it."""
        if page.total is not None:
            return page.total
        return read_total(page.body, self.total_path)

    def advance(self, page: Page) -> bool:
        """Record `page` and decide whether another request is needed."""
        self.drop_page = False
        total = self.total_of(page)
        # A repeat while the announced total reached a new high is records shifting
        # (inserts at the head), which the client deduplicates; a repeat otherwise is a
        # server that ignores the paging parameters. Comparing with the highest total, not
        # the last one, keeps a server whose total only wobbles from excusing repeats
        # forever: each excuse needs a total never seen before, so the walk ends.
        grew = total is not None and self._highest_total is not None and total > self._highest_total
        if page.count and page.fingerprint is not None:
            if page.fingerprint in self._seen and not grew:
                self.finished = True
                msg = (
                    f"the server returned the same page again at {self.describe()}: it ignores "
                    f"the paging parameters; {self.REPEAT_ADVICE}"
                )
                raise PagingError(msg)
            self._seen.add(page.fingerprint)
        self.pages += 1
        self.records += page.count
        self._shorter_than_before = 0 < page.count < self._largest_page
        self._short = self._shorter_than_before or (
            self.pages == 1 and self.expected_size is not None and page.count < self.expected_size
        )
        self._largest_page = max(self._largest_page, page.count)
        self._last_count = page.count
        if total is not None:
            self._total = total
            self._highest_total = max(total, self._highest_total or total)
        more = self._decide(page, total)
        self.finished = not more
        return more


def read_has_more(page: Page, path: str | None) -> bool | None:
    """The response's "more pages" flag at `path` (None without a path); an error when
    the response lacks it or it is no boolean, as in dlt."""
    if not path:
        return None
    value = value_at(page.body, path)
    if value is MISSING or value is None:
        msg = f"has_more_path {path!r} is not in the response; check endpoint.paginator.has_more_path"
        raise PagingError(msg)
    flag = as_bool(value)
    if flag is None:
        msg = f"has_more_path {path!r} is {value!r}, not a boolean; check endpoint.paginator.has_more_path"
        raise PagingError(msg)
    return flag


def names_no_next_page(body: Any, depth: int = 0) -> bool:
    """Whether a body says there is no next page: a `next...` key (dlt's pattern, at most
    three keys deep, outside lists) that is null or empty, and none that holds a value.
    DRF's `"next": null` on its last page, for instance."""
    if not isinstance(body, dict) or depth > 2:
        return False
    said = False
    for key, value in body.items():
        if isinstance(key, str) and key.lower().startswith("next") and not isinstance(value, dict):
            if value not in (None, ""):
                return False
            said = True
        elif isinstance(value, dict) and names_no_next_page(value, depth + 1):
            said = True
    return said

"""The paginator contract and the stop rules every paginator shares: pure decisions, no HTTP.

Nothing here does HTTP. The client tells a paginator what one response held (a `Page`)
and asks for the query parameters of the next request, so the same rules serve the
sequential page loop, a concurrent fetcher planning pages ahead, and unit tests.

Stop rules, shared by every paginator (see `Paginator.advance`):

* an empty page ends the walk;
* a total in the response ends it exactly where the data ends (no request beyond it);
* without a total, a page shorter than an earlier page is the tail. The first page is
  never taken as the tail just because it is shorter than the requested limit: servers
  may cap the page size below what we ask for, and stopping there would lose records.
  So a walk without a total makes at most one request beyond the data;
* a page identical to one already seen means the server ignores the paging parameters:
  that is an error (`PagingError`), never an endless loop.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


class PagingError(Exception):
    """The server's paging cannot be followed safely (it repeats pages, for instance)."""


@dataclass(frozen=True, slots=True)
class Page:
    """What a paginator needs to know about one response."""

    #: Number of records in the response.
    count: int
    #: The total the response announced (records for offset paging, pages for page
    #: numbers, as dlt reads them), or None when the response carries none.
    total: int | None = None
    #: A digest of the page's records (e.g. of their primary keys), to spot repeats.
    fingerprint: int | None = None


@dataclass
class Paginator(abc.ABC):
    """One walk over an endpoint's pages. Create a fresh one per sync."""

    #: The dlt `type` name this class is registered under (see `tap_analytics.paging`).
    type_name: ClassVar[str]
    #: The options the config may set, with the types each accepts.
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]]
    #: Where the total is read from when `total_path` is not set (None: nowhere).
    DEFAULT_TOTAL_PATH: ClassVar[str | None]

    @classmethod
    @abc.abstractmethod
    def from_options(cls, options: Mapping[str, Any]) -> Paginator:
        """A fresh walk configured by validated `options`."""

    @classmethod
    def total_path_of(cls, options: Mapping[str, Any]) -> str | None:
        """The response path of the announced total, given the configured options."""
        value = options.get("total_path", cls.DEFAULT_TOTAL_PATH)
        return str(value) if value else None

    finished: bool = field(default=False, init=False)
    pages: int = field(default=0, init=False)
    records: int = field(default=0, init=False)
    _largest_page: int = field(default=0, init=False)
    _last_count: int = field(default=0, init=False)
    _total: int | None = field(default=None, init=False)
    #: The largest total announced so far: only a total beyond it excuses a repeated page.
    _highest_total: int | None = field(default=None, init=False)
    _seen: set[int] = field(default_factory=set, init=False)

    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """Query parameters for the next request."""

    @abc.abstractmethod
    def _step(self, page: Page) -> None:
        """Move the position past `page`."""

    @abc.abstractmethod
    def _past_total(self, total: int) -> bool:
        """Whether the position is at or beyond the announced total."""

    def _past_maximum(self) -> bool:
        return False

    @property
    def knows_total(self) -> bool:
        """Whether the last response announced a total (so guesses cannot overshoot)."""
        return self._total is not None

    def speculate(self, count: int) -> list[dict[str, Any]]:
        """Parameters of up to `count` pages after the current one, guessed from the pages
        so far (the same page size, within any total and maximum). A concurrent fetcher
        may request them early; it must still check each against `params()` when the
        paginator gets there, since a guess is only a guess."""
        if self.finished or self.pages == 0 or self._last_count == 0 or count <= 0:
            return []
        return self._guess(count)

    def _guess(self, count: int) -> list[dict[str, Any]]:
        return []

    @abc.abstractmethod
    def restore(self, params: Mapping[str, Any]) -> bool:
        """Continue from the page whose parameters were `params` (a resumed sync).
        Returns False when they do not fit this paginator."""

    #: The number of records a page should hold, when the paginator asks for one.
    expected_size: int | None = field(default=None, init=False)

    def describe(self) -> str:
        """The current position, for error messages."""
        return ", ".join(f"{k}={v}" for k, v in self.params().items())

    def advance(self, page: Page) -> bool:
        """Record `page` and decide whether another request is needed."""
        # A repeat while the announced total reached a new high is records shifting
        # (inserts at the head), which the client deduplicates; a repeat otherwise is a
        # server that ignores the paging parameters. Comparing with the highest total, not
        # the last one, keeps a server whose total only wobbles from excusing repeats
        # forever: each excuse needs a total never seen before, so the walk ends.
        grew = (
            page.total is not None
            and self._highest_total is not None
            and page.total > self._highest_total
        )
        if page.count and page.fingerprint is not None:
            if page.fingerprint in self._seen and not grew:
                self.finished = True
                msg = (
                    f"the server returned the same page again at {self.describe()}: it ignores "
                    "the paging parameters; check the paginator settings (type, offset_param/"
                    "page_param, limit_param) against the API's documentation"
                )
                raise PagingError(msg)
            self._seen.add(page.fingerprint)
        self.pages += 1
        self.records += page.count
        shorter_than_before = 0 < page.count < self._largest_page
        self._largest_page = max(self._largest_page, page.count)
        self._last_count = page.count
        if page.total is not None:
            self._total = page.total
            self._highest_total = max(page.total, self._highest_total or page.total)
        if page.count == 0:
            self.finished = True
            return False
        self._step(page)
        if page.total is not None:
            self.finished = self._past_total(page.total)
        else:
            self.finished = shorter_than_before
        self.finished = self.finished or self._past_maximum()
        return not self.finished

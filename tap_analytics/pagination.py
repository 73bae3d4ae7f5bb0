"""Paginators: pure decisions about which page to ask for next, and when to stop.

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
from typing import Any


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


@dataclass
class SinglePagePaginator(Paginator):
    """An endpoint that returns everything in one response."""

    def params(self) -> dict[str, Any]:
        return {}

    def restore(self, params: Mapping[str, Any]) -> bool:
        return False

    def _step(self, page: Page) -> None:
        pass

    def _past_total(self, total: int) -> bool:
        return True

    def advance(self, page: Page) -> bool:
        super().advance(page)
        self.finished = True
        return False


@dataclass
class OffsetPaginator(Paginator):
    """`offset`/`limit` paging. The offset moves by the records received, not by `limit`,
    so a server that returns fewer records than asked loses nothing."""

    limit: int = 100
    offset: int = 0
    offset_param: str = "offset"
    limit_param: str = "limit"
    maximum_offset: int | None = None

    def __post_init__(self) -> None:
        self.expected_size = self.limit

    def params(self) -> dict[str, Any]:
        return {self.offset_param: self.offset, self.limit_param: self.limit}

    def restore(self, params: Mapping[str, Any]) -> bool:
        offset = params.get(self.offset_param)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            return False
        self.offset = offset
        return True

    def _step(self, page: Page) -> None:
        self.offset += page.count

    def _past_total(self, total: int) -> bool:
        return self.offset >= total

    def _past_maximum(self) -> bool:
        return self.maximum_offset is not None and self.offset >= self.maximum_offset

    def _guess(self, count: int) -> list[dict[str, Any]]:
        step = self._last_count
        end = self.offset + step * (count + 1)
        if self._total is not None:
            end = min(end, self._total)
        if self.maximum_offset is not None:
            end = min(end, self.maximum_offset)
        return [
            {self.offset_param: offset, self.limit_param: self.limit}
            for offset in range(self.offset + step, end, step)
        ]


@dataclass
class PageNumberPaginator(Paginator):
    """`page`/`per_page` paging. A total, as in dlt, is the number of pages."""

    #: The first page to request; defaults to `base_page`.
    page: int | None = None
    base_page: int = 1
    page_param: str = "page"
    limit: int | None = None
    limit_param: str | None = None
    maximum_page: int | None = None

    def __post_init__(self) -> None:
        self.number = self.base_page if self.page is None else max(self.page, self.base_page)
        self.expected_size = self.limit

    def restore(self, params: Mapping[str, Any]) -> bool:
        number = params.get(self.page_param)
        if not isinstance(number, int) or isinstance(number, bool) or number < self.base_page:
            return False
        self.number = number
        return True

    def params(self) -> dict[str, Any]:
        return self._params_at(self.number)

    def _params_at(self, number: int) -> dict[str, Any]:
        params: dict[str, Any] = {self.page_param: number}
        if self.limit_param and self.limit is not None:
            params[self.limit_param] = self.limit
        return params

    def _step(self, page: Page) -> None:
        self.number += 1

    def _past_total(self, total: int) -> bool:
        return self.number - self.base_page >= total

    def _past_maximum(self) -> bool:
        return self.maximum_page is not None and self.number > self.maximum_page

    def _guess(self, count: int) -> list[dict[str, Any]]:
        last = self.number + count
        if self._total is not None:
            last = min(last, self.base_page + self._total - 1)
        if self.maximum_page is not None:
            last = min(last, self.maximum_page)
        return [self._params_at(number) for number in range(self.number + 1, last + 1)]

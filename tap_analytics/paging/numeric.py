"""`offset` and `page_number`: paginators that count their way through the data.

Both can plan pages ahead (`_guess`), which the concurrent fetcher uses, and share the
rules of where the data ends (`RangePaginator._decide`), in this order:

* an empty page ends the walk (unless `stop_after_empty_page` is false);
* `maximum_offset` / `maximum_page` (exclusive, as in dlt) and a false `has_more` end it;
* a total ends it exactly where the data ends, whatever it counts. dlt reads an offset
  total as records and a page-number total as pages, but APIs differ (DRF's `count` is
  records on every paginator), so the pages so far decide: more records received than
  the total means it counts pages; the records reaching it exactly means the data is
  complete -- for page numbers, unless it may equally count pages, when one more page
  decides (at most one request beyond the data);
* without a usable total, only an empty page ends the walk, as in dlt: a short page
  may be one the server filtered after cutting it (hidden rows), or capped below the
  limit asked, and stopping there would lose the records after it. So a walk without a
  total makes one request beyond the data (the empty page), and after a short page it
  guesses no page ahead.

A 404 (or an "invalid page" 400) for the next page ends the walk cleanly only after the
data visibly ended -- a short or empty page, a total reached, a `next` of null -- or as
the first request of a walk resumed past the start (`missing_page_ends`).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tap_analytics.paging.base import (
    Page,
    PageRequest,
    Paginator,
    PagingError,
    names_no_next_page,
    read_has_more,
)

_OPTIONAL_STR = (str, type(None))
_OPTIONAL_INT = (int, type(None))


@dataclass
class RangePaginator(Paginator):
    """What offset and page-number paging share (see the module doc)."""

    #: How dlt reads this paginator's total: "records" or "pages".
    NATIVE_TOTAL: ClassVar[str]
    #: The option that bounds the walk, for messages.
    MAXIMUM_OPTION: ClassVar[str]

    has_more_path: str | None = None
    stop_after_empty_page: bool = True
    #: The data visibly ended at the last page (see `missing_page_ends`).
    _ended: bool = field(default=False, init=False)
    #: The walk was restored past its first position.
    _resumed: bool = field(default=False, init=False)

    @classmethod
    def _end_problems(cls, options: Mapping[str, Any], maximum: str) -> list[str]:
        """dlt's rule: something must be able to end the walk."""
        if (
            options.get("total_path", cls.DEFAULT_TOTAL_PATH) is None
            and options.get(maximum) is None
            and options.get("has_more_path") is None
            and options.get("stop_after_empty_page", True) is False
        ):
            return [
                f"stop_after_empty_page: with it false, set total_path, {maximum} or "
                "has_more_path: nothing else can end the walk"
            ]
        return []

    @abc.abstractmethod
    def _records_before(self) -> int:
        """Records before the next request's position."""

    @abc.abstractmethod
    def _pages_before(self) -> int:
        """Pages before the next request's position."""

    @abc.abstractmethod
    def _step(self, page: Page) -> None:
        """Move the position past `page`."""

    @abc.abstractmethod
    def _past_maximum(self) -> bool:
        """Whether the position reached the configured maximum."""

    @abc.abstractmethod
    def _has_maximum(self) -> bool: ...

    def _total_reached(self, total: int) -> bool | None:
        """Whether the data ends at the position by `total`, read as records or as pages
        -- whichever the pages so far allow; None when neither reading fits them."""
        records, pages = self._records_before(), self._pages_before()
        if records > total:  # more records than that: it counts pages
            return pages >= total if pages <= total else None
        return records == total

    def _remaining(self) -> int | None:
        """Pages certainly left, the next one included (None: unknown)."""
        total = self._total
        if total is None or self._last_count <= 0:
            return None
        records, pages = self._records_before(), self._pages_before()
        if records > total:
            return total - pages if pages <= total else None
        return -(-(total - records) // self._last_count)

    @property
    def knows_total(self) -> bool:
        return self._remaining() is not None

    def missing_page_ends(self) -> bool:
        return self._ended if self.pages else self._resumed

    def speculate(self, count: int) -> list[PageRequest]:
        """No guesses after a short page without a total: it may be the tail, so the next
        page (an empty answer ends the walk there) is asked alone."""
        return [] if self._short and self._remaining() is None else super().speculate(count)

    def _decide(self, page: Page, total: int | None) -> bool:
        has_more = read_has_more(page, self.has_more_path)
        empty = page.count == 0
        self._step(page)
        reached = None if total is None else self._total_reached(total)
        self._ended = empty or self._short or reached is True or names_no_next_page(page.body)
        if empty and self.stop_after_empty_page:
            return False
        if self._past_maximum() or has_more is False:
            return False
        if reached is True and total is not None:
            # Page numbers whose total may count pages that hold, so far, exactly as many
            # records as it says: one more page tells (unless this one was the tail).
            return self.NATIVE_TOTAL == "pages" and self._pages_before() < total and not self._short
        if reached is False or has_more is True:
            return True
        if not self.stop_after_empty_page:
            if self._has_maximum():
                return True
            msg = (
                f"nothing in the response says where the data ends (no total at "
                f"{self.total_path!r}, no has_more_path) and stop_after_empty_page is false; "
                f"set endpoint.paginator.total_path, has_more_path or {self.MAXIMUM_OPTION}"
            )
            raise PagingError(msg)
        return True  # as dlt: only an empty page ends a walk that nothing else bounds


def _position(params: dict[str, Any], body: dict[str, Any], param: str | None,
              body_path: str | None, value: Any) -> None:
    """Put `value` where the request carries it: a query parameter or a body path."""
    if body_path:
        body[body_path] = value
    elif param:
        params[param] = value


def _saved_int(saved: Mapping[str, Any], key: str | None, minimum: int) -> int | None:
    value = saved.get(key) if key else None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        return None
    return value


@dataclass
class OffsetPaginator(RangePaginator):
    """`offset`/`limit` paging. The offset moves by the records received, not by `limit`,
    so a server that returns fewer records than asked loses nothing (an empty page, when
    `stop_after_empty_page` is false, moves it by `limit`)."""

    type_name: ClassVar[str] = "offset"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "limit": int,
        "offset": int,
        "offset_param": _OPTIONAL_STR,
        "limit_param": _OPTIONAL_STR,
        "offset_body_path": _OPTIONAL_STR,
        "limit_body_path": _OPTIONAL_STR,
        "total_path": _OPTIONAL_STR,
        "maximum_offset": _OPTIONAL_INT,
        "stop_after_empty_page": bool,
        "has_more_path": _OPTIONAL_STR,
    }
    #: The announced total counts records (as dlt reads it).
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = "total"
    NATIVE_TOTAL: ClassVar[str] = "records"
    MAXIMUM_OPTION: ClassVar[str] = "maximum_offset"
    REPEAT_ADVICE: ClassVar[str] = (
        "check the paginator settings (type, offset_param/page_param, limit_param) against "
        "the API's documentation"
    )

    limit: int = 100
    offset: int = 0
    offset_param: str | None = "offset"
    limit_param: str | None = "limit"
    offset_body_path: str | None = None
    limit_body_path: str | None = None
    maximum_offset: int | None = None
    #: The offset this walk started at (later than `offset` when resumed).
    _first_offset: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.expected_size = self.limit
        self.total_path = self.DEFAULT_TOTAL_PATH
        self._first_offset = self.offset
        if self.offset_body_path:
            self.offset_param = None
        if self.limit_body_path:
            self.limit_param = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OffsetPaginator:
        made = cls(
            limit=options["limit"],
            offset=options.get("offset", 0),
            offset_param=options.get("offset_param") or "offset",
            limit_param=options.get("limit_param") or "limit",
            offset_body_path=options.get("offset_body_path"),
            limit_body_path=options.get("limit_body_path"),
            maximum_offset=options.get("maximum_offset"),
            has_more_path=options.get("has_more_path"),
            stop_after_empty_page=options.get("stop_after_empty_page", True),
        )
        made.total_path = cls.total_path_of(options)
        return made

    @classmethod
    def problems(cls, options: Mapping[str, Any]) -> list[str]:
        errors = [
            f"{param}: set {param} or {body}, not both"
            for param, body in (("offset_param", "offset_body_path"), ("limit_param", "limit_body_path"))
            if options.get(param) and options.get(body)
        ]
        if options.get("limit") is None:  # as in dlt: the offset step is the API's page size
            errors.append('limit: required: the page size, e.g. {"type": "offset", "limit": 100}')
        return errors + cls._end_problems(options, "maximum_offset")

    def request(self) -> PageRequest:
        return self._request_at(self.offset)

    def _request_at(self, offset: int) -> PageRequest:
        params: dict[str, Any] = {}
        body: dict[str, Any] = {}
        _position(params, body, self.offset_param, self.offset_body_path, offset)
        _position(params, body, self.limit_param, self.limit_body_path, self.limit)
        return PageRequest(params, body)

    def restore(self, saved: Mapping[str, Any]) -> bool:
        offset = _saved_int(saved, self.offset_body_path or self.offset_param, 0)
        if offset is None:
            return False
        self._resumed = offset > self.offset
        self.offset = self._first_offset = offset
        return True

    def _records_before(self) -> int:
        return self.offset

    def _pages_before(self) -> int:
        return self.pages + -(-self._first_offset // max(self.limit, 1))

    def _step(self, page: Page) -> None:
        self.offset += page.count or self.limit

    def _past_maximum(self) -> bool:
        return self.maximum_offset is not None and self.offset >= self.maximum_offset

    def _has_maximum(self) -> bool:
        return self.maximum_offset is not None

    def _guess(self, count: int) -> list[PageRequest]:
        step = self._last_count
        remaining = self._remaining()
        ahead = count if remaining is None else min(count, remaining - 1)
        guesses = []
        for k in range(1, ahead + 1):
            offset = self.offset + step * k
            if self.maximum_offset is not None and offset >= self.maximum_offset:
                break
            guesses.append(self._request_at(offset))
        return guesses


@dataclass
class PageNumberPaginator(RangePaginator):
    """`page` paging (with our `limit`/`limit_param` for the page size). dlt reads a total
    as the number of pages; this one also recognises a total of records (see the module
    doc). `base_page` defaults to 1, not dlt's 0: the seed APIs count pages from 1."""

    type_name: ClassVar[str] = "page_number"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "base_page": int,
        "page": _OPTIONAL_INT,
        "page_param": _OPTIONAL_STR,
        "page_body_path": _OPTIONAL_STR,
        "limit": _OPTIONAL_INT,
        "limit_param": _OPTIONAL_STR,
        "total_path": _OPTIONAL_STR,
        "maximum_page": _OPTIONAL_INT,
        "stop_after_empty_page": bool,
        "has_more_path": _OPTIONAL_STR,
    }
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = "total"
    NATIVE_TOTAL: ClassVar[str] = "pages"
    MAXIMUM_OPTION: ClassVar[str] = "maximum_page"
    REPEAT_ADVICE: ClassVar[str] = OffsetPaginator.REPEAT_ADVICE

    #: The first page to request; defaults to `base_page`.
    page: int | None = None
    base_page: int = 1
    page_param: str | None = "page"
    page_body_path: str | None = None
    limit: int | None = None
    limit_param: str | None = None
    maximum_page: int | None = None
    number: int = field(default=0, init=False)
    _first_number: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.number = self.base_page if self.page is None else max(self.page, self.base_page)
        self._first_number = self.number
        self.expected_size = self.limit
        self.total_path = self.DEFAULT_TOTAL_PATH
        if self.page_body_path:
            self.page_param = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PageNumberPaginator:
        base = options.get("base_page", 1)
        limit = options.get("limit")
        made = cls(
            page=options.get("page"),
            base_page=base,
            page_param=options.get("page_param") or "page",
            page_body_path=options.get("page_body_path"),
            limit=limit,
            limit_param=options.get("limit_param") or ("per_page" if limit else None),
            maximum_page=options.get("maximum_page"),
            has_more_path=options.get("has_more_path"),
            stop_after_empty_page=options.get("stop_after_empty_page", True),
        )
        made.total_path = cls.total_path_of(options)
        return made

    @classmethod
    def problems(cls, options: Mapping[str, Any]) -> list[str]:
        errors = []
        if options.get("page_param") and options.get("page_body_path"):
            errors.append("page_param: set page_param or page_body_path, not both")
        return errors + cls._end_problems(options, "maximum_page")

    def restore(self, saved: Mapping[str, Any]) -> bool:
        number = _saved_int(saved, self.page_body_path or self.page_param, self.base_page)
        if number is None:
            return False
        self._resumed = number > self.number
        self.number = self._first_number = number
        return True

    def request(self) -> PageRequest:
        return self._request_at(self.number)

    def _request_at(self, number: int) -> PageRequest:
        params: dict[str, Any] = {}
        body: dict[str, Any] = {}
        _position(params, body, self.page_param, self.page_body_path, number)
        if self.limit_param and self.limit is not None:
            params[self.limit_param] = self.limit
        return PageRequest(params, body)

    def _records_before(self) -> int:
        size = self.limit or self._largest_page
        return self.records + (self._first_number - self.base_page) * size

    def _pages_before(self) -> int:
        return self.number - self.base_page

    def _step(self, page: Page) -> None:
        self.number += 1

    def _past_maximum(self) -> bool:
        return self.maximum_page is not None and self.number >= self.maximum_page

    def _has_maximum(self) -> bool:
        return self.maximum_page is not None

    def _guess(self, count: int) -> list[PageRequest]:
        remaining = self._remaining()
        ahead = count if remaining is None else min(count, remaining - 1)
        guesses = []
        for number in range(self.number + 1, self.number + ahead + 1):
            if self.maximum_page is not None and number >= self.maximum_page:
                break
            guesses.append(self._request_at(number))
        return guesses

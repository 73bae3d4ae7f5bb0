"""`offset` and `page_number`: paginators that count their way through the data.

Both can plan pages ahead (`_guess`), which the concurrent fetcher uses; both stop by the
shared rules of `Paginator.advance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tap_analytics.paging.base import Page, Paginator


@dataclass
class OffsetPaginator(Paginator):
    """`offset`/`limit` paging. The offset moves by the records received, not by `limit`,
    so a server that returns fewer records than asked loses nothing."""

    type_name: ClassVar[str] = "offset"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "limit": int,
        "offset": int,
        "offset_param": str,
        "limit_param": str,
        "total_path": (str, type(None)),
        "maximum_offset": (int, type(None)),
    }
    #: The announced total counts records.
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = "total"

    limit: int = 100
    offset: int = 0
    offset_param: str = "offset"
    limit_param: str = "limit"
    maximum_offset: int | None = None

    def __post_init__(self) -> None:
        self.expected_size = self.limit

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> OffsetPaginator:
        return cls(
            limit=options.get("limit", 100),
            offset=options.get("offset", 0),
            offset_param=options.get("offset_param", "offset"),
            limit_param=options.get("limit_param", "limit"),
            maximum_offset=options.get("maximum_offset"),
        )

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

    type_name: ClassVar[str] = "page_number"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "base_page": int,
        "page": int,
        "page_param": str,
        "limit": (int, type(None)),
        "limit_param": (str, type(None)),
        "total_path": (str, type(None)),
        "maximum_page": (int, type(None)),
    }
    #: The announced total counts pages, as dlt reads it.
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = "total"

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

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PageNumberPaginator:
        base = options.get("base_page", 1)
        limit = options.get("limit")
        return cls(
            page=options.get("page", base),
            base_page=base,
            page_param=options.get("page_param", "page"),
            limit=limit,
            limit_param=options.get("limit_param", "per_page" if limit else None),
            maximum_page=options.get("maximum_page"),
        )

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

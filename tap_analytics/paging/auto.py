"""`auto` (and a resource without `paginator`): the paginator the first response shows.

The first request goes out without paging parameters; `detect` reads its response with
dlt's rules, and from then on the detected paginator decides. STATE checkpoints name the
detected paginator, so a resumed run continues the same way without detecting again.

Page numbers detected from a `total_pages`-like key leave one question dlt answers by
assuming pages count from 0: which page was the first response? The next request asks
for page 1; when it answers the first response's records again, the server counts from
1, so that repeat is dropped (`drop_page`) and the walk goes on at page 2 -- at most one
request beyond the data, and no page skipped or emitted twice either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tap_analytics.paging.base import Page, PageRequest, Paginator
from tap_analytics.paging.cursors import CursorPaginator
from tap_analytics.paging.detect import detect
from tap_analytics.paging.links import HeaderLinkPaginator, JSONLinkPaginator
from tap_analytics.paging.numeric import PageNumberPaginator
from tap_analytics.paging.single import SinglePagePaginator

#: The key of the detected paginator's config in a `paging` checkpoint.
AUTO_KEY = "detected_paginator"
#: What detection can find (dlt's detectors, and the single-page fallback).
DETECTABLE: dict[str, type[Paginator]] = {
    cls.type_name: cls
    for cls in (HeaderLinkPaginator, JSONLinkPaginator, PageNumberPaginator, CursorPaginator,
                SinglePagePaginator)
}


@dataclass
class AutoPaginator(Paginator):
    """Detects the paginator from the first response, then lets it decide."""

    type_name: ClassVar[str] = "auto"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    inner: Paginator | None = field(default=None, init=False)
    config: dict[str, Any] | None = field(default=None, init=False)
    _first: Page | None = field(default=None, init=False)
    _probing: bool = field(default=False, init=False)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> AutoPaginator:
        return cls()

    def request(self) -> PageRequest:
        return self.inner.request() if self.inner is not None else PageRequest()

    def checkpoint(self) -> dict[str, Any]:
        if self.inner is None or self._probing or self.config is None:
            return {}
        saved = self.inner.checkpoint()
        return {**saved, AUTO_KEY: self.config} if saved else {}

    def restore(self, saved: Mapping[str, Any]) -> bool:
        config = saved.get(AUTO_KEY)
        if not isinstance(config, Mapping) or config.get("type") not in DETECTABLE:
            return False
        options = {k: v for k, v in config.items() if k != "type"}
        try:
            inner = DETECTABLE[str(config["type"])].from_options(options)
        except (TypeError, ValueError):  # a hand-edited STATE
            return False
        if not inner.restore(saved):
            return False
        self.inner, self.config = inner, dict(config)
        self.detected = f"paging as the interrupted run detected ({config['type']})"
        return True

    @property
    def knows_total(self) -> bool:
        return self.inner is not None and not self._probing and self.inner.knows_total

    def speculate(self, count: int) -> list[PageRequest]:
        if self.inner is None or self._probing:
            return []
        return self.inner.speculate(count)

    def missing_page_ends(self) -> bool:
        return self.inner is not None and self.inner.missing_page_ends()

    def total_of(self, page: Page) -> int | None:
        return self.inner.total_of(page) if self.inner is not None else None

    def _decide(self, page: Page, total: int | None) -> bool:  # pragma: no cover - see advance
        raise NotImplementedError

    def advance(self, page: Page) -> bool:
        self.drop_page = False
        if self.inner is None:
            found = detect(page)
            self.detected, self.config = found.description, found.config
            options = {k: v for k, v in found.config.items() if k != "type"}
            if found.config["type"] == "page_number":
                self.inner = PageNumberPaginator(base_page=0)
                self.inner.total_path = options["total_path"]
                self._first = page
            else:
                self.inner = DETECTABLE[found.config["type"]].from_options(options)
            more = self.inner.advance(page)
            self._probing = more and self._first is not None
        elif self._probing:
            more = self._probe(page)
        else:
            more = self.inner.advance(page)
        inner = self.inner
        self.finished, self.pages, self.records = inner.finished, inner.pages, inner.records
        self.expected_size, self.total_path = inner.expected_size, inner.total_path
        return more

    def _probe(self, page: Page) -> bool:
        """The answer to page 1 after a first response without a page number."""
        self._probing = False
        first = self._first
        assert first is not None
        assert self.config is not None
        if page.count and page.fingerprint is not None and page.fingerprint == first.fingerprint:
            # Page 1 again: pages count from 1. Continue at 2, without this repeat.
            self.inner = PageNumberPaginator(base_page=1)
            self.inner.total_path = self.config["total_path"]
            self.config = {**self.config, "base_page": 1}
            self.drop_page = True
            return self.inner.advance(first)
        self.config = {**self.config, "base_page": 0}
        assert self.inner is not None
        return self.inner.advance(page)

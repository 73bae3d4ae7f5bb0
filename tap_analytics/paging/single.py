"""`single_page`: an endpoint that answers everything in one response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tap_analytics.paging.base import Page, PageRequest, Paginator


@dataclass
class SinglePagePaginator(Paginator):
    """An endpoint that returns everything in one response."""

    type_name: ClassVar[str] = "single_page"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SinglePagePaginator:
        return cls()

    def request(self) -> PageRequest:
        return PageRequest()

    def restore(self, saved: Mapping[str, Any]) -> bool:
        return False

    def _decide(self, page: Page, total: int | None) -> bool:
        return False

"""`single_page`: an endpoint that answers everything in one response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tap_analytics.paging.base import Page, Paginator


@dataclass
class SinglePagePaginator(Paginator):
    """An endpoint that returns everything in one response."""

    type_name: ClassVar[str] = "single_page"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    DEFAULT_TOTAL_PATH: ClassVar[str | None] = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SinglePagePaginator:
        return cls()

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

"""The paginator family and its registry: a paginator type is one class and one entry here.

Each class names its dlt `type`, the options it takes (for validation) and how it is built
from them; config validation and the streams look types up here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tap_analytics.paging.auto import AutoPaginator
from tap_analytics.paging.base import NEXT_URL_KEY, Page, PageRequest, Paginator, PagingError
from tap_analytics.paging.cursors import CursorPaginator, HeaderCursorPaginator
from tap_analytics.paging.links import HeaderLinkPaginator, JSONLinkPaginator, JSONResponsePaginator
from tap_analytics.paging.numeric import OffsetPaginator, PageNumberPaginator
from tap_analytics.paging.single import SinglePagePaginator

PAGINATORS: dict[str, type[Paginator]] = {
    cls.type_name: cls
    for cls in (
        AutoPaginator,
        SinglePagePaginator,
        OffsetPaginator,
        PageNumberPaginator,
        JSONLinkPaginator,
        JSONResponsePaginator,
        HeaderLinkPaginator,
        CursorPaginator,
        HeaderCursorPaginator,
    )
}


def create_paginator(kind: str, options: Mapping[str, Any]) -> Paginator:
    """A fresh walk of the registered paginator `kind` (already validated)."""
    return PAGINATORS[kind].from_options(options)


__all__ = [
    "NEXT_URL_KEY",
    "PAGINATORS",
    "AutoPaginator",
    "CursorPaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "JSONLinkPaginator",
    "JSONResponsePaginator",
    "OffsetPaginator",
    "Page",
    "PageNumberPaginator",
    "PageRequest",
    "Paginator",
    "PagingError",
    "SinglePagePaginator",
    "create_paginator",
]

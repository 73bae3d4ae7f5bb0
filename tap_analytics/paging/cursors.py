"""`cursor` and `header_cursor`: send back the opaque position the server gave.

Sequential by nature, like links. dlt's defaults and stop rules: the cursor at
`cursor_path` (default `cursors.next`) or in the `cursor_key` header (default `next`),
sent as the `cursor_param` query parameter (default `cursor`) or at `cursor_body_path`
of a POST body; a missing, null or empty cursor ends the walk, so do an empty page when
`stop_after_empty_page` and a false `has_more_path`. A cursor the server repeats would
loop: it is an error.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from tap_analytics.errors import redact
from tap_analytics.paging.base import Page, PageRequest, Paginator, PagingError, read_has_more
from tap_analytics.selectors import MISSING, value_at


@dataclass
class ReferencePaginator(Paginator):
    """A cursor read from each response and sent with the next request."""

    REPEAT_ADVICE: ClassVar[str] = (
        "check endpoint.paginator.cursor_param (the parameter the API reads the cursor from)"
    )

    cursor_param: str | None = "cursor"
    cursor_body_path: str | None = None
    stop_after_empty_page: bool = False
    has_more_path: str | None = None
    cursor: Any = field(default=None, init=False)
    _used: set[str] = field(default_factory=set, init=False)

    @abc.abstractmethod
    def _reference(self, page: Page) -> Any:
        """The cursor the response gives for the next page (falsy: none)."""

    def request(self) -> PageRequest:
        if self.cursor is None:
            return PageRequest()
        if self.cursor_body_path:
            return PageRequest(body={self.cursor_body_path: self.cursor})
        return PageRequest(params={self.cursor_param or "cursor": self.cursor})

    def checkpoint(self) -> dict[str, Any]:
        # A cursor is the server's own token; should one ever hold a secret of this run,
        # STATE keeps the previous checkpoint instead (a resumed run re-reads a few pages).
        if self.cursor is not None and redact(str(self.cursor)) != str(self.cursor):
            return {}
        return super().checkpoint()

    def restore(self, saved: Mapping[str, Any]) -> bool:
        value = saved.get(self.cursor_body_path or self.cursor_param or "cursor")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            return False
        self.cursor = value
        return True

    def _decide(self, page: Page, total: int | None) -> bool:
        reference = self._reference(page)
        if reference is MISSING or not reference or isinstance(reference, bool):
            reference = None
        if self.stop_after_empty_page and page.count == 0:
            return False
        if read_has_more(page, self.has_more_path) is False or reference is None:
            return False
        if not isinstance(reference, str | int | float):
            msg = f"the cursor is a {type(reference).__name__}, not a string or number"
            raise PagingError(msg)
        if str(reference) in self._used:
            msg = (
                f"the server gave the cursor {redact(str(reference))!r} again: following it "
                f"would loop; {self.REPEAT_ADVICE}"
            )
            raise PagingError(msg)
        self._used.add(str(reference))
        self.cursor = reference
        return True


@dataclass
class CursorPaginator(ReferencePaginator):
    """The cursor at `cursor_path` of the body (dlt's `cursor`, JSONResponseCursorPaginator)."""

    type_name: ClassVar[str] = "cursor"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "cursor_path": str,
        "cursor_param": (str, type(None)),
        "cursor_body_path": (str, type(None)),
        "stop_after_empty_page": bool,
        "has_more_path": (str, type(None)),
    }

    cursor_path: str = "cursors.next"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CursorPaginator:
        body_path = options.get("cursor_body_path")
        return cls(
            cursor_path=options.get("cursor_path", "cursors.next"),
            cursor_param=None if body_path else options.get("cursor_param") or "cursor",
            cursor_body_path=body_path,
            stop_after_empty_page=options.get("stop_after_empty_page", False),
            has_more_path=options.get("has_more_path"),
        )

    @classmethod
    def problems(cls, options: Mapping[str, Any]) -> list[str]:
        if options.get("cursor_param") and options.get("cursor_body_path"):
            return ["cursor_param: set cursor_param or cursor_body_path, not both"]
        return []

    def _reference(self, page: Page) -> Any:
        return value_at(page.body, self.cursor_path)


@dataclass
class HeaderCursorPaginator(ReferencePaginator):
    """The cursor in the `cursor_key` response header (dlt's `header_cursor`)."""

    type_name: ClassVar[str] = "header_cursor"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {"cursor_key": str, "cursor_param": str}

    cursor_key: str = "next"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HeaderCursorPaginator:
        return cls(
            cursor_key=options.get("cursor_key", "next"),
            cursor_param=options.get("cursor_param", "cursor"),
        )

    def _reference(self, page: Page) -> Any:
        return page.header(self.cursor_key)

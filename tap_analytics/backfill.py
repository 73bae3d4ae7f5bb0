"""The replication range of an incremental sync, and backfill windows: a page walk per window.

`IncrementalSync` (mixed into the base stream) says which replication values a sync
takes -- from the bookmark less `lag`, or `initial_value` / `start_date`, to `end_value`,
within a run's `window_start` / `window_end` -- and, with `incremental.window`, cuts that
range into windows synced one after another, STATE checkpointed after each, so a killed
backfill resumes at its window.

A window's requests differ from the stream's (the start and end params, and every
`{incremental.*}` placeholder in the path, headers and body, are the window's edges), so
each walk gets a `PlannedSource`: the stream, sending through the one HTTP policy, with
that window's `RequestPlan`. Windows fetched concurrently (`fetch_windows`) are handed
out in window order, each whole, so records, bookmarks and STATE come out as a
sequential run's would.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from singer_sdk.helpers._typing import is_datetime_type
from singer_sdk.streams import Stream

from tap_analytics import resume
from tap_analytics.config import ResourceSpec
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.fanout import fan_out
from tap_analytics.fetch import (
    FetchedPage,
    PageSource,
    PageWalk,
    PlannedSource,
    Progress,
    no_checkpoint,
)
from tap_analytics.instants import cursor_order, lagged
from tap_analytics.paging import Paginator
from tap_analytics.paging.http import RequestPlan
from tap_analytics.records import RecordShaper
from tap_analytics.windows import CursorRange

Window = TypeVar("Window")

#: The settings restricting a run to one window of every incremental resource.
WINDOW_SETTINGS = ("window_start", "window_end")
_END: Any = object()


def fetch_windows(
    windows: Iterable[Window],
    fetch: Callable[[int, Window], Iterable[FetchedPage]],
    *,
    concurrency: int,
    name: str,
) -> Iterator[tuple[Window, Iterable[FetchedPage]]]:
    """`(window, its pages)` in window order. One at a time, the pages stream as they are
    fetched (the walk checkpoints each); with `concurrency` > 1 up to that many windows
    are fetched at once, each held whole until its turn. `fetch` gets the window's index
    (the first one may resume a saved page)."""
    numbered = enumerate(windows)
    if concurrency <= 1:
        for index, window in numbered:
            yield window, fetch(index, window)
        return
    for (_, window), pages in fan_out(
        numbered, lambda item: list(fetch(*item)), window=concurrency, name=f"{name}-window"
    ):
        yield window, pages


def with_last(items: Iterable[Window]) -> Iterator[tuple[Window, bool]]:
    """Each item, and whether it is the last one."""
    source = iter(items)
    current = next(source, _END)
    while current is not _END:
        following = next(source, _END)
        yield current, following is _END
        current = following


class IncrementalSync(Stream):
    """The base stream's incremental range and windows (see the module doc); the stream
    supplies the walks (`_walk`, `_emit`) and the requests (`request_plan`, ...)."""

    spec: ClassVar[ResourceSpec]
    shaper: RecordShaper

    if TYPE_CHECKING:  # the base stream's (declared only: no stub may shadow them)

        def _walk(
            self,
            source: PageSource,
            paginator: Paginator,
            base: Mapping[str, Any],
            before_page: Callable[[Mapping[str, Any]], None],
        ) -> PageWalk: ...

        def _emit(
            self, pages: Iterable[FetchedPage], progress: Progress
        ) -> Iterator[dict[str, Any]]: ...

        def _checkpoint(self, params: Mapping[str, Any]) -> None: ...

        def checkpoint_children(self) -> None: ...

        def request_plan(self, values: Mapping[str, Any]) -> RequestPlan: ...

        def request_values(
            self, context: Mapping[str, Any] | None, span: CursorRange | None = None
        ) -> dict[str, Any]: ...

        def base_params(
            self,
            context: Mapping[str, Any] | None,
            span: CursorRange | None = None,
            values: Mapping[str, Any] | None = None,
        ) -> dict[str, Any]: ...

    def starting_value(
        self, context: Mapping[str, Any] | None, state: Mapping[str, Any] | None = None
    ) -> Any:
        """Where the sync starts: the bookmark less `lag` (dlt's attribution window; off
        with an `end_value`, as in dlt), or `initial_value` or `start_date` when later.
        `start_date` applies to date-time cursors only."""
        incremental = self.spec.incremental
        if incremental is None:
            return None
        state = self.get_context_state(context) if state is None else state
        value = state.get("replication_key_value")
        if state.get("replication_key") != self.replication_key:
            value = None
        if value is not None and incremental.lag and incremental.end_value is None:
            value = lagged(value, incremental.lag)
        floors = [incremental.initial_value]
        if self.is_timestamp_replication_key:
            floors.append(self.config.get("start_date"))
        for floor in floors:
            if floor is not None and (value is None or cursor_order(floor) > cursor_order(value)):
                value = floor
        return value

    def cursor_range(
        self, context: Mapping[str, Any] | None, state: Mapping[str, Any] | None = None
    ) -> CursorRange:
        """The replication values this sync takes: from `starting_value` to `end_value`
        (dlt's `range_start`/`range_end` edges), within `window_start`/`window_end` when
        a run is restricted to one window. `state` (read only): the stream's STATE when
        it is not yet the stream's own (a head start's)."""
        incremental = self.spec.incremental
        if incremental is None:
            return CursorRange()
        span = CursorRange(
            self.starting_value(context, state),
            incremental.end_value,
            start_open=incremental.range_start == "open",
            end_closed=incremental.range_end == "closed",
        )
        bounds = [self.config.get(name) for name in WINDOW_SETTINGS]
        for name, bound in zip(WINDOW_SETTINGS, bounds, strict=True):
            try:
                _ = bound is None or cursor_order(bound)
            except (ValueError, TypeError):
                msg = f"{name}: {bound!r} is neither a date-time (ISO 8601) nor a number"
                raise TapAnalyticsError(msg) from None
        return span.within(*bounds)

    @property
    def is_timestamp_replication_key(self) -> bool:
        """Whether the schema declares the cursor a date-time, following a nested cursor
        into its object; a cursor the schema does not describe is not (the SDK raises)."""
        incremental = self.spec.incremental
        prop: Any = self.schema
        for part in incremental.cursor_parts if incremental else ():
            prop = (prop.get("properties") or {}).get(part) if isinstance(prop, Mapping) else None
        return isinstance(prop, Mapping) and prop is not self.schema and is_datetime_type(dict(prop))

    def _windows(self, span: CursorRange) -> Iterator[CursorRange] | None:
        """The windows of this sync (None: one range, no windows): `incremental.window`
        cuts `span`; an interrupted windowed sync resumes at its window."""
        incremental = self.spec.incremental
        saved = resume.window_position(self.stream_state)
        if incremental is None or (incremental.window is None and saved is None):
            return None
        if saved is not None:
            span = span.resumed_at(saved[0])
            self.logger.info(
                "%s: resuming an interrupted backfill at the window from %s", self.name, saved[0]
            )
            if self.shaper.latest is None:
                self.shaper.latest = saved[1]
        if incremental.window is None:
            return iter([span])
        try:
            windows = span.windows(incremental.window, datetime.now(UTC))
            first = next(windows)
        except ValueError as exc:
            msg = f"stream {self.name}: endpoint.incremental.window: {exc}"
            raise TapAnalyticsError(msg) from None
        return itertools.chain([first], windows)

    def _emit_windows(
        self, windows: Iterator[CursorRange], paginator: Paginator, progress: Progress
    ) -> Iterator[dict[str, Any]]:
        """Each window's records in window order, STATE checkpointed after each window
        (`max_concurrent_windows` > 1: that many fetched at once, resumable per window)."""
        concurrency = max(1, int(self.config.get("max_concurrent_windows") or 1))

        def fetch(index: int, span: CursorRange) -> PageWalk:
            values = self.request_values(None, span)
            plan = self.request_plan(values)
            source = PlannedSource(self, plan)  # type: ignore[arg-type]  # the base stream sends plans
            return self._walk(
                source,
                paginator if index == 0 else self.spec.paginator.new(),
                self.base_params(None, values=values),
                self._checkpoint if concurrency == 1 else no_checkpoint,
            )

        marked = with_last(windows)
        for (span, last), pages in fetch_windows(
            marked, lambda index, item: fetch(index, item[0]), concurrency=concurrency, name=self.name
        ):
            self.shaper.take_range(span)
            yield from self._emit(pages, progress)
            if not last:  # the next window starts here
                latest = self.shaper.latest
                resume.window_checkpoint(self.stream_state, span.end, latest[1] if latest else None)
                self.checkpoint_children()
                self.state_manager.is_flushed = False
                self._write_state_message()

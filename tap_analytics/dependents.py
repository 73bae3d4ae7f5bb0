"""Dependent resources at run time: a parent stream drives its children, page by page.

After the records of one parent page are emitted, the children of those records are read
concurrently -- one request walk per parent (`fanout.fan_out`: at most
`max_concurrent_requests` walks at once, every request through the run's rate gate, pages
fetched ahead inside each walk as for any stream) -- and emitted strictly in parent order,
each child record through the child stream's own record path (its schema, conformance,
`include_from_parent` fields, its bookmark), before the parent writes the checkpoint that
names its next page. Then the grandchildren of those children, the same way.

Why not the SDK's `parent_stream_type` mechanism: it syncs a child once per parent record,
one after another, each sync writing a SCHEMA message and keeping a state partition per
parent (which grows without bound). The SDK's linking is kept (a child's class names its
parent's, so the tap skips children at top level, `has_selected_descendents` and the
final bookmarks work); the per-record child sync is replaced by this module.

State: a child has one bookmark (no partition per parent). While its parent syncs, the
child's STATE holds `paging: {replication_key_value}` (its latest cursor emitted, written
with each parent checkpoint) and `paging: {done: true}` once its parent is done, like any
stream's. A run killed mid-fan-out resumes at the parent page in flight and re-reads that
page's children (and grandchildren), nothing else. When the parent is incremental, only
the children of parents it emits (new or changed) are read.

Each walk has its own request plan (URL, params, headers, body filled from its parent
record), so concurrent walks never share one. A walk that fails (a deleted parent's
children answer 404) follows `response_actions`; without a matching one, the error names
the parent's key.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import requests
from singer_sdk.streams import Stream

from tap_analytics import resume
from tap_analytics.config import ResourceSpec
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.fanout import fan_out
from tap_analytics.fetch import PageWalk, ParsedPage, PlannedSource, Progress, no_checkpoint
from tap_analytics.output import record_line_tail
from tap_analytics.selectors import MISSING, value_at
from tap_analytics.windows import CursorRange

if TYPE_CHECKING:
    from tap_analytics.context import RunContext
    from tap_analytics.dedupe import RecentKeys
    from tap_analytics.paging import PageRequest
    from tap_analytics.paging.http import RequestPlan
    from tap_analytics.records import RecordShaper

#: Statuses after which the error suggests ignoring the parent (its children are gone).
GONE_STATUSES = frozenset({404, 410})
#: Discovery of a child without a schema reads the children of at most this many of the
#: first parents, until one has any.
MAX_PROBED_PARENTS = 5


@dataclass(frozen=True)
class ParentRecord:
    """What one child stream needs of one parent record, taken before the parent's record
    is shaped (dlt reads the parent's items as the API sent them)."""

    #: The parent record for messages: `issues record id=7`.
    key: str
    #: The placeholders of the child's request templates this parent fills.
    values: Mapping[str, Any]
    #: The `include_from_parent` fields, named `_<parent>_<field>`.
    include: Mapping[str, Any]


class Dependents(Stream):
    """The base stream's parent and child roles (see the module doc). Placed after
    `RecordPath` in the base stream's bases, so a stream with children reaches
    `_process_record` here, and one without pays nothing per record."""

    spec: ClassVar[ResourceSpec]
    run: RunContext
    shaper: RecordShaper
    _record_tail: bytes

    if TYPE_CHECKING:  # the base stream's (declared only: no stub may shadow them)

        def request_values(
            self, context: Mapping[str, Any] | None, span: CursorRange | None = None
        ) -> dict[str, Any]: ...

        def request_plan(self, values: Mapping[str, Any]) -> RequestPlan: ...

        def base_params(
            self,
            context: Mapping[str, Any] | None,
            span: CursorRange | None = None,
            values: Mapping[str, Any] | None = None,
        ) -> dict[str, Any]: ...

        def cursor_range(self, context: Mapping[str, Any] | None) -> CursorRange: ...

        def send(
            self, params: Mapping[str, Any] | PageRequest, plan: RequestPlan | None = None
        ) -> requests.Response: ...

        def parse_page(self, response: requests.Response) -> ParsedPage: ...

        def page_keys(self, records: list[dict[str, Any]]) -> list[Hashable] | None: ...

        def response_action(self, response: requests.Response) -> int | None: ...

        def http_error(self, response: requests.Response) -> TapAnalyticsError: ...

        def _advance_bookmark(self) -> None: ...

        def walk_options(self) -> dict[str, Any]: ...

        def recent_keys(self) -> RecentKeys: ...

        requests_made: int
        retries_made: int

        @property
        def url_base(self) -> str: ...

    # --- the parent's side ------------------------------------------------------------

    @cached_property
    def dependents(self) -> list[Dependents]:
        """The child streams this one drives: those selected, or with a selected child."""
        return [
            child
            for child in self.child_streams
            if isinstance(child, Dependents) and (child.selected or child.has_selected_descendents)
        ]

    @cached_property
    def _pending(self) -> list[tuple[ParentRecord, ...]]:
        """This page's emitted records, as each child needs them (in `dependents` order)."""
        return []

    #: The snapshot of the record being processed (set before the SDK shapes it).
    _candidate: tuple[ParentRecord, ...] = ()

    def parent_rows(self, rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """`rows` as the record loop receives them, each one's values for the children
        taken first; `_process_record` keeps those of the records the loop emits."""
        children = self.dependents
        for row in rows:
            self._candidate = tuple(child.parent_record(row, self) for child in children)
            yield row

    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Mapping[str, Any] | None = None,
        partition_context: Mapping[str, Any] | None = None,
    ) -> None:
        """Instead of the SDK's child sync per record: note the record for the fan-out
        (unless a stream map filters it out, as the SDK would)."""
        if self.dependents:
            if self.stream_maps[0].get_filter_result(record):
                self._pending.append(self._candidate)
            return
        for key, value in (partition_context or {}).items():  # the SDK's other step
            record.setdefault(key, value)

    def drive_children(self) -> None:
        """Read and emit the children of the records noted since the last call."""
        pending = list(self._pending)
        self._pending.clear()
        if not pending:
            return
        for index, child in enumerate(self.dependents):
            child.read_children([snapshot[index] for snapshot in pending])

    def begin_children(self, *, resumed: bool) -> None:
        """Start every descendant's sync (its SCHEMA, ACTIVATE_VERSION, start value); a
        resumed parent's children resume their bookmarks too."""
        for child in self.dependents:
            child.begin_as_child(self, resumed=resumed)
            child.begin_children(resumed=resumed)

    def checkpoint_children(self) -> None:
        """Before the parent's checkpoint: each descendant's latest cursor emitted."""
        for child in self.dependents:
            latest = child.shaper.latest
            resume.checkpoint(child.stream_state, {}, latest[1] if latest else None)
            child.checkpoint_children()

    def children_done(self, synced: list[dict[str, Any]]) -> None:
        """The parent is done: so is every descendant (marked before the parent, so the
        last stream marked clears every mark)."""
        for child in self.dependents:
            child.children_done(synced)
            resume.mark_done(child.stream_state, synced)
            if child.progress is not None:
                child.progress.done()

    def finalize_state_progress_markers(self, state: dict[str, Any] | None = None) -> None:
        """The SDK's, also for a deselected stream that drove children (its bookmark
        decides which parents' children the next run reads) and for the children of a
        deselected child."""
        if state or not self.dependents:
            super().finalize_state_progress_markers(state)
            return
        for child in self.dependents:
            child.finalize_state_progress_markers()
        self.state_manager.finalize_progress_markers(state=None, partitions=self.partitions)
        self._write_state_message()

    # --- discovery ----------------------------------------------------------------------

    #: The parent stream, set when the tap builds its streams (None: not a child).
    parent_stream: Dependents | None = None

    @cached_property
    def sample_rows(self) -> list[dict[str, Any]]:
        """Records as the API sends them, to infer a schema from: the first page; of a
        child, the first page of the first parent that has children (of the first
        `MAX_PROBED_PARENTS`), with the `include_from_parent` fields."""
        parent = self.parent_stream
        if parent is None:
            response = self.send({**self.base_params(None), **self.spec.paginator.new().params()})
            return list(self.parse_page(response).records)
        values = self.request_values(None)
        failure: TapAnalyticsError | None = None
        for row in parent.sample_rows[:MAX_PROBED_PARENTS]:
            record = self.parent_record(row, parent)
            filled = {**values, **record.values}
            params = {**self.base_params(None, values=filled), **self.spec.paginator.new().params()}
            try:
                response = self.send(params, self.request_plan(filled))
            except TapAnalyticsError as exc:  # e.g. a deleted parent: try the next one
                failure = failure or exc
                continue
            rows = list(self.parse_page(response).records)
            if rows:
                return [{**r, **record.include} for r in rows]
        if failure is not None:
            raise failure
        return []

    # --- the child's side -------------------------------------------------------------

    #: Counts this child's records while its parent syncs (None until it begins).
    progress: Progress | None = None
    _parents_read: int = 0

    _walk_logger: logging.Logger | None = None

    def parent_record(self, row: Mapping[str, Any], parent: Dependents) -> ParentRecord:
        """What this child needs of the parent record `row` (a copy: the parent's
        shaping must not change what the child sends)."""
        spec = self.spec.parent
        assert spec is not None
        key = _describe(parent, row)
        values: dict[str, Any] = {}
        for placeholder, field in spec.values:
            value = value_at(row, field)
            if value is MISSING:
                msg = (
                    f"stream {self.name}: the parent {key} has no field {field!r} to fill "
                    f"{{{placeholder}}} (its fields: {', '.join(map(str, row))}); set the "
                    "resolve param's field or the placeholder to one every record has"
                )
                raise TapAnalyticsError(msg)
            values[placeholder] = copy.deepcopy(value)
        include: dict[str, Any] = {}
        for field in spec.include:
            if field not in row:
                msg = (
                    f"stream {self.name}: the parent {key} has no field {field!r} for "
                    f"include_from_parent (its fields: {', '.join(map(str, row))})"
                )
                raise TapAnalyticsError(msg)
            include[spec.field_name(field)] = copy.deepcopy(row[field])
        return ParentRecord(key, values, include)

    def begin_as_child(self, parent: Dependents, *, resumed: bool) -> None:
        """What the SDK's `sync()` does first, once for the whole run of the parent."""
        self.logger.info("Beginning sync of '%s' (children of '%s')", self.name, parent.name)
        self._write_starting_replication_value(None)
        if self.selected:
            self._write_schema_message()
            if self.replication_method == "FULL_TABLE" and self.emit_activate_version_messages:
                self._stream_version = self._initialized_at // 1000
                self._write_activate_version_message(self._stream_version)
        shaper = self.shaper
        shaper.latest = None
        shaper.take_range(self.cursor_range(None))
        saved = self.stream_state.get(resume.PAGING_STATE_KEY)
        if resumed and self.replication_key and isinstance(saved, Mapping):
            shaper.latest = resume.saved_latest(saved)
        self.progress = Progress(self.name, self.logger, lambda: (self.requests_made, self.retries_made))
        self._walk_logger = walk_logger(self)

    def read_children(self, parents: list[ParentRecord]) -> None:
        """Fetch the children of `parents` concurrently, emit them in parent order, then
        their own children."""
        values = self.request_values(None)
        window = self.run.concurrency

        def fetch(parent: ParentRecord) -> list[dict[str, Any]]:
            return self.fetch_children(parent, values)

        for parent, rows in fan_out(parents, fetch, window=window, name=f"{self.name}-fan-out"):
            self.emit_children(parent, rows, values)
        self._advance_bookmark()
        if self.dependents:
            self.drive_children()

    def fetch_children(self, parent: ParentRecord, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every record of one parent's children (worker thread): a walk with its own
        request plan and its own repeated-record check."""
        filled = {**values, **parent.values}
        source = _ChildSource(self, self.request_plan(filled), parent, self._walk_logger or self.logger)
        walk = PageWalk(
            source, self.spec.paginator.new(), self.base_params(None, values=filled),
            before_page=no_checkpoint, **self.walk_options(),
        )
        recent = self.recent_keys()
        rows: list[dict[str, Any]] = []
        try:
            for page in walk:
                rows += recent.unseen(page, source.logger, self.name)
        except TapAnalyticsError as exc:
            text = str(exc.args[0]) if exc.args else str(exc)
            if parent.key in text:
                raise
            raise TapAnalyticsError(f"{text} (reading the children of the parent {parent.key})") from None
        return rows

    def emit_children(
        self, parent: ParentRecord, rows: list[dict[str, Any]], values: Mapping[str, Any]
    ) -> None:
        """One parent's children through this stream's record path, in server order
        (`values`: the request values of every parent's walk, as `read_children` took them)."""
        self._record_tail = record_line_tail(datetime.now(UTC), self._stream_version)
        # Errors about a record name the page it came from, the parent's fields filled in.
        self.shaper.url = self.spec.url_for(self.url_base, {**values, **parent.values})
        include = parent.include
        children = self.dependents
        selected = self.selected
        emitted = 0
        for row in rows:
            if include:
                row.update(include)  # as dlt: the parent's fields win over the child's
            if children:
                self._candidate = tuple(child.parent_record(row, self) for child in children)
            shaped = self.post_process(row, None)
            if shaped is None:
                continue
            self._process_record(shaped)
            if selected:
                self._write_record_message(shaped)
                emitted += 1
        self._parents_read += 1
        if self.progress is not None:
            self.progress.update(emitted)


class _ChildSource(PlannedSource):
    """What one child walk sends through: the child stream with this parent's request plan."""

    def __init__(
        self, stream: Dependents, plan: RequestPlan, parent: ParentRecord,
        logger: logging.Logger,
    ) -> None:
        super().__init__(stream, plan)
        self.parent = parent
        self._logger = logger

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def http_error(self, response: requests.Response) -> TapAnalyticsError:
        """The stream's error, naming the parent; for a parent whose children are gone,
        how to skip such parents."""
        text = str(self.stream.http_error(response).args[0])
        advice = ""
        if response.status_code in GONE_STATUSES:
            advice = (
                f"; to skip parents whose children are gone, add endpoint.response_actions "
                f'[{{"status_code": {response.status_code}, "action": "ignore"}}]'
            )
        return TapAnalyticsError(f"{text} (reading the children of the parent {self.parent.key}){advice}")


def _describe(stream: Dependents, row: Mapping[str, Any]) -> str:
    keys = stream.spec.primary_key
    named = ", ".join(f"{k}={row.get(k)!r}" for k in keys) if keys else "without a primary key"
    return f"{stream.name} record {named}"


class _OnceFilter(logging.Filter):
    """On a child stream's walk logger: a message the walks log alike for every parent
    (the paginator detected) goes out once per run."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if "detected" not in text:
            return True
        first = text not in self.seen
        self.seen.add(text)
        return first


def walk_logger(stream: Stream) -> logging.Logger:
    """The logger of a child stream's walks (its own, under the stream's), its repeats
    forgotten: a new run logs them once again."""
    logger = stream.logger.getChild("walks")
    for existing in logger.filters:
        if isinstance(existing, _OnceFilter):
            existing.seen.clear()
            return logger
    logger.addFilter(_OnceFilter())
    return logger

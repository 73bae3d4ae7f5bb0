"""The base stream: the SDK's hooks and the HTTP policy of every resource, written once.

Every stream of a run is a subclass of `AnalyticsStream` made from its resolved
`ResourceSpec` (see `tap_analytics.streams`); built-in resources add declarations, never
behaviour. One page is three steps -- `build_request` (pure), `send` (I/O with retries,
401 renewal and the shared rate gate), `parse_page` (pure) -- and everything else lives
in its own room: the page loop (`fetch`), the record path (`records`), resumable paging
state (`resume`), the incremental range and its backfill windows (`backfill`).

The SDK keeps what it does well (catalog and selection, STATE bookkeeping, stream maps,
flattening, the record loop); three of its per-record steps are replaced because they
cost more than everything else a record needs:

* `_write_record_message`: when no stream map, flattening or deselected field applies,
  a record is encoded straight into the output buffer after a prefix built once (the
  SDK builds a message object, walks the selection mask and the maps);
* `_increment_stream_state`: the bookmark moves once per page, to the page's latest
  value by instant (the SDK compares every record's value as a string, so `...00.5Z`
  sorts before `...00Z` and offsets are ignored);
* `_process_record`: a stream without children does nothing per record; a parent notes
  the record for its children, read page by page (`dependents`), not one sync per record.
The first falls back to the SDK's own step whenever its shortcut does not apply;
bookmarks are always kept per page. For a stream without partitions, SDK children or a
record limit (`--test`), the record loop itself (`_sync_records`) skips those calls and
counts records per thousand: the same messages, ~9 % less CPU. Those hooks are
`records.RecordPath`'s and `dependents.Dependents`'.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cache, cached_property
from importlib import resources
from typing import Any, ClassVar

import requests
from singer_sdk import Tap
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_analytics import resume
from tap_analytics.backfill import IncrementalSync
from tap_analytics.config import ResourceSpec
from tap_analytics.context import RunContext
from tap_analytics.dedupe import RecentKeys
from tap_analytics.dependents import Dependents
from tap_analytics.fetch import (
    END_OF_DATA_STATUSES,
    FetchedPage,
    PageReader,
    PageSource,
    PageWalk,
    ParsedPage,
    Progress,
)
from tap_analytics.headstart import FirstRequest
from tap_analytics.output import record_line_tail
from tap_analytics.paging import PageRequest, Paginator
from tap_analytics.paging.http import RequestPlan, request_template
from tap_analytics.records import RecordPath, RecordShaper
from tap_analytics.sending import RequestSender
from tap_analytics.templates import expand
from tap_analytics.windows import CursorRange

#: A stream with more pages than this is taken for a server that never stops paging.
DEFAULT_MAX_PAGES = 1_000_000

#: How many recent pages' keys are remembered to drop records that shift across pages.
DEDUPE_PAGES = 8


class AnalyticsStream(IncrementalSync, RecordPath, Dependents, RequestSender):
    """One API resource, configured entirely by its `ResourceSpec`."""

    # --- declarations of a built-in resource (see tap_analytics.streams) -------------
    #: The resource's name (the Singer stream) and its endpoint path, as in the SDK.
    name: str = ""
    path: str = ""
    #: The seed API the resource belongs to.
    api: ClassVar[str] = ""
    #: The resource's paginator, in the config's shape.
    paging: ClassVar[Mapping[str, Any]] = {"type": "single_page"}
    #: Its error handling, in the config's shape (None: the defaults).
    error_handler: ClassVar[Mapping[str, Any] | None] = None
    #: Query parameters every request carries.
    default_params: ClassVar[Mapping[str, Any]] = {}
    #: Where its records are in a response body.
    data_selector: ClassVar[str] = "data"
    #: Its JSON schema, relative to the package's `schemas/` directory.
    schema_file: ClassVar[str] = ""

    #: The resolved resource; set on the class a run makes for it.
    spec: ClassVar[ResourceSpec]

    is_sorted = False

    #: The SDK's per-record conformance walks the whole schema for every record; records
    #: parsed from JSON already hold JSON types, so `RecordShaper` does the only two
    #: conversions that matter (drop unknown fields, numbers into string fields) in one
    #: pass over the record's keys.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @classmethod
    def as_resource_config(cls) -> dict[str, Any]:
        """A built-in's declarations as the bottom layer of its config entry."""
        endpoint: dict[str, Any] = {
            "path": cls.path,
            "data_selector": cls.data_selector,
            "paginator": dict(cls.paging),
        }
        # A class attribute in a built-in; on the base stream, the SDK's property.
        replication_key = inspect.getattr_static(cls, "replication_key")
        if isinstance(replication_key, str):
            endpoint["incremental"] = {"cursor_path": replication_key}
        if cls.error_handler:
            endpoint["error_handler"] = dict(cls.error_handler)
        if cls.default_params:
            endpoint["params"] = dict(cls.default_params)
        return {"name": cls.name, "endpoint": endpoint}

    @classmethod
    def builtin_schema(cls) -> dict[str, Any]:
        return load_schema(cls.schema_file)

    def __init__(self, tap: Tap, run: RunContext, schema: dict[str, Any]) -> None:
        spec = self.spec
        self.run = run
        super().__init__(tap=tap, name=spec.stream_name, schema=schema, path=spec.path)
        self.primary_keys = list(spec.primary_key) if spec.write_disposition != "append" else []
        self.replication_key = spec.replication_key
        self.http_method = spec.method
        self._requests_session = run.session
        self.requests_made = 0
        self.retries_made = 0
        self._counter_lock = threading.Lock()
        self.shaper = RecordShaper(
            name=spec.stream_name,
            schema=self.schema,
            primary_key=spec.primary_key,
            replication_key=spec.replication_key,
            url=self.url,
            logger=self.logger,
            incremental=spec.incremental,
        )
        #: The end of every RECORD line of the current page (its time_extracted).
        self._record_tail = b""

    # --- settings the SDK asks for -------------------------------------------------

    @property
    def url_base(self) -> str:
        return self.run.base_url

    @cached_property
    def url(self) -> str:
        """The URL of the stream's pages (an absolute `endpoint.path` is the URL itself,
        as in dlt), its placeholders filled as for the first request -- but a parent's
        fields, which differ per request: those stay `{resources.posts.id}`."""
        values = self.request_values(None)
        if self.spec.parent is not None:
            values = {**{name: f"{{{name}}}" for name, _ in self.spec.parent.values}, **values}
        return self.spec.url_for(self.url_base, values)

    @property
    def authenticator(self) -> APIAuthenticatorBase | None:  # type: ignore[override]
        return self.run.authenticator_for(self.spec)

    @property
    def timeout(self) -> float:  # type: ignore[override]
        return self.run.request_timeout

    @property
    def emit_activate_version_messages(self) -> bool:
        # `replace` means the target keeps only this run's rows: Singer's ACTIVATE_VERSION.
        return self.spec.write_disposition == "replace" or super().emit_activate_version_messages

    def get_new_paginator(self) -> None:
        """Unused: paging is driven by `tap_analytics.paging` (see the module doc)."""
        return None

    # --- one page: build, send, parse ---------------------------------------------

    def request_values(
        self, context: Mapping[str, Any] | None, span: CursorRange | None = None
    ) -> dict[str, Any]:
        """What the placeholders of this stream's request templates stand for: the
        incremental range (dlt's `{incremental.start_value}` and its siblings) -- the
        sync's (`cursor_range`), or one window's."""
        incremental = self.spec.incremental
        if incremental is None:
            return {}
        span = span or self.cursor_range(context)
        return {
            "incremental.start_value": span.start,
            "incremental.last_value": span.start,
            "incremental.initial_value": incremental.initial_value,
            "incremental.end_value": span.end,
        }

    def base_params(
        self,
        context: Mapping[str, Any] | None,
        span: CursorRange | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Query parameters every page of this sync (or window) carries: `start_param`
        and `end_param` send the range's edges; a parameter that is one placeholder alone
        keeps its value's type, so an unset end (None) sends no parameter at all. Of a
        child's walk, `values` holds its parent's fields too."""
        values = self.request_values(context, span) if values is None else values
        params: dict[str, Any] = expand(self.spec.params, values, preserve_type=True)
        incremental = self.spec.incremental
        if incremental:
            for name, key in ((incremental.start_param, "start"), (incremental.end_param, "end")):
                value = values[f"incremental.{key}_value"]
                if name and value is not None:
                    params[name] = value
        return params

    def request_plan(self, values: Mapping[str, Any]) -> RequestPlan:
        """The endpoint's request templates filled with `values`, prepared once for all
        its pages (see `request_template`)."""
        spec = self.spec
        headers = {
            "User-Agent": self.user_agent,
            "Accept": "application/json",
            **expand(spec.headers, values),
        }
        url = spec.url_for(self.url_base, values)
        template, separator = request_template(self.requests_session, spec.method, url, headers)
        return RequestPlan(
            template, separator, expand(spec.json, values, preserve_type=True),
            expand(spec.data, values),
        )

    @cached_property
    def _plan(self) -> RequestPlan:
        return self.request_plan(self.request_values(self.context))

    def build_request(
        self, params: Mapping[str, Any] | PageRequest, plan: RequestPlan | None = None
    ) -> requests.PreparedRequest:
        """One page's request: the plan (the stream's, or a window's or a child walk's
        own) with its query parameters, body (a copy of `endpoint.json` with the
        paginator's body values, or `endpoint.data`) or next URL."""
        return (plan or self._plan).page(params)

    def parse_page(self, response: requests.Response) -> ParsedPage:
        """`(records, total)` of one response, with the body and headers its paginator
        reads; a clear error for anything else."""
        return self.reader.parse(response, self.url)

    @cached_property
    def reader(self) -> PageReader:
        """Reads this stream's responses (records, response actions)."""
        return PageReader(self.name, self.spec, self.logger)

    def response_action(self, response: requests.Response) -> int | None:
        """The index of the `response_actions` entry that ignores `response`, or None."""
        return self.reader.action(response)

    def hands_back(self, response: requests.Response, params: Any) -> bool:
        """Whether `send` returns a failed response instead of raising: a response action
        matches it (before any retry, as in dlt), or the page loop (which sends
        `PageRequest`s) judges whether a "no such page" is the end of the data."""
        status = response.status_code
        return self.response_action(response) is not None or (
            isinstance(params, PageRequest)
            and status in END_OF_DATA_STATUSES
            and not self.spec.retry.retries_status(status)
        )

    def page_keys(self, records: list[dict[str, Any]]) -> list[Hashable] | None:
        """Each record's primary key, for spotting repeated pages and records; None for
        a stream without one."""
        keys = self.spec.primary_key
        if not keys:
            return None
        if len(keys) == 1:  # the common case, kept cheap: it runs for every record
            only = keys[0]
            page_keys: list[Hashable] = [r.get(only) for r in records]
            if all(type(key) is str or type(key) is int for key in page_keys):
                return page_keys
            return [str(key) for key in page_keys]
        return [tuple(str(r.get(k)) for k in keys) for r in records]

    # --- the page loop --------------------------------------------------------------

    def request_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        paginator = self.spec.paginator.new()
        shaper = self.shaper
        shaper.latest = None
        span = self.cursor_range(context)
        outcome, latest = self._resume(self.stream_state, paginator)
        if outcome is resume.Resume.DONE:
            self.logger.info(
                "%s: completed by the interrupted run this one resumes; not synced again",
                self.name,
            )
            self._mark_done()
            return
        if outcome is resume.Resume.RESUMED:
            self.logger.info(
                "%s: resuming an interrupted sync at %s", self.name, paginator.describe()
            )
            if self.replication_key:
                shaper.latest = latest
        if self.dependents:
            self.begin_children(resumed=outcome is resume.Resume.RESUMED)
        progress = Progress(self.name, self.logger, lambda: (self.requests_made, self.retries_made))
        windows = self._windows(span)
        if windows is None:
            shaper.take_range(span)
            values = self.request_values(context, span)
            base = self.base_params(context, values=values)
            head_start: dict[str, Any] = {}
            if self._head_starts_apply(context):
                key = self._first_key(paginator, base, values)
                head_start = {"on_idle": self._offer_head_starts,
                              "head_start": self.run.head_starts.take(self.name, key)}
            walk = self._walk(self, paginator, base, self._checkpoint, **head_start)
            yield from self._emit(walk, progress)
        else:
            yield from self._emit_windows(windows, paginator, progress)
        self._mark_done()
        progress.done()

    def _resume(
        self, state: Mapping[str, Any], paginator: Paginator
    ) -> tuple[resume.Resume, tuple[tuple[int, Any], Any] | None]:
        """What an interrupted run left in `state` for this stream (the paginator moved to
        its checkpoint); a `replace` stream is synced again even when it was done."""
        return resume.resume(state, paginator, rerun_done=self.spec.write_disposition == "replace")

    def _walk(
        self,
        source: PageSource,
        paginator: Paginator,
        base: Mapping[str, Any],
        before_page: Callable[[Mapping[str, Any]], None],
        **head_start: Any,
    ) -> PageWalk:
        return PageWalk(
            source, paginator, base, before_page=before_page, **self.walk_options(), **head_start
        )

    def walk_options(self) -> dict[str, Any]:
        """How this stream's page walks (a window's, a child's: one per parent) fetch."""
        return {
            "window": self.run.concurrency,
            "speculative": bool(self.config.get("speculative_paging")),
            "max_pages": int(self.config.get("max_pages_per_stream") or DEFAULT_MAX_PAGES),
        }

    # --- head starts (see tap_analytics.headstart) -----------------------------------

    def _head_starts_apply(self, context: Mapping[str, Any] | None) -> bool:
        """Whether this stream's first page may be requested before its turn, and its
        last pages' idle slots go to the streams after it: a top-level GET walk without
        windows, in a run allowed more than one request at a time and not limited to a
        few records (`--test`)."""
        incremental = self.spec.incremental
        return (
            context is None and self.spec.parent is None and self.spec.method == "GET"
            and self.run.concurrency > 1 and self.ABORT_AT_RECORD_COUNT is None
            and (incremental is None or incremental.window is None)
        )

    def _first_key(
        self, paginator: Paginator, base: Mapping[str, Any], values: Mapping[str, Any]
    ) -> Hashable:
        """What identifies the walk's first request: its parameters, body values and URL,
        and the values its URL, headers and body templates are filled with."""
        return paginator.request().over(base).key(), json.dumps(values, sort_keys=True, default=str)

    def first_request(self) -> FirstRequest | None:
        """The request this stream's walk will send first, worked out from the STATE as
        it is now and without changing it; None when the stream takes no head start (or
        an interrupted run finished it, or left it mid-backfill)."""
        saved = self.tap_state.get("bookmarks", {}).get(self.name) or {}
        if (
            not self._head_starts_apply(None) or self.partitions
            or resume.window_position(saved) is not None
        ):
            return None
        paginator = self.spec.paginator.new()
        outcome, _ = self._resume(saved, paginator)
        if outcome is resume.Resume.DONE:
            return None
        values = self.request_values(None, self.cursor_range(None, saved))
        base = self.base_params(None, values=values)
        request, plan = paginator.request().over(base), self.request_plan(values)
        return FirstRequest(self._first_key(paginator, base, values), lambda: self.send(request, plan))

    def _offer_head_starts(self, free: int) -> None:
        """`free` idle request slots, for the first pages of the streams synced after
        this one (in the SDK's order: top-level and selected, or driving selected children)."""
        streams = list(self._tap.streams.values())
        upcoming = [
            s for s in streams[streams.index(self) + 1 :]
            if isinstance(s, AnalyticsStream) and s.parent_stream_type is None
            and (s.selected or s.has_selected_descendents)
        ]
        self.run.head_starts.offer(upcoming, free)

    def recent_keys(self) -> RecentKeys:
        """The repeated-record check of one walk."""
        return RecentKeys(DEDUPE_PAGES)

    def _emit(self, pages: Iterable[FetchedPage], progress: Progress) -> Iterator[dict[str, Any]]:
        """The records of `pages` (each once), the bookmark moved after every page; stops
        early once the records pass the range in the API's declared `row_order`. A
        parent's children are read after each page, before the next checkpoint covers it."""
        recent = self.recent_keys()
        parent = bool(self.dependents)
        walk = iter(pages)
        with self.get_http_request_counter() as counter, contextlib.ExitStack() as stack:
            if isinstance(walk, Generator):
                stack.callback(walk.close)  # an early stop ends the walk's requests in flight
            for page in walk:
                counter.increment()
                self._record_tail = record_line_tail(datetime.now(UTC), self._stream_version)
                rows = recent.unseen(page, self.logger, self.name)
                yield from self.parent_rows(rows) if parent else rows
                self._advance_bookmark()
                progress.update(len(page.records))
                if parent:
                    self.drive_children()
                if self.shaper.out_of_range:
                    self.logger.info(
                        "%s: a record lies past the range in the declared row_order: no more "
                        "pages needed", self.name,
                    )
                    return

    def _checkpoint(self, params: Mapping[str, Any]) -> None:
        """Emit STATE naming the page about to be read: every record before it has
        been emitted, so a resumed run re-reads at most this one page."""
        if not params:
            return
        latest = self.shaper.latest
        resume.checkpoint(self.stream_state, params, latest[1] if latest else None)
        self.checkpoint_children()
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _mark_done(self) -> None:
        """Until every selected stream is done, STATE says this one is, so a resumed run
        skips it; when the last one is done, the markers go and STATE is a plain one."""
        synced = [
            s.stream_state for s in self._tap.streams.values()
            if s.selected or s.has_selected_descendents
        ]
        self.children_done(synced)
        resume.mark_done(self.stream_state, synced)
        self.state_manager.is_flushed = False

    def _advance_bookmark(self) -> None:
        """Move the bookmark to the latest replication value emitted so far. A resumed
        sync starts from the `paging` checkpoint, not from it."""
        latest = self.shaper.latest
        if latest is not None and self.replication_key:
            resume.progress_bookmark(self.stream_state, self.replication_key, latest[1])
            self.state_manager.is_flushed = False


@cache
def _schema_text(schema_file: str) -> str:
    return resources.files("tap_analytics").joinpath(f"schemas/{schema_file}").read_text()


def load_schema(schema_file: str) -> dict[str, Any]:
    """A built-in schema, fresh each call (callers may change it)."""
    schema: dict[str, Any] = json.loads(_schema_text(schema_file))
    return schema

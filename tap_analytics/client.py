"""The one stream class: requests, retries, paging and records, written once.

Every resource, built-in or declared in config, is an `AnalyticsStream` driven by a
`ResourceSpec`. The SDK keeps what it does well (catalog and selection, STATE
bookkeeping, stream maps, flattening, the record loop); this class replaces its request
loop because the seeds need per-endpoint retry policies with Retry-After, a renewal
after 401, paging decisions a concurrent fetcher can share, and errors that name the
stream and a secret-free URL -- and the costliest per-record steps (see the class).

The three steps of one page are separate methods so they can be reused by other
fetch strategies: `build_request` (pure), `send` (I/O + retries), `parse_page` (pure).
"""

from __future__ import annotations

import contextlib
import decimal
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Generator, Hashable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import msgspec
import requests
from singer_sdk.contrib.msgspec import encoder as singer_encoder
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.jsonpath import extract_jsonpath
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import RESTStream

from tap_analytics import retry
from tap_analytics.auth import OAuth2Authenticator
from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.output import SingerOutput
from tap_analytics.pagination import Page, Paginator, PagingError
from tap_analytics.spec import ResourceSpec, parse_datetime

if TYPE_CHECKING:
    from singer_sdk.authenticators import APIAuthenticatorBase

    from tap_analytics.tap import TapAnalytics

RETRIED_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

DEFAULT_CONCURRENCY = 8

#: A stream with more pages than this is taken for a server that never stops paging.
DEFAULT_MAX_PAGES = 1_000_000

#: A page with this many times more records than asked for (and over the floor) is
#: refused: the server ignores the page size, and the next page could exhaust memory.
OVERSIZED_PAGE_FACTOR = 10
OVERSIZED_PAGE_FLOOR = 50

#: How many recent pages' keys are remembered to drop records that shift across pages.
DEDUPE_PAGES = 8

#: Where a stream's STATE keeps the page an interrupted sync should resume at.
PAGING_STATE_KEY = "paging"
DONE_MARK = "done"
#: Beside the page's parameters: the latest replication value emitted before it, so a
#: resumed run's bookmark also covers the records the interrupted run emitted.
RESUME_CURSOR_KEY = "replication_key_value"

#: Decimal for non-integers, as the SDK's own parser: no precision is lost in transit.
JSON_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)

#: Pages that arrive before they are needed, in a row, before the look-ahead shrinks.
ADAPT_AFTER_EARLY_PAGES = 3
#: At zero look-ahead, how often one page is fetched ahead to test for latency.
PROBE_EVERY_PAGES = 16

#: Where the SDK keeps a bookmark until the stream completes (then it becomes the
#: stream's `replication_key_value`), and the note it carries.
PROGRESS_MARKERS = "progress_markers"
PROGRESS_NOTE = (
    "Becomes replication_key_value when the stream completes; an interrupted sync "
    "resumes from 'paging'."
)

#: How often a long sync reports progress.
PROGRESS_INTERVAL_SECONDS = 5.0

STATUS_ADVICE = {
    400: "check the endpoint's params and paginator settings",
    404: "check the resource's endpoint.path and client.base_url",
    405: "check endpoint.method",
    410: "the endpoint is gone: check endpoint.path",
}


class AnalyticsStream(RESTStream[Any]):
    """A stream of one API resource, configured entirely by its `ResourceSpec`.

    The SDK's record loop (`_sync_records`) stays (wrapped to flush the buffered output
    however it ends); three of its per-record steps are replaced because they cost more
    than everything else a record needs:

    * `_write_record_message`: when no stream map, flattening or deselected field
      applies, a record is encoded straight into the output buffer after a prefix built
      once (the SDK builds a message object, walks the selection mask and the maps);
    * `_increment_stream_state`: the bookmark moves once per page, to the page's latest
      value by instant (the SDK compares every record's value as a string, so
      `...00.5Z` sorts before `...00Z` and offsets are ignored);
    * `_process_record`: these streams have no children and no partitions.
    The first and the last fall back to the SDK's own step whenever their shortcut does
    not apply; bookmarks are always kept per page.
    """

    is_sorted = False

    #: The SDK's per-record conformance walks the whole schema for every record; records
    #: parsed from JSON already hold JSON types, so `post_process` does the only two
    #: conversions that matter (drop unknown fields, numbers into string fields) in one
    #: pass over the record's keys.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapAnalytics, spec: ResourceSpec, schema: dict[str, Any]) -> None:
        self.spec = spec
        self.analytics_tap = tap
        super().__init__(tap=tap, name=spec.name, schema=schema, path=spec.path)
        self.primary_keys = list(spec.primary_key) if spec.write_disposition != "append" else []
        self.replication_key = spec.replication_key
        self.http_method = spec.method
        self._requests_session = tap.http_session
        self.requests_made = 0
        self.retries_made = 0
        self._counter_lock = threading.Lock()
        self._reported_unknown: set[str] = set()
        #: The latest replication value emitted so far, with its sort key.
        self._latest_cursor: tuple[tuple[int, Any], Any] | None = None
        #: The end of every RECORD line of the current page (its time_extracted).
        self._record_tail = b""

    # --- settings the SDK asks for -------------------------------------------------

    @property
    def url_base(self) -> str:
        return self.analytics_tap.base_url

    @cached_property
    def url(self) -> str:
        return self.url_base + "/" + self.spec.path.lstrip("/")

    @property
    def authenticator(self) -> APIAuthenticatorBase | None:  # type: ignore[override]
        return self.analytics_tap.authenticator

    @property
    def timeout(self) -> float:  # type: ignore[override]
        return float(self.config.get("request_timeout") or 60)

    @property
    def emit_activate_version_messages(self) -> bool:
        # `replace` means the target keeps only this run's rows: Singer's ACTIVATE_VERSION.
        return self.spec.write_disposition == "replace" or super().emit_activate_version_messages

    def get_new_paginator(self) -> None:
        """Unused: paging is driven by `tap_analytics.pagination` (see module doc)."""
        return None

    # --- one page: build, send, parse ---------------------------------------------

    def base_params(self, context: Mapping[str, Any] | None) -> dict[str, Any]:
        """Query parameters every page of this sync carries."""
        params = dict(self.spec.params)
        incremental = self.spec.incremental
        if incremental and incremental.start_param:
            start = self.starting_value(context)
            if start is not None:
                params[incremental.start_param] = start
        return params

    @cached_property
    def _request_template(self) -> tuple[requests.PreparedRequest, str]:
        """What every page request of this stream shares -- method, URL, headers --
        prepared once, with the separator its query parameters follow. Preparing a
        request from scratch costs more CPU than sending it (and session cookies are not
        replayed: the APIs authenticate with tokens and keys, not cookies)."""
        request = requests.Request(
            method=self.spec.method,
            url=self.url,
            headers={"User-Agent": self.user_agent, "Accept": "application/json",
                     **self.spec.headers},
        )
        prepared = self.requests_session.prepare_request(request)
        return prepared, "&" if urlsplit(prepared.url or "").query else "?"

    def build_request(self, params: Mapping[str, Any]) -> requests.PreparedRequest:
        template, separator = self._request_template
        prepared = template.copy()
        pairs = [(k, v) for k, v in params.items() if v is not None]
        if pairs:
            if all(type(v) is str or type(v) is int for _, v in pairs):
                prepared.url = f"{template.url}{separator}{urlencode(pairs)}"
            else:  # lists, booleans, floats: exactly as requests encodes them
                prepared.prepare_url(template.url, pairs)
        return prepared

    def send(self, params: Mapping[str, Any]) -> requests.Response:
        """One page, with the spec's retry policy and one renewal after a 401.

        Thread-safe: concurrent page fetches call it from worker threads."""
        policy = self.spec.retry
        auth = self.authenticator
        gate = self.analytics_tap.rate_gate
        retries = 0
        renewed = False
        while True:
            prepared = self.build_request(params)
            if auth is not None:
                prepared = auth(prepared)
            # Read after authenticating: at worst it is newer than the token sent, and
            # then the retry simply uses the newer token without renewing again.
            generation = auth.generation if isinstance(auth, OAuth2Authenticator) else 0
            with self._counter_lock:
                self.requests_made += 1
            retry_after: str | None = None
            status = 0
            try:
                with gate.slot():
                    response = self.requests_session.send(
                        prepared, timeout=self.timeout, allow_redirects=True
                    )
            except RETRIED_EXCEPTIONS as exc:
                failure = type(exc).__name__
            else:
                status = response.status_code
                if status < 300:
                    gate.success()
                    return response
                if status == 401 and isinstance(auth, OAuth2Authenticator) and not renewed:
                    self.logger.info("%s: HTTP 401, renewing the access token once", self.name)
                    auth.renew_after_unauthorized(generation)
                    renewed = True
                    continue
                if not policy.retries_status(status):
                    raise self.http_error(response)
                failure = f"HTTP {status}"
                retry_after = response.headers.get("Retry-After")
            if retries >= policy.max_retries:
                msg = (
                    f"stream {self.name}: GET {redact_url(prepared.url or self.url)} still failing "
                    f"({failure}) after {retries} retries; the API is unavailable or throttling: "
                    "try again later or raise error_handler.max_retries"
                )
                raise TapAnalyticsError(msg)
            retries += 1
            with self._counter_lock:
                self.retries_made += 1
            wait = policy.wait(retries, retry_after)
            if wait > retry.MAX_RETRY_AFTER_SECONDS:
                msg = (
                    f"stream {self.name}: {redact_url(prepared.url or self.url)} asks to wait "
                    f"{wait:.0f} s ({failure}); not waiting that long: run again later"
                )
                raise TapAnalyticsError(msg)
            self.logger.warning(
                "%s: %s from %s; retry %d of %d in %.1f s",
                self.name, failure, redact_url(prepared.url or self.url), retries,
                policy.max_retries, wait,
            )
            if status in retry.THROTTLE_STATUSES or retry_after is not None:
                gate.throttle(wait)  # every worker of the run waits, not only this one
            else:
                retry.sleep(wait)

    def credential_hint(self) -> str:
        """The setting a user should check after a 401/403, by auth type."""
        auth = (self.config.get("client") or {}).get("auth") or {}
        return {
            "bearer": "client.auth.token",
            "api_key": f"client.auth.api_key (sent as {auth.get('location', 'header')} "
            f"{auth.get('name') or 'api_key'!r}, see client.auth.name/location)",
            "oauth2": "client.auth.client_id/client_secret and the client's scopes "
            "(a fresh access token was refused)",
        }.get(str(auth.get("type")), "client.auth (the API requires credentials)")

    def http_error(self, response: requests.Response) -> TapAnalyticsError:
        status = response.status_code
        if status == 401:
            advice = f"the API rejected the credentials: check {self.credential_hint()}"
        elif status == 403:
            advice = (
                f"the credentials lack access to this resource: check {self.credential_hint()} "
                "and its permissions"
            )
        else:
            advice = STATUS_ADVICE.get(status) or (
                "a server error not configured for retry: check the API's status, or add the "
                "code to error_handler.retry_on_status_codes"
                if status >= 500
                else "check the resource's configuration against the API documentation"
            )
        msg = (
            f"stream {self.name}: GET {redact_url(response.url or self.url)} returned HTTP {status}"
            f" {response.reason or ''}".rstrip() + f"; {advice}"
        )
        return TapAnalyticsError(msg)

    def parse_page(self, response: requests.Response) -> tuple[list[dict[str, Any]], int | None]:
        """Records and announced total of one response; a clear error for anything else."""
        where = (
            f"stream {self.name}: GET {redact_url(response.url or self.url)} "
            f"(HTTP {response.status_code})"
        )
        try:
            # RFC 8259 §8.1: a parser may ignore a byte order mark, and some servers send one.
            body = JSON_DECODER.decode(response.content.removeprefix(b"\xef\xbb\xbf"))
        except (ValueError, UnicodeDecodeError):
            kind = response.headers.get("Content-Type", "unknown content type")
            msg = (
                f"{where} returned a body that is not valid "
                f"JSON ({kind}, {len(response.content)} bytes); check client.base_url and "
                "endpoint.path point at the JSON API, or retry if the response was cut off"
            )
            raise TapAnalyticsError(msg) from None
        records = self.select_records(body, where)
        total = None
        if (total_path := self.spec.paginator.total_path) and isinstance(body, dict):
            total = _as_int(_select(body, total_path))
        return records, total

    def select_records(self, body: Any, where: str) -> list[dict[str, Any]]:
        selector = self.spec.data_selector
        dotted = _dotted(selector)
        if dotted is not None:
            found = _select(body, dotted) if dotted else body
            if found is _MISSING or found is None:
                if found is None:
                    seen = f"{selector!r} is null"
                elif isinstance(body, dict):
                    keys = ", ".join(repr(key) for key in sorted(body)[:10])
                    seen = "the body has only: " + (keys or "no keys")
                else:
                    seen = f"the body is a {type(body).__name__}"
                msg = (
                    f"{where}: no list of records at data_selector {selector!r} ({seen}); "
                    "set endpoint.data_selector to where the API puts the list"
                )
                raise TapAnalyticsError(msg)
            items = found
        else:
            items = list(extract_jsonpath(selector, body))
        if not isinstance(items, list):
            msg = (
                f"{where}: data_selector {selector!r} points at a {type(items).__name__}, "
                "not a list of records; set endpoint.data_selector to the list"
            )
            raise TapAnalyticsError(msg)
        for item in items:
            if not isinstance(item, dict):
                msg = f"{where}: a record under {selector!r} is a {type(item).__name__}, not an object"
                raise TapAnalyticsError(msg)
        return items

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

    @staticmethod
    def fingerprint(records: list[dict[str, Any]], keys: list[Hashable] | None) -> int | None:
        """A digest of the page (of its keys when it has them), so the paginator can
        spot a repeated page."""
        if not records:
            return None
        if keys is None:
            return hash(msgspec.json.encode(records))
        return hash(tuple(keys))

    # --- the page loop --------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        return int(self.config.get("max_concurrent_requests") or DEFAULT_CONCURRENCY)

    def pages_ahead(self, paginator: Paginator) -> list[dict[str, Any]]:
        """Pages worth requesting before the paginator asks for them.

        With a total the guesses stop where the data does. Without one, a guess can
        land past the end, so it is made only when `speculative_paging` allows
        spending up to the window on requests beyond the data."""
        window = self.concurrency
        if window <= 1 or not (paginator.knows_total or self.config.get("speculative_paging")):
            return []
        return paginator.speculate(window)

    def request_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        paginator = self.spec.paginator.new()
        self._latest_cursor = None
        if not self._resume_paging(paginator):
            self._mark_done()
            return
        base = self.base_params(context)
        progress = _Progress(self)
        max_pages = int(self.config.get("max_pages_per_stream") or DEFAULT_MAX_PAGES)
        recent = _RecentKeys(DEDUPE_PAGES)
        last_total: int | None = None
        with self.get_http_request_counter() as counter, _PageFetcher(
            self, base, self.concurrency
        ) as fetcher:
            while True:
                self._checkpoint(paginator.params())
                response = fetcher.fetch(paginator.params(), self.pages_ahead(paginator))
                counter.increment()
                records, total = self.parse_page(response)
                self._record_tail = self._tail_at(datetime.now(UTC))
                if total is not None and last_total is not None and total != last_total:
                    # The collection changed mid-sync: pages fetched ahead may predate the
                    # change, and one announcing a smaller total did. Fetch afresh.
                    fetcher.drop_inflight()
                    if total < last_total:
                        response = self.send({**base, **paginator.params()})
                        records, total = self.parse_page(response)
                last_total = total if total is not None else last_total
                where = f"stream {self.name}: GET {redact_url(response.url or self.url)}"
                self._check_page_size(paginator, len(records), where)
                keys = self.page_keys(records)
                try:
                    more = paginator.advance(
                        Page(len(records), total, self.fingerprint(records, keys))
                    )
                except PagingError as exc:
                    raise TapAnalyticsError(f"{where}: {exc}") from None
                if more and paginator.pages >= max_pages:
                    msg = (
                        f"{where}: still paging after {paginator.pages} pages at "
                        f"{paginator.describe()}; the server never signals the end: set "
                        "endpoint.paginator.maximum_offset/maximum_page or max_pages_per_stream"
                    )
                    raise TapAnalyticsError(msg)
                yield from self._unseen(records, keys, recent)
                self._advance_bookmark()
                progress.update(len(records))
                if not more:
                    break
        self._mark_done()
        progress.done()

    # --- resumable paging -------------------------------------------------------------

    def _resume_paging(self, paginator: Paginator) -> bool:
        """Start where an interrupted run stopped: its last STATE names the page, or
        says the stream was complete. False: nothing left to sync."""
        saved = self.stream_state.get(PAGING_STATE_KEY)
        if not isinstance(saved, Mapping):
            return True
        if saved.get(DONE_MARK) and self.spec.write_disposition != "replace":
            self.logger.info(
                "%s: completed by the interrupted run this one resumes; not synced again",
                self.name,
            )
            return False
        if paginator.restore(saved):
            self.logger.info(
                "%s: resuming an interrupted sync at %s", self.name, paginator.describe()
            )
            latest = saved.get(RESUME_CURSOR_KEY)
            if latest is not None and self.replication_key:
                with contextlib.suppress(ValueError, TypeError):  # a hand-edited STATE
                    self._latest_cursor = (cursor_order(latest), latest)
        return True

    def _mark_done(self) -> None:
        """Until every selected stream is done, STATE says this one is, so a resumed run
        skips it; when the last one is done, the markers go and STATE is a plain one."""
        self.stream_state[PAGING_STATE_KEY] = {DONE_MARK: True}
        selected = [s for s in self.analytics_tap.streams.values() if s.selected]
        if all(s.stream_state.get(PAGING_STATE_KEY) == {DONE_MARK: True} for s in selected):
            for stream in selected:
                stream.stream_state.pop(PAGING_STATE_KEY, None)
        self.state_manager.is_flushed = False

    def _checkpoint(self, params: Mapping[str, Any]) -> None:
        """Emit STATE naming the page about to be read: every record before it has
        been emitted, so a resumed run re-reads at most this one page."""
        if not params:
            return
        checkpoint = dict(params)
        if self._latest_cursor is not None:
            checkpoint[RESUME_CURSOR_KEY] = self._latest_cursor[1]
        self.stream_state[PAGING_STATE_KEY] = checkpoint
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _unseen(
        self, records: list[dict[str, Any]], keys: list[Hashable] | None, recent: _RecentKeys
    ) -> list[dict[str, Any]]:
        """Drop records already emitted from a recent page: inserts at the head of the
        collection during an offset sync push read records onto later pages."""
        if keys is None or not records:
            return records
        seen = recent.seen
        fresh = [r for r, key in zip(records, keys, strict=True) if key not in seen]
        recent.add(keys)
        if len(fresh) < len(records):
            self.logger.info(
                "%s: %d records reappeared on a later page (records were inserted during the "
                "sync); each is emitted once",
                self.name, len(records) - len(fresh),
            )
        return fresh

    def _check_page_size(self, paginator: Paginator, count: int, where: str) -> None:
        expected = paginator.expected_size
        if expected and count > max(expected * OVERSIZED_PAGE_FACTOR, OVERSIZED_PAGE_FLOOR):
            msg = (
                f"{where} returned {count} records for a page of {expected}: the server "
                "ignores the page size; check endpoint.paginator.limit_param"
            )
            raise TapAnalyticsError(msg)

    # --- records --------------------------------------------------------------------

    def starting_value(self, context: Mapping[str, Any] | None) -> Any:
        """The bookmark, or the later of `start_date` and `incremental.initial_value`."""
        if not self.replication_key:
            return None
        value = self.get_starting_replication_key_value(context)
        initial = self.spec.incremental.initial_value if self.spec.incremental else None
        if initial is None:
            return value
        if value is None:
            return initial
        return value if cursor_order(value) >= cursor_order(initial) else initial

    @cached_property
    def _start_order(self) -> Any:
        start = self.starting_value(self.context)
        return None if start is None else cursor_order(start)

    @cached_property
    def _field_types(self) -> dict[str, frozenset[type]]:
        """For each typed field, the Python types a decoded JSON value may have."""
        fields: dict[str, frozenset[type]] = {}
        for name, prop in self.schema.get("properties", {}).items():
            allowed = _python_types(prop)
            if allowed is not None:
                fields[name] = allowed
        return fields

    @cached_property
    def _item_types(self) -> dict[str, frozenset[type]]:
        """For each array field whose items are typed, the types an item may have."""
        items: dict[str, frozenset[type]] = {}
        for name, prop in self.schema.get("properties", {}).items():
            item_schema = prop.get("items")
            if "array" in _types(prop) and isinstance(item_schema, Mapping):
                allowed = _python_types(item_schema)
                if allowed is not None:
                    items[name] = allowed
        return items

    def _conform(self, row: dict[str, Any]) -> None:
        """Make each value fit its declared type, converting only where nothing is lost
        (a number into a string field, a numeric string into a number field), and fail
        clearly otherwise: a target must never receive a record its schema refuses."""
        fields = self._field_types
        for name, value in row.items():
            allowed = fields.get(name)
            if allowed is None or type(value) in allowed:
                continue
            row[name] = self._converted(row, name, value, allowed, self.schema["properties"][name])
        for name, item_allowed in self._item_types.items():
            items = row.get(name)
            if type(items) is not list:
                continue
            for index, item in enumerate(items):
                if type(item) not in item_allowed:
                    items[index] = self._converted(
                        row, f"{name}[{index}]", item, item_allowed,
                        self.schema["properties"][name]["items"],
                    )

    def _converted(
        self,
        row: Mapping[str, Any],
        name: str,
        value: Any,
        allowed: frozenset[type],
        prop: Mapping[str, Any],
    ) -> Any:
        converted = _convert(value, allowed)
        if converted is _MISSING:
            wanted = "/".join(sorted(_types(prop)))
            msg = (
                f"stream {self.name}: record {self._describe(row)} from "
                f"{redact_url(self.url)} has {name}={str(value)[:40]!r} "
                f"({type(value).__name__}), but the schema says {wanted}; declare the "
                "field's real type in the resource's schema"
            )
            raise TapAnalyticsError(msg)
        return converted

    @cached_property
    def _known_fields(self) -> frozenset[str] | None:
        """The schema's fields, or None when the schema admits any field."""
        if self.schema.get("additionalProperties") not in (None, False):
            return None
        return frozenset(self.schema.get("properties", {}))

    def _drop_unknown_fields(self, row: dict[str, Any]) -> None:
        known = self._known_fields
        if known is None or known.issuperset(row):
            return
        unknown = [name for name in row if name not in known]
        for name in unknown:
            del row[name]
        new = set(unknown) - self._reported_unknown
        if new:
            self._reported_unknown |= new
            self.logger.warning(
                "%s: dropping fields the schema does not declare: %s (add them to the "
                "resource's schema to keep them)",
                self.name, ", ".join(sorted(new)),
            )

    def post_process(
        self, row: dict[str, Any], context: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        for key in self.spec.primary_key:
            if row.get(key) is None:
                msg = (
                    f"stream {self.name}: a record from {redact_url(self.url)} has no "
                    f"{key!r} (its primary key); set primary_key to a field every record has"
                )
                raise TapAnalyticsError(msg)
        self._drop_unknown_fields(row)
        self._conform(row)
        key = self.replication_key or ""
        if key:
            value = row.get(key)
            if value is None:
                msg = (
                    f"stream {self.name}: record {self._describe(row)} from "
                    f"{redact_url(self.url)} has no {key!r} (its replication key); set "
                    "endpoint.incremental.cursor_path to a field every record has, or "
                    "remove incremental"
                )
                raise TapAnalyticsError(msg)
            try:
                order = cursor_order(value)
            except ValueError:
                msg = (
                    f"stream {self.name}: record {self._describe(row)} has an unreadable "
                    f"{key!r} value {str(value)[:40]!r}; the replication key must be a "
                    "date-time or a number"
                )
                raise TapAnalyticsError(msg) from None
            start = self._start_order
            if start is not None and order <= start:
                return None
            latest = self._latest_cursor
            if latest is None or order > latest[0]:
                self._latest_cursor = (order, value)
        return row

    # --- the record path: writing and bookmarking ------------------------------------

    @cached_property
    def _direct_output(self) -> tuple[SingerOutput, bytes] | None:
        """The writer and the start of every RECORD line of this stream, when records
        go out as they are; None when the SDK must shape them (stream maps, flattening,
        deselected fields, another message writer)."""
        writer, maps = self._tap.message_writer, self.stream_maps
        if not isinstance(writer, SingerOutput):
            return None
        plain = (
            len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and not maps[0].flattening_enabled
            and maps[0].stream_alias == self.name
            and all(self.mask.values())
        )
        if not plain:
            return None
        return writer, b'{"type":"RECORD","stream":' + singer_encoder.encode(self.name) + b',"record":'

    def _tail_at(self, extracted: datetime) -> bytes:
        version = b"" if self._stream_version is None else b',"version":%d' % self._stream_version
        return version + b',"time_extracted":' + singer_encoder.encode(extracted) + b"}\n"

    def _sync_records(
        self, context: Mapping[str, Any] | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """The SDK's record loop; records read before a failure still reach the target
        (the writer buffers them, see `SingerOutput`)."""
        try:
            yield from super()._sync_records(context, write_messages=write_messages)
        finally:
            writer = self._tap.message_writer
            if isinstance(writer, SingerOutput):
                writer.flush()

    def _write_record_message(self, record: dict[str, Any]) -> None:
        direct = self._direct_output
        if direct is None:
            super()._write_record_message(record)
            return
        writer, head = direct
        writer.write_record(head, record, self._record_tail)
        self.state_manager.is_flushed = False

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        """Per page instead, in `_advance_bookmark`: `post_process` tracks the latest
        value of the records it lets through."""

    def _advance_bookmark(self) -> None:
        """Move the bookmark to the latest replication value emitted so far. It stays a
        progress marker until the stream completes, as in the SDK; a resumed sync
        starts from the `paging` checkpoint, not from it."""
        if self._latest_cursor is None or not self.replication_key:
            return
        markers = self.stream_state.setdefault(PROGRESS_MARKERS, {"Note": PROGRESS_NOTE})
        markers["replication_key"] = self.replication_key
        markers["replication_key_value"] = self._latest_cursor[1]

    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Mapping[str, Any] | None = None,
        partition_context: Mapping[str, Any] | None = None,
    ) -> None:
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)

    def _describe(self, row: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={row.get(k)!r}" for k in self.spec.primary_key)


class _RecentKeys:
    """The primary keys of the last few pages: bounded memory, whatever the stream size.

    `seen` maps each key to the number of the last page that held it, so a membership
    test is one dict lookup; a page leaving the window takes its keys along, unless a
    later page held them too."""

    def __init__(self, pages: int) -> None:
        self.window = pages
        self.seen: dict[Hashable, int] = {}
        self._pages: deque[list[Hashable]] = deque()
        self._number = 0

    def add(self, keys: list[Hashable]) -> None:
        self._number += 1
        self.seen.update(dict.fromkeys(keys, self._number))
        self._pages.append(keys)
        if len(self._pages) > self.window:
            leaving = self._number - self.window
            seen = self.seen
            for key in self._pages.popleft():
                if seen.get(key) == leaving:
                    del seen[key]


class _PageFetcher:
    """Fetches the current page, with guessed next pages requested ahead.

    `window` workers send the requests, so at most `window` are in flight; up to
    `window` guesses are queued beyond the current page, so a worker that finishes one
    starts the next at once and the pool stays busy while records are processed.

    The paginator stays the only judge of what comes next: a guessed page is used only
    if its parameters are exactly what the paginator asks for when it gets there, so
    records come out in server order and the stop rules are the sequential ones. A
    wrong guess (the server's page size changed) is dropped and fetched again.

    How far ahead it looks adapts: when a page is still in flight as the records of
    the previous one are done, latency dominates and the look-ahead doubles (up to the
    window); when pages keep arriving before they are needed, record processing
    dominates and the look-ahead shrinks, down to none (requests from the main thread,
    with an occasional probe), since threads would only compete for the interpreter.
    """

    def __init__(self, stream: AnalyticsStream, base: Mapping[str, Any], window: int) -> None:
        self.stream = stream
        self.base = dict(base)
        self.max_ahead = window
        self.ahead = self.max_ahead
        self._early = 0
        self._since_probe = 0
        self.pool = ThreadPoolExecutor(window, f"{stream.name}-page") if window > 1 else None
        self.inflight: deque[tuple[tuple[tuple[str, Any], ...], Future[requests.Response]]] = deque()

    def __enter__(self) -> _PageFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop_inflight()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def fetch(self, current: Mapping[str, Any], ahead: list[dict[str, Any]]) -> requests.Response:
        if self.pool is None:
            return self.stream.send({**self.base, **current})
        future: Future[requests.Response] | None = None
        if self.inflight and self.inflight[0][0] == _key(current):
            future = self.inflight.popleft()[1]
        elif self.inflight:
            self.drop_inflight()
        kept = min(len(self.inflight), len(ahead))
        if [key for key, _ in self.inflight][:kept] != [_key(p) for p in ahead[:kept]] or (
            len(self.inflight) > len(ahead)
        ):
            self.drop_inflight()
        if self.ahead == 0:
            self._probe()
        for params in ahead[len(self.inflight) : self.ahead]:
            self.inflight.append((_key(params), self.pool.submit(self._send, params)))
        if future is None:
            return self.stream.send({**self.base, **current})
        self._adapt(ready=future.done())
        return future.result()

    def _adapt(self, *, ready: bool) -> None:
        if not ready:
            self._early = 0
            self.ahead = min(self.max_ahead, max(1, self.ahead * 2))
            return
        self._early += 1
        if self._early >= ADAPT_AFTER_EARLY_PAGES and self.ahead > 0:
            self._early = 0
            self.ahead -= 1

    def _probe(self) -> None:
        """At zero look-ahead (pages come faster than records are processed), look one
        page ahead now and then, to notice when latency starts to matter again."""
        self._since_probe += 1
        if self._since_probe >= PROBE_EVERY_PAGES:
            self._since_probe = 0
            self.ahead = 1
            self._early = ADAPT_AFTER_EARLY_PAGES - 1  # one early page and it is 0 again

    def _send(self, params: Mapping[str, Any]) -> requests.Response:
        return self.stream.send({**self.base, **params})

    def drop_inflight(self) -> None:
        for _, future in self.inflight:
            future.cancel()
        self.inflight.clear()


def _key(params: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(params.items()))


_MISSING = object()
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def _convert(value: Any, allowed: frozenset[type]) -> Any:
    """`value` as one of the `allowed` types without loss, else `_MISSING`."""
    if isinstance(value, bool):
        return _MISSING
    if isinstance(value, int | float | decimal.Decimal) and str in allowed:
        return str(value)
    if isinstance(value, float | decimal.Decimal) and int in allowed and value == int(value):
        return int(value)
    if isinstance(value, str) and (decimal.Decimal in allowed or int in allowed):
        if value.strip() == "" and type(None) in allowed:
            return None
        if _NUMBER.match(value):
            number = decimal.Decimal(value)
            if decimal.Decimal in allowed:
                return number
            if number == int(number):
                return int(number)
    if value == "" and type(None) in allowed:
        return None
    return _MISSING


def _dotted(selector: str) -> str | None:
    """`data`, `$.data`, `$.data[*]` → a dotted path; None for other JSONPath."""
    path = selector.strip()
    if path in {"$", "$[*]"}:
        return ""
    if path.startswith("$."):
        path = path[2:]
    path = path.removesuffix("[*]")
    if all(part.replace("_", "").replace("-", "").isalnum() for part in path.split(".")):
        return path
    return None


def _select(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(body, dict) or part not in body:
            return _MISSING
        body = body[part]
    return body


def _as_int(value: Any) -> int | None:
    if value is _MISSING or value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, decimal.Decimal, float),
    "boolean": (bool,), "object": (dict,), "array": (list,), "null": (type(None),),
}


def _python_types(prop: Mapping[str, Any]) -> frozenset[type] | None:
    """The Python types a decoded JSON value of schema `prop` may have; None when the
    schema does not pin them down (no type, or a type this check does not know)."""
    kinds = _types(prop)
    if not kinds or not all(k in _JSON_TYPES for k in kinds):
        return None
    return frozenset(t for k in kinds for t in _JSON_TYPES[k])


def _types(prop: Mapping[str, Any]) -> list[str]:
    kind = prop.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def cursor_order(value: Any) -> tuple[int, Any]:
    """A sortable key for replication values: numbers by value, date-times by instant."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | decimal.Decimal):
        return (0, decimal.Decimal(value))
    if isinstance(value, datetime):
        return (1, value if value.tzinfo else value.replace(tzinfo=UTC))
    if type(value) is str and not value.isdigit():
        try:  # the common case first: an ISO 8601 timestamp
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return (1, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    text = str(value)
    if _NUMBER.match(text):
        return (0, decimal.Decimal(text))
    moment = parse_datetime(text)
    return (1, moment if moment.tzinfo else moment.replace(tzinfo=UTC))


class _Progress:
    """Logs records and records/s every few seconds while a stream syncs."""

    def __init__(self, stream: AnalyticsStream) -> None:
        self.stream = stream
        self.started = self.last = time.monotonic()
        self.records = 0

    def update(self, count: int) -> None:
        self.records += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL_SECONDS:
            self.last = now
            self._log("progress")

    def done(self) -> None:
        self._log("done")

    def _log(self, what: str) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        self.stream.logger.log(
            logging.INFO,
            "%s: %s, %d records fetched in %.1f s (%.0f records/s), %d requests, %d retries",
            self.stream.name, what, self.records, elapsed, self.records / elapsed,
            self.stream.requests_made, self.stream.retries_made,
        )



"""The base stream: the SDK's hooks and the HTTP policy of every resource, written once.

Every stream of a run is a subclass of `AnalyticsStream` made from its resolved
`ResourceSpec` (see `tap_analytics.streams`); built-in resources add declarations, never
behaviour. One page is three steps -- `build_request` (pure), `send` (I/O with retries,
401 renewal and the shared rate gate), `parse_page` (pure) -- and everything else lives
in its own room: the page loop (`fetch`), the record path (`records`), resumable paging
state (`resume`).

The SDK keeps what it does well (catalog and selection, STATE bookkeeping, stream maps,
flattening, the record loop); three of its per-record steps are replaced because they
cost more than everything else a record needs:

* `_write_record_message`: when no stream map, flattening or deselected field applies,
  a record is encoded straight into the output buffer after a prefix built once (the
  SDK builds a message object, walks the selection mask and the maps);
* `_increment_stream_state`: the bookmark moves once per page, to the page's latest
  value by instant (the SDK compares every record's value as a string, so `...00.5Z`
  sorts before `...00Z` and offsets are ignored);
* `_process_record`: these streams have no children and no partitions.
The first and the last fall back to the SDK's own step whenever their shortcut does not
apply; bookmarks are always kept per page. Those hooks are `records.RecordPath`'s.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Hashable, Iterable, Mapping
from datetime import UTC, datetime
from functools import cache, cached_property
from importlib import resources
from typing import Any, ClassVar

import requests
from singer_sdk import Tap
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import RESTStream

from tap_analytics import redirects, resume, retry
from tap_analytics.auth import OAuth2Authenticator, credential_hint
from tap_analytics.config import ResourceSpec
from tap_analytics.context import RunContext
from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.fetch import (
    END_OF_DATA_STATUSES,
    PageReader,
    PageWalk,
    ParsedPage,
    Progress,
    RecentKeys,
)
from tap_analytics.instants import cursor_order
from tap_analytics.paging import PageRequest
from tap_analytics.paging.http import prepare_page, request_template
from tap_analytics.records import RecordPath, RecordShaper, record_line_tail

RETRIED_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

#: A stream with more pages than this is taken for a server that never stops paging.
DEFAULT_MAX_PAGES = 1_000_000

#: How many recent pages' keys are remembered to drop records that shift across pages.
DEDUPE_PAGES = 8

STATUS_ADVICE = {
    400: "check the endpoint's params and paginator settings",
    404: "check the resource's endpoint.path and client.base_url",
    405: "check endpoint.method",
    410: "the endpoint is gone: check endpoint.path",
}

class AnalyticsStream(RecordPath, RESTStream[Any]):
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
        )
        #: The end of every RECORD line of the current page (its time_extracted).
        self._record_tail = b""

    # --- settings the SDK asks for -------------------------------------------------

    @property
    def url_base(self) -> str:
        return self.run.base_url

    @cached_property
    def url(self) -> str:
        return self.url_base + "/" + self.spec.path.lstrip("/")

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
        """What every page request shares, prepared once (see `request_template`)."""
        headers = {"User-Agent": self.user_agent, "Accept": "application/json", **self.spec.headers}
        return request_template(self.requests_session, self.spec.method, self.url, headers)

    def build_request(self, params: Mapping[str, Any] | PageRequest) -> requests.PreparedRequest:
        """One page's request: the template with its query parameters, body (a copy of
        `endpoint.json` with the paginator's body values, or `endpoint.data`) or next URL."""
        template, separator = self._request_template
        return prepare_page(
            template, separator, params, json_body=self.spec.json, data_body=self.spec.data
        )

    def send(self, params: Mapping[str, Any] | PageRequest) -> requests.Response:
        """One page, with the spec's retry policy and one renewal after a 401.

        Thread-safe: concurrent page fetches call it from worker threads."""
        policy = self.spec.retry
        auth = self.authenticator
        gate = self.run.rate_gate
        retries = 0
        renewed = False
        while True:
            prepared = self.build_request(params)
            if auth is not None:
                prepared = auth(prepared)
            # Read after authenticating: at worst it is newer than the token sent, and
            # then the retry simply uses the newer token without renewing again.
            generation = auth.generation if isinstance(auth, OAuth2Authenticator) else 0
            retry_after: str | None = None
            status = 0
            unreachable = False
            try:
                response = self._send_following_redirects(prepared, auth)
            except requests.exceptions.SSLError as exc:
                raise self.connection_error(prepared, exc, retries=0) from None
            except RETRIED_EXCEPTIONS as exc:
                failure = type(exc).__name__
                unreachable = isinstance(exc, requests.ConnectionError)
            else:
                status = response.status_code
                if status < 300 or self.hands_back(response, params):
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
                if unreachable:
                    raise self.connection_error(prepared, failure, retries=retries)
                msg = (
                    f"stream {self.name}: GET {redact_url(prepared.url or self.url)} still failing "
                    f"({failure}) after {retries} retries; the API is unavailable or throttling: "
                    "try again later or raise error_handler.max_retries"
                )
                raise TapAnalyticsError(msg)
            retries += 1
            with self._counter_lock:
                self.retries_made += 1
            # A host that does not answer gets an exponential backoff even where the API's
            # statuses are retried after a constant wait (seed 004: 62 s each).
            wait = policy.connection_wait(retries) if unreachable else policy.wait(retries, retry_after)
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

    def _send_following_redirects(
        self, prepared: requests.PreparedRequest, auth: APIAuthenticatorBase | None
    ) -> requests.Response:
        """Send without letting `requests` follow redirects: a redirect within the
        request's origin is followed with the credentials applied again; one to another
        host, port or scheme is refused, so no credential the tap added leaves the API."""
        gate = self.run.rate_gate
        for _ in range(redirects.MAX_REDIRECTS + 1):
            with self._counter_lock:
                self.requests_made += 1
            with gate.slot():
                response = self.requests_session.send(
                    prepared, timeout=self.timeout, allow_redirects=False
                )
            url = prepared.url or self.url
            target = redirects.redirect_target(url, response)
            if target is None:
                return response
            if not redirects.same_origin(url, target):
                msg = (
                    f"stream {self.name}: GET {redact_url(url)} redirects (HTTP "
                    f"{response.status_code}) to {redact_url(target)}, another host, port or "
                    "scheme; the tap never sends credentials there: set client.base_url (or "
                    "endpoint.path) to the address the API redirects to"
                )
                raise TapAnalyticsError(msg)
            prepared = redirects.redirected_request(prepared, target, response.status_code)
            if auth is not None:
                prepared = auth(prepared)
        msg = (
            f"stream {self.name}: GET {redact_url(prepared.url or self.url)} redirected more "
            f"than {redirects.MAX_REDIRECTS} times; check client.base_url and endpoint.path"
        )
        raise TapAnalyticsError(msg)

    def connection_error(
        self, prepared: requests.PreparedRequest, failure: object, *, retries: int
    ) -> TapAnalyticsError:
        """The one line for an API that cannot be reached (refused, DNS, TLS, timeout)."""
        url = redact_url(prepared.url or self.url)
        if isinstance(failure, requests.exceptions.SSLError):
            what = "the TLS handshake failed (certificate not trusted or invalid)"
            advice = "check client.base_url, or set ca_bundle for a private CA"
        else:
            what = f"cannot connect ({failure}) after {retries} retries"
            advice = (
                f"check client.base_url ({redact_url(self.url_base)}) and that the host is "
                "reachable from here"
            )
        return TapAnalyticsError(f"stream {self.name}: GET {url}: {what}; {advice}")

    def credential_hint(self) -> str:
        """The setting a user should check after a 401/403, by the stream's auth type."""
        spec = self.spec
        if spec.auth_override:
            return credential_hint(spec.auth, f"resources.{spec.name}.endpoint.auth")
        return credential_hint((self.config.get("client") or {}).get("auth"), "client.auth")

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
        start = self.starting_value(context)
        shaper.start_order = None if start is None else cursor_order(start)
        outcome, latest = resume.resume(
            self.stream_state, paginator, rerun_done=self.spec.write_disposition == "replace"
        )
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
        progress = Progress(self.name, self.logger, lambda: (self.requests_made, self.retries_made))
        walk = PageWalk(
            self,
            paginator,
            self.base_params(context),
            window=self.run.concurrency,
            speculative=bool(self.config.get("speculative_paging")),
            max_pages=int(self.config.get("max_pages_per_stream") or DEFAULT_MAX_PAGES),
            before_page=self._checkpoint,
        )
        recent = RecentKeys(DEDUPE_PAGES)
        with self.get_http_request_counter() as counter:
            for page in walk:
                counter.increment()
                self._record_tail = record_line_tail(datetime.now(UTC), self._stream_version)
                yield from recent.unseen(page, self.logger, self.name)
                self._advance_bookmark()
                progress.update(len(page.records))
        self._mark_done()
        progress.done()

    def _checkpoint(self, params: Mapping[str, Any]) -> None:
        """Emit STATE naming the page about to be read: every record before it has
        been emitted, so a resumed run re-reads at most this one page."""
        if not params:
            return
        latest = self.shaper.latest
        resume.checkpoint(self.stream_state, params, latest[1] if latest else None)
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _mark_done(self) -> None:
        """Until every selected stream is done, STATE says this one is, so a resumed run
        skips it; when the last one is done, the markers go and STATE is a plain one."""
        selected = [s.stream_state for s in self._tap.streams.values() if s.selected]
        resume.mark_done(self.stream_state, selected)
        self.state_manager.is_flushed = False

    def _advance_bookmark(self) -> None:
        """Move the bookmark to the latest replication value emitted so far. A resumed
        sync starts from the `paging` checkpoint, not from it."""
        latest = self.shaper.latest
        if latest is not None and self.replication_key:
            resume.progress_bookmark(self.stream_state, self.replication_key, latest[1])

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

@cache
def _schema_text(schema_file: str) -> str:
    return resources.files("tap_analytics").joinpath(f"schemas/{schema_file}").read_text()


def load_schema(schema_file: str) -> dict[str, Any]:
    """A built-in schema, fresh each call (callers may change it)."""
    schema: dict[str, Any] = json.loads(_schema_text(schema_file))
    return schema

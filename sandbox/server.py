"""One local HTTP server that imitates the five analytics APIs the tap reads, and the forum.

Tests, the demo and the benchmarks need a real HTTP peer whose behaviour they
control exactly (auth flows, paging edge cases, faults, data changes), so the
sandbox is standard library only and deterministic: records come from
:mod:`sandbox.data` and :mod:`sandbox.forum_data`, timestamps from a logical
clock, faults from a seeded RNG or an explicit queue.

This module owns :class:`SandboxServer`'s options, lifecycle, introspection and
request dispatch; the rooms it is assembled from are :mod:`sandbox.transport`
(HTTP plumbing), :mod:`sandbox.serving` (latency, faults, counters),
:mod:`sandbox.auth` (secrets, token endpoint), :mod:`sandbox.seed_api` (the seed
APIs' paging and edits), :mod:`sandbox.forum` (the forum API) and
:mod:`sandbox.control` (the control endpoint).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

from .auth import OAUTH_APIS, TOKEN_APIS, TOKEN_PATH, _secret
from .collection import Segment, _Collection, _parse_since
from .control import CONTROL_PREFIX, handle_control
from .data import APIS, RESOURCE_KEYS
from .forum import FORUM_AUTH_MODES, ForumMixin, check_forum_auth
from .forum_data import FORUM_API, ForumStore
from .seed_api import DEFAULT_RECORDS, SeedApiMixin
from .serving import DEFAULT_FAIL_STATUSES, FAULT_KINDS, Fault, _check_fault
from .transport import HOST, _BadRequest, _Handler, _html, _HTTPServer, _json, _Response

#: Every API the server answers under ``/<api>``: the five seed APIs, then the forum.
ALL_APIS: tuple[str, ...] = (*APIS, FORUM_API)
#: Options settable through the constructor, :meth:`SandboxServer.configure` and the control endpoint.
OPTIONS = (
    "include_total",
    "max_page_size",
    "ignore_paging",
    "endless",
    "latency_ms",
    "token_ttl",
    "fail_rate",
    "fail_statuses",
    "fault_seed",
    "retry_after",
    "retry_after_date",
    "slow_seconds",
    "start_param",
    "api_key_header",
    "log_requests",
    "client_auth",
    "forum_auth",
)

__all__ = [  # what callers imported from this module before it was split, plus the forum's names
    "ALL_APIS",
    "CONTROL_PREFIX",
    "DEFAULT_FAIL_STATUSES",
    "DEFAULT_RECORDS",
    "FAULT_KINDS",
    "FORUM_AUTH_MODES",
    "HOST",
    "OAUTH_APIS",
    "OPTIONS",
    "TOKEN_PATH",
    "Fault",
    "SandboxServer",
    "Segment",
    "_BadRequest",
    "_Collection",
    "_HTTPServer",
    "_Handler",
    "_Response",
    "_check_fault",
    "_html",
    "_json",
    "_parse_since",
    "_secret",
]


class SandboxServer(ForumMixin, SeedApiMixin):
    """All six fake APIs on one free local port; see the package docstring for usage."""

    RESOURCE_KEYS = RESOURCE_KEYS
    APIS = APIS

    def __init__(
        self,
        *,
        port: int = 0,
        records: int | Mapping[str, int] = DEFAULT_RECORDS,
        include_total: bool = True,
        max_page_size: int | None = None,
        ignore_paging: bool = False,
        endless: bool = False,
        latency_ms: float = 0.0,
        token_ttl: float = 3600.0,
        fail_rate: float = 0.0,
        fail_statuses: Iterable[Fault] = DEFAULT_FAIL_STATUSES,
        fault_seed: int = 0,
        retry_after: str | float = "1",
        retry_after_date: bool = False,
        slow_seconds: float = 2.0,
        start_param: str = "updated_since",
        api_key_header: str = "api_key",
        log_requests: bool = True,
        client_auth: str = "any",
        forum_auth: str = "none",
    ) -> None:
        self.port = port
        self._lock = threading.RLock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._collections: dict[str, _Collection] = {}
        self._clock = 0
        self.include_total = include_total
        self.max_page_size = max_page_size
        self.ignore_paging = ignore_paging
        self.endless = endless
        self.latency_ms = latency_ms
        self.token_ttl = token_ttl
        self.fail_rate = fail_rate
        self.fail_statuses: list[Fault] = [_check_fault(f) for f in fail_statuses]
        self.fault_seed = fault_seed
        self.retry_after = retry_after
        self.retry_after_date = retry_after_date
        self.slow_seconds = slow_seconds
        self.start_param = start_param
        #: How the token endpoint lets clients authenticate: "any" (form body or HTTP
        #: Basic), "basic" only (all RFC 6749 §2.3.1 requires) or "body" only.
        self.client_auth = client_auth
        self.api_key_header = api_key_header
        self.log_requests = log_requests
        self._fault_rng = random.Random(fault_seed)
        self._injected: list[tuple[str, deque[Fault]]] = []
        self._log: list[dict[str, Any]] = []
        self._data_counts: dict[str, int] = {}
        #: Data requests being served right now, and the most there ever were at once.
        self._in_progress = 0
        self._peak_in_progress = 0
        self._token_counts: dict[str, int] = {}
        self._request_count = 0
        self._init_credentials()
        #: Credential the forum's data endpoints require; one of FORUM_AUTH_MODES.
        self.forum_auth = check_forum_auth(forum_auth)
        self._forum_store = ForumStore()
        self.set_records(records)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> SandboxServer:
        """Bind 127.0.0.1:port (0 = any free port) and serve from a daemon thread."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer(self, self.port)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and free the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("sandbox server is not started")
        return f"http://{HOST}:{self.port}"

    def api_url(self, api: str) -> str:
        if api not in ALL_APIS:
            raise KeyError(f"unknown api {api!r}; known: {ALL_APIS}")
        return f"{self.base_url}/{api}"

    # -------------------------------------------------------- configuration
    def configure(self, **options: Any) -> None:
        """Change server options at runtime (same names as the constructor's)."""
        unknown = set(options) - set(OPTIONS)
        if unknown:
            raise ValueError(f"unknown sandbox option(s): {sorted(unknown)}")
        with self._lock:
            for name, value in options.items():
                checked = [_check_fault(f) for f in value] if name == "fail_statuses" else value
                if name == "forum_auth":
                    checked = check_forum_auth(value)
                setattr(self, name, checked)
                if name == "fault_seed":
                    self._fault_rng = random.Random(value)

    # ---------------------------------------------------------- introspection
    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Snapshot of every logged request (control endpoint calls excluded)."""
        with self._lock:
            return list(self._log)

    def data_request_count(self, resource_key: str) -> int:
        with self._lock:
            return self._data_counts.get(resource_key, 0)

    @property
    def peak_concurrency(self) -> int:
        """The most data requests that were being served at the same moment."""
        with self._lock:
            return self._peak_in_progress

    @property
    def token_requests(self) -> dict[str, int]:
        with self._lock:
            return {api: self._token_counts.get(api, 0) for api in TOKEN_APIS}

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._data_counts.clear()
            self._token_counts.clear()
            self._request_count = 0
            self._peak_in_progress = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._request_count,
                "token_requests": self.token_requests,
                "data_requests": dict(self._data_counts),
                "peak_concurrency": self._peak_in_progress,
                "records": {k: len(c) for k, c in self._collections.items()},
                FORUM_API: self._forum_store.counts,
            }

    # -------------------------------------------------------------- dispatch
    def _handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> _Response:
        path, _, qs = raw_path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path[len(CONTROL_PREFIX) :], body)
        query = dict(parse_qsl(qs, keep_blank_values=True))
        api, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest.rstrip("/")
        resource: str | None = None
        if api not in ALL_APIS:
            resp = _json(404, {"error": "not_found"})
        elif api in TOKEN_APIS and rest == TOKEN_PATH:
            resp = self._token(api, method, path, headers, body)
        elif api == FORUM_API:
            resp, resource = self._forum(method, rest, path, query, headers, body)
        else:
            resp, resource = self._data(api, rest, method, path, query, headers)
        with self._lock:
            self._request_count += 1
            if self.log_requests:
                self._log.append(
                    {
                        "method": method,
                        "path": path,
                        "query": query,
                        "status": 0 if resp.drop else resp.status,
                        "api": api if api in ALL_APIS else None,
                        "resource": resource,
                        "headers": dict(headers.items()),
                    }
                )
        return resp

    def _control(self, method: str, name: str, body: bytes) -> _Response:
        """Out-of-band control for separate processes (the demo): never logged, no auth."""
        return handle_control(self, method, name, body)

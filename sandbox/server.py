"""One local HTTP server that imitates all five analytics APIs the tap reads.

Tests, the demo and the benchmarks need a real HTTP peer whose behaviour they
control exactly (auth flows, paging edge cases, faults, data changes), so this
module is standard library only and deterministic: records come from
:mod:`sandbox.data`, timestamps from a logical clock, faults from a seeded RNG
or an explicit queue.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import hashlib
import json
import math
import random
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from .data import (
    APIS,
    BASE_EPOCH,
    RESOURCE_KEYS,
    ROUTES,
    SPECS_BY_KEY,
    STEP,
    UPDATE_LAG,
    Record,
    ResourceSpec,
    iso,
)

HOST = "127.0.0.1"
DEFAULT_RECORDS = 250
DEFAULT_FAIL_STATUSES: tuple[int | str, ...] = (429, 420, 500, 502, 503, 504)
#: Fault kinds other than a bare HTTP status code.
FAULT_KINDS = frozenset({"drop", "slow", "html200", "truncated", "no_data", "null_data"})
OAUTH_APIS = frozenset({"devplatform", "generic", "helpdesk"})
TOKEN_PATH = "/oauth/token"
CONTROL_PREFIX = "/_control/"
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
)

Fault = int | str
Segment = list[Record] | range
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _secret(kind: str, api: str, n: int = 0) -> str:
    """Distinctive, reproducible secret-looking strings tests can grep output for."""
    return hashlib.sha256(f"tap-analytics-sandbox:{kind}:{api}:{n}".encode()).hexdigest()[:20]


def _check_fault(fault: Fault) -> Fault:
    if isinstance(fault, bool) or not (
        (isinstance(fault, int) and 100 <= fault <= 599) or (isinstance(fault, str) and fault in FAULT_KINDS)
    ):
        raise ValueError(f"unknown fault {fault!r}: use an HTTP status or one of {sorted(FAULT_KINDS)}")
    return fault


def _parse_since(value: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (naive means UTC) or of a plain number."""
    v = value.strip()
    try:
        return float(v)
    except ValueError:
        pass
    dt = datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith(("Z", "z")) else v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class _BadRequest(Exception):
    """A query parameter the sandbox cannot make sense of (answered with 400)."""


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  #: close the socket without answering


def _json(status: int, obj: Any, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    return _Response(status, _ENCODER.encode(obj).encode(), headers=list(headers))


def _html(status: int, title: str) -> _Response:
    body = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><hr>sandbox-proxy</body></html>"
    return _Response(status, body.encode(), content_type="text/html; charset=utf-8")


class _Collection:
    """Current contents of one resource.

    Generated records ``0..base_count-1`` are never stored; only edits are:
    ``overrides`` (updated generated records), ``head`` (records inserted at the
    start) and ``tail`` (appended records). Each stored item carries its cursor
    (epoch seconds of ``updated_at``/``timestamp``, possibly hidden) for
    ``since`` filtering.
    """

    def __init__(self, spec: ResourceSpec, count: int) -> None:
        self.spec = spec
        self.base_count = count
        self.head: list[tuple[Record, int]] = []
        self.tail: list[tuple[Record, int]] = []
        self.overrides: dict[int, tuple[Record, int]] = {}
        self.next_index = count  #: index (id - 1) the next new record gets
        self.revision = 0  #: number of mutate() calls, seeds their choices
        self._views: dict[float | None, list[Segment]] = {}

    def __len__(self) -> int:
        return len(self.head) + self.base_count + len(self.tail)

    def _base(self, i: int) -> Record:
        o = self.overrides.get(i)
        return o[0] if o is not None else self.spec.generate(i)

    def item_at(self, pos: int) -> tuple[Record, int]:
        h = len(self.head)
        if pos < h:
            return self.head[pos]
        i = pos - h
        if i < self.base_count:
            o = self.overrides.get(i)
            return o if o is not None else (self.spec.generate(i), self.spec.base_cursor(i))
        return self.tail[i - self.base_count]

    def set_at(self, pos: int, item: tuple[Record, int]) -> None:
        h = len(self.head)
        if pos < h:
            self.head[pos] = item
        elif pos - h < self.base_count:
            self.overrides[pos - h] = item
        else:
            self.tail[pos - h - self.base_count] = item
        self._views.clear()

    def add(self, items: list[tuple[Record, int]], at_head: bool) -> None:
        if at_head:
            self.head[:0] = items
        else:
            self.tail.extend(items)
        self._views.clear()

    def view(self, since: float | None) -> list[Segment]:
        """The (filtered) collection as segments, cached until the next edit."""
        v = self._views.get(since)
        if v is None:
            if len(self._views) > 256:
                self._views.clear()
            v = self._views[since] = self._build_view(since)
        return v

    def _build_view(self, since: float | None) -> list[Segment]:
        n = self.base_count
        if since is None:
            return [[r for r, _ in self.head], range(n), [r for r, _ in self.tail]]
        # Generated cursors grow with the index and edits only move cursors
        # forward, so below index k only overridden records can still match.
        lag = 0 if self.spec.cursor_is_created else UPDATE_LAG
        k = min(n, max(0, math.ceil((since - BASE_EPOCH - lag) / STEP)))
        low = [
            self.overrides[i][0] for i in sorted(self.overrides) if i < k and self.overrides[i][1] >= since
        ]
        return [
            [r for r, c in self.head if c >= since],
            low,
            range(k, n),
            [r for r, c in self.tail if c >= since],
        ]

    def page(self, start: int, count: int, since: float | None) -> tuple[list[Record], int]:
        """Records at positions ``start..start+count-1`` of the view, and the view's size."""
        segments = self.view(since)
        total = sum(len(s) for s in segments)
        out: list[Record] = []
        stop = start + count
        pos = 0
        for seg in segments:
            n = len(seg)
            if pos >= stop:
                break
            if pos + n > start:
                a, b = max(start - pos, 0), min(stop - pos, n)
                if isinstance(seg, range):
                    out.extend(self._base(i) for i in seg[a:b])
                else:
                    out.extend(seg[a:b])
            pos += n
        return out, total

    def all_records(self) -> list[Record]:
        return self.page(0, len(self), None)[0]


class _HTTPServer(ThreadingHTTPServer):
    """Threaded server tuned for benchmarks: many queued connections, no joins on close."""

    daemon_threads = True
    block_on_close = False  # keep-alive clients would otherwise block stop()
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, app: SandboxServer, port: int) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (read timeouts, dropped faults) are routine here.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.conn_lock:
            conns = list(self.connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Thin I/O shell: all behaviour lives in :meth:`SandboxServer._handle`."""

    protocol_version = "HTTP/1.1"
    server_version = "tap-analytics-sandbox/1"
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        with self.server.conn_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.conn_lock:
                self.server.connections.discard(self.connection)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b""
        resp = self.server.app._handle(self.command, self.path, self.headers, body)
        if resp.drop:
            self.close_connection = True
            return
        try:
            reason = HTTPStatus(resp.status).phrase
        except ValueError:
            reason = "Enhance Your Calm" if resp.status == 420 else "Unknown"
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Server: {self.server_version}",
            f"Content-Type: {resp.content_type}",
            f"Content-Length: {len(resp.body)}",
        ]
        lines += [f"{k}: {v}" for k, v in resp.headers]
        if self.close_connection:
            lines.append("Connection: close")
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the structured request_log replaces stderr access logs."""


class SandboxServer:
    """All five fake APIs on one free local port; see the package docstring for usage."""

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
        self._creds: dict[str, dict[str, str]] = {
            api: {
                "client_id": f"client-{api}-{_secret('client_id', api)[:8]}",
                "client_secret": f"sk-live-{api}-SECRET-{_secret('client_secret', api)}",
            }
            for api in OAUTH_APIS
        }
        self._refresh_generation = 0
        self._creds["helpdesk"]["refresh_token"] = self._new_refresh_token()
        self._creds["timetracking"] = {
            "token": f"tt-live-timetracking-TOKEN-{_secret('token', 'timetracking')}"
        }
        self._creds["statuspage"] = {
            "api_key": f"ak-live-statuspage-APIKEY-{_secret('api_key', 'statuspage')}"
        }
        self._access_tokens: dict[str, tuple[str, float]] = {}
        self._token_serial = 0
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
        if api not in APIS:
            raise KeyError(f"unknown api {api!r}; known: {APIS}")
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
                setattr(self, name, checked)
                if name == "fault_seed":
                    self._fault_rng = random.Random(value)

    def set_records(self, records: int | Mapping[str, int]) -> None:
        """Set record counts (int for all resources, or a key -> count mapping).

        Resources named (all of them for an int) are rebuilt: their earlier
        mutations are discarded so ids and timestamps stay consistent.
        """
        if isinstance(records, int):
            counts = dict.fromkeys(RESOURCE_KEYS, records)
        else:
            unknown = set(records) - set(RESOURCE_KEYS)
            if unknown:
                raise KeyError(f"unknown resource key(s) {sorted(unknown)}; known: {RESOURCE_KEYS}")
            counts = {k: records[k] for k in records}
            for k in RESOURCE_KEYS:
                if k not in self._collections:
                    counts.setdefault(k, DEFAULT_RECORDS)
        with self._lock:
            for key, n in counts.items():
                if int(n) < 0:
                    raise ValueError(f"record count for {key} must be >= 0")
                self._collections[key] = _Collection(SPECS_BY_KEY[key], int(n))

    # ------------------------------------------------------------ credentials
    @property
    def credentials(self) -> dict[str, dict[str, str]]:
        """Per-API secrets; helpdesk's refresh_token is the currently valid one."""
        with self._lock:
            return {api: dict(self._creds[api]) for api in APIS}

    def _new_refresh_token(self) -> str:
        self._refresh_generation += 1
        n = self._refresh_generation
        return f"rt-helpdesk-REFRESH-{n}-{_secret('refresh_token', 'helpdesk', n)}"

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (tests of 401 handling without sleeping)."""
        with self._lock:
            self._access_tokens.clear()

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
            return {api: self._token_counts.get(api, 0) for api in OAUTH_APIS}

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._data_counts.clear()
            self._token_counts.clear()
            self._request_count = 0
            self._peak_in_progress = 0

    def records(self, resource_key: str) -> list[Record]:
        """Ground truth: the resource's current records, in serving order (deep copies)."""
        with self._lock:
            return copy.deepcopy(self._collection(resource_key).all_records())

    def record_count(self, resource_key: str) -> int:
        with self._lock:
            return len(self._collection(resource_key))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._request_count,
                "token_requests": self.token_requests,
                "data_requests": dict(self._data_counts),
                "peak_concurrency": self._peak_in_progress,
                "records": {k: len(c) for k, c in self._collections.items()},
            }

    def _collection(self, resource_key: str) -> _Collection:
        try:
            return self._collections[resource_key]
        except KeyError:
            raise KeyError(f"unknown resource key {resource_key!r}; known: {RESOURCE_KEYS}") from None

    # -------------------------------------------------------------- mutations
    def _tick(self) -> int:
        """Advance the logical clock: strictly later than every timestamp served so far."""
        floor = BASE_EPOCH + (max((c.base_count for c in self._collections.values()), default=0) + 1) * STEP
        self._clock = max(self._clock + 1, floor)
        return self._clock

    def _new_record(self, col: _Collection) -> tuple[Record, int]:
        rec = col.spec.generate(col.next_index)
        col.next_index += 1
        t = self._tick()
        for f in (*col.spec.created_fields, *col.spec.cursor_fields):
            rec[f] = iso(t)
        return rec, t

    def mutate(self, resource_key: str, add: int = 0, update: int = 0) -> dict[str, list[str]]:
        """Update ``update`` existing records, then append ``add`` new ones.

        Updated records (chosen by a seeded RNG) get a changed business field
        and a cursor later than anything existing; new records get new ids and
        even later timestamps. Returns the affected ids.
        """
        with self._lock:
            col = self._collection(resource_key)
            col.revision += 1
            rng = random.Random(f"{resource_key}:{col.revision}")
            total = len(col)
            positions = sorted(rng.sample(range(total), min(max(update, 0), total)))
            updated: list[str] = []
            for pos in positions:
                rec = copy.deepcopy(col.item_at(pos)[0])
                col.spec.mutate(rec, col.revision)
                t = self._tick()
                for f in col.spec.cursor_fields:
                    rec[f] = iso(t)
                col.set_at(pos, (rec, t))
                updated.append(str(rec["id"]))
            items = [self._new_record(col) for _ in range(max(add, 0))]
            col.add(items, at_head=False)
            return {"added": [str(r["id"]) for r, _ in items], "updated": updated}

    def insert_at_head(self, resource_key: str, n: int) -> list[str]:
        """Insert ``n`` new records before all others, shifting every offset by ``n``."""
        with self._lock:
            col = self._collection(resource_key)
            items = [self._new_record(col) for _ in range(max(n, 0))]
            col.add(items, at_head=True)
            return [str(r["id"]) for r, _ in items]

    # ------------------------------------------------------------------ faults
    def inject(self, path_substring: str, faults: Iterable[Fault]) -> None:
        """Queue faults for the next requests whose path contains ``path_substring``.

        Each matching request consumes one fault, in order. Faults are HTTP
        statuses or kinds: drop, slow, html200, truncated, no_data, null_data.
        """
        queue = deque(_check_fault(f) for f in faults)
        with self._lock:
            if queue:
                self._injected.append((path_substring, queue))

    def clear_faults(self) -> None:
        with self._lock:
            self._injected.clear()

    def _next_fault(self, path: str, data: bool) -> Fault | None:
        with self._lock:
            for i, (sub, queue) in enumerate(self._injected):
                if sub in path:
                    fault = queue.popleft()
                    if not queue:
                        del self._injected[i]
                    return fault
            if (
                data
                and self.fail_rate > 0
                and self.fail_statuses
                and self._fault_rng.random() < self.fail_rate
            ):
                return self._fault_rng.choice(self.fail_statuses)
        return None

    def _retry_after(self) -> str:
        if self.retry_after_date:
            return formatdate(time.time() + float(self.retry_after), usegmt=True)
        return str(self.retry_after)

    def _status_fault(self, status: int) -> _Response:
        if status in (502, 504):
            return _html(status, f"{status} {HTTPStatus(status).phrase}")
        headers: list[tuple[str, str]] = []
        if status in (429, 420, 503):
            headers.append(("Retry-After", self._retry_after()))
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="sandbox", error="invalid_token"'))
        code = {429: "rate_limited", 420: "rate_limited", 503: "service_unavailable", 500: "internal_error"}
        return _json(status, {"error": code.get(status, "injected_fault"), "status": status}, headers)

    # -------------------------------------------------------------- dispatch
    def _handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> _Response:
        path, _, qs = raw_path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path[len(CONTROL_PREFIX) :], body)
        query = dict(parse_qsl(qs, keep_blank_values=True))
        api, _, rest = path.lstrip("/").partition("/")
        rest = "/" + rest.rstrip("/")
        resource: str | None = None
        if api not in APIS:
            resp = _json(404, {"error": "not_found"})
        elif api in OAUTH_APIS and rest == TOKEN_PATH:
            resp = self._token(api, method, path, headers, body)
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
                        "api": api if api in APIS else None,
                        "resource": resource,
                        "headers": dict(headers.items()),
                    }
                )
        return resp

    def _apply_fault(self, fault: Fault | None) -> _Response | None:
        """Response for a fault, or None when the request should proceed ("slow" sleeps first)."""
        if fault is None:
            return None
        if isinstance(fault, int):
            return self._status_fault(fault)
        if fault == "drop":
            return _Response(0, drop=True)
        if fault == "slow":
            time.sleep(self.slow_seconds)
            return None
        if fault == "html200":
            return _html(200, "Service temporarily unavailable")
        if fault == "no_data":
            return _json(200, {"items": []})
        if fault == "null_data":
            return _json(200, {"data": None})
        return None  # "truncated" is applied to the real body by the caller

    # ----------------------------------------------------------------- auth
    def _auth_error(self, api: str, headers: Message) -> _Response | None:
        unauthorized = {"error": "unauthorized"}
        if api == "statuspage":
            key = headers.get(self.api_key_header)
            return (
                None if key is not None and key == self._creds[api]["api_key"] else _json(401, unauthorized)
            )
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _json(401, unauthorized, [("WWW-Authenticate", 'Bearer realm="sandbox"')])
        token = token.strip()
        if api == "timetracking":
            ok = token == self._creds[api]["token"]
        else:
            with self._lock:
                entry = self._access_tokens.get(token)
            ok = entry is not None and entry[0] == api and time.monotonic() < entry[1]
        if ok:
            return None
        return _json(
            401, unauthorized, [("WWW-Authenticate", 'Bearer realm="sandbox", error="invalid_token"')]
        )

    def _token(self, api: str, method: str, path: str, headers: Message, body: bytes) -> _Response:
        """RFC 6749 token endpoint: client_credentials, or rotating refresh_token for helpdesk."""
        with self._lock:
            self._token_counts[api] = self._token_counts.get(api, 0) + 1
        early = self._apply_fault(self._next_fault(path, data=False))
        if early is not None:
            return early
        if method != "POST":
            return _json(
                405, {"error": "invalid_request", "error_description": "use POST"}, [("Allow", "POST")]
            )
        ctype = (headers.get("Content-Type") or "").lower()
        try:
            if "json" in ctype:
                parsed = json.loads(body or b"{}")
                form = {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
            else:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            form = {}
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        basic = False
        auth = headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        creds = self._creds[api]

        def error(status: int, code: str, desc: str) -> _Response:
            hdrs = [("Cache-Control", "no-store")]
            if status == 401 and basic:
                hdrs.append(("WWW-Authenticate", 'Basic realm="sandbox"'))
            return _json(status, {"error": code, "error_description": desc, "client_id": client_id}, hdrs)

        if scheme.lower() == "basic":
            basic = True
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return error(401, "invalid_client", "malformed Basic credentials")
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep:
                return error(401, "invalid_client", "malformed Basic credentials")
            client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if self.client_auth == "basic" and not basic:
            return error(401, "invalid_client", "authenticate the client with HTTP Basic")
        if self.client_auth == "body" and basic:
            return error(401, "invalid_client", "send client_id and client_secret in the body")
        grant = form.get("grant_type")
        expected_grant = "refresh_token" if api == "helpdesk" else "client_credentials"
        if not grant:
            return error(400, "invalid_request", "grant_type is required")
        if grant != expected_grant:
            return error(
                400, "unsupported_grant_type", f"this server supports grant_type={expected_grant} only"
            )
        if client_id != creds["client_id"] or client_secret != creds["client_secret"]:
            return error(401, "invalid_client", "client authentication failed")
        with self._lock:
            extra: dict[str, str] = {}
            if api == "helpdesk":
                if form.get("refresh_token") != creds["refresh_token"]:
                    return error(
                        400, "invalid_grant", "refresh token is invalid, expired, revoked or already used"
                    )
                creds["refresh_token"] = extra["refresh_token"] = self._new_refresh_token()
            self._token_serial += 1
            token = f"at-{api}-ACCESS-{self._token_serial}-{_secret('access_token', api, self._token_serial)}"
            ttl = float(self.token_ttl)
            self._access_tokens[token] = (api, time.monotonic() + ttl)
        expires_in: float = int(ttl) if ttl.is_integer() else ttl
        payload = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, **extra}
        return _json(200, payload, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

    # ----------------------------------------------------------------- data
    def _data(
        self, api: str, rest: str, method: str, path: str, query: dict[str, str], headers: Message
    ) -> tuple[_Response, str | None]:
        denied = self._auth_error(api, headers)
        if denied is not None:
            return denied, None
        spec = ROUTES.get((api, rest))
        if spec is None:
            return _json(404, {"error": "not_found", "path": path}), None
        key = spec.key
        with self._lock:
            self._data_counts[key] = self._data_counts.get(key, 0) + 1
            self._in_progress += 1
            self._peak_in_progress = max(self._peak_in_progress, self._in_progress)
        try:
            return self._serve_data(spec, method, path, query), key
        finally:
            with self._lock:
                self._in_progress -= 1

    def _serve_data(
        self, spec: ResourceSpec, method: str, path: str, query: dict[str, str]
    ) -> _Response:
        if method != "GET":
            return _json(405, {"error": "method_not_allowed"}, [("Allow", "GET")])
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        fault = self._next_fault(path, data=True)
        early = self._apply_fault(fault)
        if early is not None:
            return early
        try:
            resp = self._page(spec, query)
        except _BadRequest as exc:
            return _json(400, {"error": "invalid_request", "error_description": str(exc)})
        if fault == "truncated":
            resp.body = resp.body[: max(1, len(resp.body) // 2)]
        return resp

    @staticmethod
    def _int_param(query: dict[str, str], name: str, default: int, minimum: int) -> int:
        raw = query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(f"{name} must be an integer") from None
        if value < minimum:
            raise _BadRequest(f"{name} must be >= {minimum}")
        return value

    def _page(self, spec: ResourceSpec, query: dict[str, str]) -> _Response:
        since_raw = query.get(self.start_param)
        try:
            since = _parse_since(since_raw) if since_raw else None
        except ValueError:
            raise _BadRequest(f"{self.start_param} must be an ISO-8601 timestamp") from None
        page_mode = spec.paging == "page"
        if page_mode:
            page = self._int_param(query, "page", 1, 1)
            size = self._int_param(query, "per_page", spec.default_limit, 1)
        else:
            offset = self._int_param(query, "offset", 0, 0)
            size = self._int_param(query, "limit", spec.default_limit, 1)
        if self.max_page_size is not None:
            size = min(size, max(1, int(self.max_page_size)))
        if self.ignore_paging:
            page, offset = 1, 0
        if page_mode:
            offset = (page - 1) * size
        with self._lock:
            col = self._collections[spec.key]
            recs, total = col.page(offset, size, since)
            if self.endless and len(recs) < size:
                first = max(offset, total)
                base = col.next_index - total
                recs = recs + [spec.generate(base + p) for p in range(first, offset + size)]
        body: dict[str, Any] = {"data": recs}
        if page_mode:
            body["page"] = page
            body["per_page"] = size
            if self.include_total:
                body["total"] = math.ceil(total / size)
        elif self.include_total:
            body["total"] = total
        return _json(200, body)

    # -------------------------------------------------------------- control
    def _control(self, method: str, name: str, body: bytes) -> _Response:
        """Out-of-band control for separate processes (the demo): never logged, no auth."""
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise ValueError("JSON object expected")
            if method == "GET" and name == "credentials":
                return _json(200, self.credentials)
            if method == "GET" and name == "stats":
                return _json(200, self.stats())
            if method == "POST" and name == "mutate":
                key = payload["resource"]
                result: dict[str, Any] = self.mutate(
                    key, int(payload.get("add", 0)), int(payload.get("update", 0))
                )
                if payload.get("insert_at_head"):
                    result["inserted_at_head"] = self.insert_at_head(key, int(payload["insert_at_head"]))
                return _json(200, result)
            if method == "POST" and name == "inject":
                self.inject(payload["path"], payload["faults"])
                return _json(200, {"ok": True})
            if method == "POST" and name == "configure":
                self.configure(**payload)
                return _json(200, {"ok": True})
            if method == "POST" and name == "records":
                self.set_records(payload["records"])
                return _json(200, {"ok": True})
            if method == "POST" and name == "reset_log":
                self.reset_log()
                return _json(200, {"ok": True})
            if method == "POST" and name == "expire_tokens":
                self.expire_tokens()
                return _json(200, {"ok": True})
        except (KeyError, ValueError, TypeError) as exc:
            return _json(400, {"error": "invalid_request", "error_description": str(exc)})
        return _json(404, {"error": "not_found"})

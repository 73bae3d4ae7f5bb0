"""Small local servers for the auth tests, and tests that they behave as those tests assume.

* `GateProxy` forwards every request to an upstream API (the DRF server, the sandbox) and
  logs each one in a single ordered list. It can act before forwarding a request (revoke
  a token when the second data request arrives, say; later requests wait for the action)
  and hold every 401 until `hold_401s` of them are waiting: concurrent 401s are then
  concurrent by construction, not by timing luck.
* `AuthAPI` serves one collection of deterministic records behind any auth type the tap
  speaks (bearer, HTTP Basic, an API key in a header, the query or a cookie, OAuth2
  client credentials with its own token endpoint) and answers configured redirects; two
  instances are two hosts (127.0.0.1 and localhost on two ports). It logs every request
  with its headers, query and form body, so a test can prove where a credential went.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socketserver
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

HOST = "127.0.0.1"
TIMEOUT = 10
#: How long a held 401 waits for the others before giving up (a test then fails on
#: `gate_timeouts`, it never passes by luck).
HOLD_TIMEOUT = 20.0
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-authorization", "proxy-authenticate"}
AUTH_MODES = ("none", "bearer", "basic", "api_key_header", "api_key_query", "api_key_cookie",
              "oauth2")


def _distinct(kind: str, n: int = 0) -> str:
    return hashlib.sha256(f"tap-analytics-auth-tests:{kind}:{n}".encode()).hexdigest()[:20]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    """Reads a whole request and hands it to the owning server object's `answer`."""

    protocol_version = "HTTP/1.1"
    owner: Any = None

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.owner.answer(self.command, self.path, self.headers, body)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Serving:
    """Start/stop of a loopback server on an ephemeral port."""

    def _serve(self) -> None:
        handler = type("Handler", (_Handler,), {"owner": self})
        self.httpd = _Server((HOST, 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def other_host_url(self) -> str:
        """The same server under another host name (localhost instead of 127.0.0.1)."""
        return f"http://localhost:{self.port}"


#: An answer: status, headers, body.
Answer = tuple[int, list[tuple[str, str]], bytes]


def _json(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Answer:
    return status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(obj).encode()


# ------------------------------------------------------------------------ GateProxy
@dataclass
class Forwarded:
    seq: int
    method: str
    path: str
    status: int
    authorization: str | None


class GateProxy(_Serving):
    """A forwarding proxy in front of `upstream` that can revoke and hold 401s (see module doc)."""

    def __init__(
        self,
        upstream: str,
        *,
        hold_401s: int = 0,
        before_forward: Callable[[str, Mapping[str, str]], None] | None = None,
        hold_timeout: float = HOLD_TIMEOUT,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or HOST, parts.port or 80
        self.hold_401s = hold_401s
        self.before_forward = before_forward
        self.hold_timeout = hold_timeout
        self.log: list[Forwarded] = []
        #: How many 401s were held together when the gate opened (0: never opened).
        self.held_at_release = 0
        self.gate_timeouts = 0
        self._seq = 0
        self._held = 0
        self._lock = threading.Lock()
        self._hook_lock = threading.Lock()
        self._release = threading.Event()
        self._serve()

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        with self._lock:
            self._seq += 1
            seq = self._seq
        if self.before_forward is not None:
            with self._hook_lock:  # every request waits until the action of an earlier one is done
                self.before_forward(urlsplit(path).path, headers)
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=TIMEOUT)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, path, body=body or None, headers=forwarded)
            response = conn.getresponse()
            payload = response.read()
            out = [(k, v) for k, v in response.getheaders()
                   if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
            status = response.status
        finally:
            conn.close()
        with self._lock:
            self.log.append(Forwarded(seq, method, urlsplit(path).path, status, headers.get("Authorization")))
        if status == 401 and self.hold_401s:
            self._hold()
        return status, out, payload

    def _hold(self) -> None:
        with self._lock:
            self._held += 1
            if self._held >= self.hold_401s and not self._release.is_set():
                self.held_at_release = self._held
                self._release.set()
        if not self._release.wait(self.hold_timeout):
            with self._lock:
                self.gate_timeouts += 1

    def statuses(self, prefix: str) -> list[int]:
        return [e.status for e in self.log if e.path.startswith(prefix)]


# -------------------------------------------------------------------------- AuthAPI
@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    status: int
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """Everything this request carried, for a credential grep."""
        return json.dumps([self.path, self.query, self.headers, self.form])


def record(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "name": f"record {i}",
        "score": round(i * 1.25, 2),
        "tags": [f"t{i % 3}"],
        "meta": {"rank": i, "even": i % 2 == 0},
        "updated_at": f"2024-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00Z",
    }


class AuthAPI(_Serving):
    """Records at `/records` (offset/limit paging, `{"data": [...], "total": n}`) behind `mode`,
    and at `/<mode>/records` behind each mode (one server for per-resource auth).

    `/oauth/token` grants client credentials (form body or HTTP Basic), requiring the
    `require_form` fields too; `redirects` maps a path to (status, Location) for any method.
    """

    def __init__(
        self,
        mode: str = "none",
        *,
        records: int = 45,
        api_key_name: str = "X-API-Key",
        expires_in: float | None = 3600,
        require_form: Mapping[str, str] | None = None,
        redirects: Mapping[str, tuple[int, str]] | None = None,
        tag: str = "authapi",
    ) -> None:
        assert mode in AUTH_MODES, mode
        self.mode = mode
        self.count = records
        self.api_key_name = api_key_name
        self.expires_in = expires_in
        self.require_form = dict(require_form or {})
        self.redirects = dict(redirects or {})
        self.token = f"bt-{tag}-TOKEN-{_distinct('token' + tag)}"
        self.username = f"user-{tag}"
        self.password = f"pw-{tag}-SECRET-{_distinct('password' + tag)}"
        self.api_key = f"ak-{tag}-APIKEY-{_distinct('api_key' + tag)}"
        self.client_id = f"client-{tag}"
        self.client_secret = f"cs-{tag}-SECRET-{_distinct('client_secret' + tag)}"
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._serve()

    @property
    def secrets(self) -> list[str]:
        return [self.token, self.password, self.api_key, self.client_secret, *self.issued]

    def revoke_access_tokens(self) -> None:
        with self._lock:
            self.valid.clear()

    def answer(self, method: str, raw: str, headers: Any, body: bytes) -> Answer:
        parts = urlsplit(raw)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)) if body else {}
        if parts.path in self.redirects:
            status, location = self.redirects[parts.path]
            result = (status, [("Location", location)], b"")
        elif parts.path == "/oauth/token":
            result = self._token(method, headers, form)
        elif parts.path == "/records":
            result = self._records(self.mode, headers, query)
        elif parts.path.endswith("/records") and parts.path.split("/")[1] in AUTH_MODES:
            result = self._records(parts.path.split("/")[1], headers, query)
        else:
            result = _json(404, {"error": "not_found"})
        with self._lock:
            self.log.append(Logged(method, parts.path, query, result[0], dict(headers.items()), form))
        return result

    def _unauthorized(self, mode: str, headers: Any, query: Mapping[str, str]) -> bool:
        if mode == "none":
            return False
        if mode == "bearer":
            return headers.get("Authorization") != f"Bearer {self.token}"
        if mode == "basic":
            expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return headers.get("Authorization") != f"Basic {expected}"
        if mode == "api_key_header":
            return headers.get(self.api_key_name) != self.api_key
        if mode == "api_key_query":
            return query.get(self.api_key_name) != self.api_key
        if mode == "api_key_cookie":
            jar: SimpleCookie = SimpleCookie()
            jar.load(headers.get("Cookie") or "")
            morsel = jar.get(self.api_key_name)
            return morsel is None or morsel.value != self.api_key
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        with self._lock:
            return scheme != "Bearer" or token not in self.valid

    def _records(self, mode: str, headers: Any, query: Mapping[str, str]) -> Answer:
        if self._unauthorized(mode, headers, query):
            challenge = [("WWW-Authenticate", 'Basic realm="authapi"')] if mode == "basic" else []
            return _json(401, {"error": "unauthorized"}, challenge)
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
        data = [record(i) for i in range(offset + 1, min(offset + limit, self.count) + 1)]
        return _json(200, {"data": data, "total": self.count})

    def _token(self, method: str, headers: Any, form: Mapping[str, str]) -> Answer:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if scheme == "Basic":
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
        if method != "POST" or form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type"})
        if (client_id, secret) != (self.client_id, self.client_secret):
            return _json(401, {"error": "invalid_client"})
        if any(form.get(k) != v for k, v in self.require_form.items()):
            return _json(400, {"error": "invalid_request"})
        with self._lock:
            n = len(self.issued) + 1
            token = f"at-authapi-ACCESS-{n}-{_distinct('access', n)}"
            self.issued.append(token)
            self.valid.add(token)
        payload: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            payload["expires_in"] = self.expires_in
        return _json(200, payload)

    def received(self, secret: str) -> list[Logged]:
        """The requests that carried `secret` anywhere (header, query, cookie, form)."""
        return [e for e in self.log if secret in e.text() or _b64_holds(e, secret)]

    def config(self, auth: Mapping[str, Any] | None, **top: Any) -> dict[str, Any]:
        """A tap/dlt config of the one resource `records` against this server."""
        client: dict[str, Any] = {"base_url": self.base_url}
        if auth is not None:
            client["auth"] = dict(auth)
        return {
            "client": client,
            "resources": [{
                "name": "records",
                "primary_key": "id",
                "endpoint": {"path": "records", "data_selector": "data",
                             "paginator": {"type": "offset", "limit": 10, "total_path": "total"}},
            }],
            **top,
        }


def _b64_holds(entry: Logged, secret: str) -> bool:
    """Whether a Basic Authorization header of `entry` decodes to something holding `secret`."""
    scheme, _, value = entry.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return False
    try:
        return secret in base64.b64decode(value).decode("utf-8", "replace")
    except ValueError:
        return False


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def make_api() -> Iterator[Callable[..., AuthAPI]]:
    started: list[AuthAPI] = []

    def make(mode: str = "none", **options: Any) -> AuthAPI:
        api = AuthAPI(mode, **options)
        started.append(api)
        return api

    yield make
    for api in started:
        api.stop()


# ------------------------------------------------------------ the servers themselves
def _credentials(api: AuthAPI, mode: str, *, right: bool) -> dict[str, Any]:
    """requests keyword arguments carrying the right (or a wrong) credential for `mode`."""
    token, key, password = (api.token, api.api_key, api.password) if right else ("x", "x", "x")
    if mode == "bearer":
        return {"headers": {"Authorization": f"Bearer {token}"}}
    if mode == "basic":
        return {"auth": (api.username, password)}
    if mode == "api_key_header":
        return {"headers": {api.api_key_name: key}}
    if mode == "api_key_query":
        return {"params": {api.api_key_name: key}}
    if mode == "api_key_cookie":
        return {"cookies": {api.api_key_name: key}}
    secret = api.client_secret if right else "x"
    grant = requests.post(f"{api.base_url}/oauth/token", timeout=TIMEOUT, data={
        "grant_type": "client_credentials", "client_id": api.client_id, "client_secret": secret})
    return {"headers": {"Authorization": f"Bearer {grant.json().get('access_token', 'x')}"}}


@pytest.mark.parametrize("mode", [m for m in AUTH_MODES if m != "none"])
def test_auth_api_refuses_without_credentials_and_serves_with_them(make_api: Any, mode: str) -> None:
    api = make_api(mode, api_key_name="session_key" if mode == "api_key_cookie" else "X-API-Key")
    url = f"{api.base_url}/records"
    assert requests.get(url, timeout=TIMEOUT).status_code == 401
    assert requests.get(url, timeout=TIMEOUT, **_credentials(api, mode, right=False)).status_code == 401
    right = _credentials(api, mode, right=True)
    params = {"offset": 40, "limit": 10, **right.pop("params", {})}
    answer = requests.get(url, params=params, timeout=TIMEOUT, **right)
    assert answer.status_code == 200
    assert [r["id"] for r in answer.json()["data"]] == [41, 42, 43, 44, 45]
    assert answer.json()["total"] == 45
    if mode == "oauth2":
        api.revoke_access_tokens()
        assert requests.get(url, timeout=TIMEOUT, **right).status_code == 401


def test_auth_api_serves_each_mode_under_its_own_path(make_api: Any) -> None:
    api = make_api("bearer")
    assert requests.get(f"{api.base_url}/none/records", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{api.base_url}/basic/records", timeout=TIMEOUT).status_code == 401
    ok = requests.get(f"{api.base_url}/basic/records", auth=(api.username, api.password), timeout=TIMEOUT)
    assert ok.status_code == 200
    assert requests.get(f"{api.base_url}/records", timeout=TIMEOUT).status_code == 401


def test_auth_api_redirects_and_logs_what_it_received(make_api: Any) -> None:
    target = make_api()
    api = make_api(redirects={"/moved": (308, f"{target.other_host_url}/records")})
    answer = requests.get(f"{api.base_url}/moved", params={"k": "v"}, timeout=TIMEOUT,
                          headers={"X-Probe": "probe-value-1234"})
    assert answer.status_code == 200
    assert answer.history[0].status_code == 308
    assert target.received("probe-value-1234"), "the redirect target logs the headers it got"
    assert api.log[0].status == 308


def test_gate_proxy_holds_401s_until_enough_wait(make_api: Any) -> None:
    api = make_api("bearer")
    with GateProxy(api.base_url, hold_401s=4) as proxy, ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda _: requests.get(f"{proxy.base_url}/records", timeout=TIMEOUT)
                                 .status_code, range(4)))
        assert statuses == [401] * 4
        assert proxy.held_at_release == 4
        assert proxy.gate_timeouts == 0
        ok = requests.get(f"{proxy.base_url}/records", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {api.token}"})
        assert ok.status_code == 200
        assert [e.seq for e in proxy.log if e.status == 200] == [5]


def test_gate_proxy_runs_its_action_before_forwarding(make_api: Any) -> None:
    api = make_api("bearer")
    seen: list[str] = []
    with GateProxy(api.base_url, before_forward=lambda path, _h: seen.append(path)) as proxy:
        for path in ("/records", "/a", "/records"):
            requests.get(f"{proxy.base_url}{path}", timeout=TIMEOUT)
    assert seen == ["/records", "/a", "/records"]
    assert len(api.log) == 3

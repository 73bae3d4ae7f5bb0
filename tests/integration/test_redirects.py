"""Redirects of data requests: followed with credentials within the API's origin, refused elsewhere.

Two loopback servers stand for two hosts (another port is another origin, and `localhost`
is another host name than `127.0.0.1`). Whatever the auth type, no credential the tap adds
-- an Authorization header, an API key header or query parameter -- may reach the other one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from .helpers import run_tap

TOKEN = "bt-redirect-SECRET-1"
API_KEY = "ak-redirect-SECRET-2"
CLIENT_SECRET = "cs-redirect-SECRET-3"
ACCESS = "at-redirect-SECRET-4"
RECORDS = [{"id": str(i)} for i in range(1, 6)]

Route = Callable[["Seen"], tuple[int, dict[str, str], Any]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Recorder:
    """A loopback server answering routes by path, remembering every request it got."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        app = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                request = Seen(self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers))
                app.seen.append(request)
                route = app.routes.get(parts.path)
                status, headers, body = route(request) if route else (404, {}, {"error": "not_found"})
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    api, other = Recorder(), Recorder()
    try:
        yield api, other
    finally:
        api.stop()
        other.stop()


def data(_: Seen) -> tuple[int, dict[str, str], Any]:
    return 200, {}, {"data": RECORDS, "total": len(RECORDS)}


def redirect(to: str, status: int = 302) -> Route:
    return lambda _: (status, {"Location": to}, {})


def token(_: Seen) -> tuple[int, dict[str, str], Any]:
    return 200, {}, {"access_token": ACCESS, "token_type": "Bearer", "expires_in": 3600}


AUTHS: dict[str, Callable[[Recorder], dict[str, Any]]] = {
    "bearer": lambda api: {"type": "bearer", "token": TOKEN},
    "api_key_header": lambda api: {"type": "api_key", "name": "X-Api-Key", "api_key": API_KEY},
    "api_key_query": lambda api: {"type": "api_key", "name": "api_key", "api_key": API_KEY,
                                  "location": "query"},
    "oauth2": lambda api: {"type": "oauth2", "client_id": "cid", "client_secret": CLIENT_SECRET,
                           "token_url": f"{api.url()}/oauth/token"},
}


def config(api: Recorder, auth: str, path: str) -> dict[str, Any]:
    return {
        "client": {"base_url": api.url(), "auth": AUTHS[auth](api)},
        "max_concurrent_requests": 1,
        "resources": [{"name": "things", "schema": {"properties": {"id": {"type": "string"}}},
                       "endpoint": {"path": path, "paginator": {"type": "offset", "limit": 10}}}],
    }


def carries_credentials(request: Seen) -> bool:
    text = json.dumps([request.headers, request.query])
    return any(secret in text for secret in (TOKEN, API_KEY, CLIENT_SECRET, ACCESS))


@pytest.mark.parametrize("auth", sorted(AUTHS))
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_within_the_api_is_followed_with_credentials(
    servers: tuple[Recorder, Recorder], auth: str, status: int
) -> None:
    api, _ = servers
    api.routes.update({"/oauth/token": token, "/v1/old": redirect("/v1/things", status), "/v1/things": data})
    result = run_tap(config(api, auth, "/v1/old"))
    assert result.ids("things") == [r["id"] for r in RECORDS]
    followed = [r for r in api.seen if r.path == "/v1/things"]
    assert followed, "the redirect was followed"
    assert all(carries_credentials(r) for r in followed), "the credentials came along within the API"


@pytest.mark.parametrize("auth", sorted(AUTHS))
@pytest.mark.parametrize("other_host", ["127.0.0.1", "localhost"])
def test_a_redirect_to_another_host_is_refused_and_no_credential_leaves(
    servers: tuple[Recorder, Recorder], auth: str, other_host: str
) -> None:
    api, other = servers
    other.routes["/v1/things"] = data
    api.routes.update({"/oauth/token": token, "/v1/things": redirect(f"{other.url(other_host)}/v1/things")})
    result = run_tap(config(api, auth, "/v1/things"), expect_error=True)
    message = str(result.error)
    assert "another host" in message
    assert "client.base_url" in message
    assert "\n" not in message
    assert not any(secret in message for secret in (TOKEN, API_KEY, CLIENT_SECRET, ACCESS))
    assert other.seen == [], "nothing at all was sent to the other host"


def test_a_redirect_from_https_down_to_http_on_the_same_host_is_another_origin() -> None:
    from tap_analytics.redirects import same_origin  # noqa: PLC0415

    assert not same_origin("https://api.example.com/v1/x", "http://api.example.com/v1/x")
    assert same_origin("https://api.example.com/v1/x", "https://API.example.com:443/v2")
    assert not same_origin("https://api.example.com/v1/x", "https://api.example.com:8443/v1/x")


def test_redirect_loops_end_with_a_clear_error(servers: tuple[Recorder, Recorder]) -> None:
    api, _ = servers
    api.routes.update({"/v1/a": redirect("/v1/b"), "/v1/b": redirect("/v1/a")})
    result = run_tap(config(api, "bearer", "/v1/a"), expect_error=True)
    assert "redirected more than" in str(result.error)

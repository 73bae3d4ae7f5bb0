"""HTTP plumbing of the sandbox: the threaded server, the I/O-only handler and response helpers.

Behaviour lives in :meth:`SandboxServer._handle`; this module only moves bytes, so every fake
API (the five seed APIs and the forum) shares one socket layer and one response type.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

HOST = "127.0.0.1"
_ENCODER = json.JSONEncoder(separators=(",", ":"))


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


def int_param(query: dict[str, str], name: str, default: int, minimum: int) -> int:
    """An integer query parameter (absent or empty: ``default``); anything else is a 400."""
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


class _App(Protocol):
    """What the HTTP layer needs from the application: one call per request."""

    def _handle(self, method: str, raw_path: str, headers: Message, body: bytes) -> _Response: ...


class _HTTPServer(ThreadingHTTPServer):
    """Threaded server tuned for benchmarks: many queued connections, no joins on close."""

    daemon_threads = True
    block_on_close = False  # keep-alive clients would otherwise block stop()
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, app: _App, port: int) -> None:
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

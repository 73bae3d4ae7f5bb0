"""``DRFServer``: the DRF test API on a free 127.0.0.1 port, served by a threaded stdlib WSGI server.

Start/stop it (or use it as a context manager); between them the test controls change the
data, the tokens and the request log. Servers of one process share the database (see
:mod:`.project`): each flushes and reseeds it on start, and only one runs at a time.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterable
from datetime import datetime
from types import ModuleType
from typing import Any, ClassVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer
from zoneinfo import ZoneInfo

from django.core.handlers.wsgi import WSGIHandler
from django.db import connections

from . import project
from .middleware import ENVIRON_KEY, LoggedRequest, ServeContext
from .seed import Credentials

HOST = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the server keeps its own log."""

    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """One daemon thread per connection; wsgiref answers one request per connection."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks socket.getfqdn(), a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]
        self.setup_environ()


class DRFServer:
    """A real Django REST Framework + django-oauth-toolkit API for tests.

    ``items`` seeded items (ids 1..n, content from :func:`.seed.item_fields`), each with
    ``comments_per_item`` comments; ``page_size`` is every paginator's default (``limit`` for
    limit-offset) and ``max_page_size`` its cap; ``time_zone`` is the one DRF renders
    datetimes in; ``access_token_seconds`` is DOT's ``ACCESS_TOKEN_EXPIRE_SECONDS``.
    """

    _running: ClassVar[DRFServer | None] = None
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        *,
        items: int = 120,
        comments_per_item: int = 2,
        page_size: int = project.DEFAULT_PAGE_SIZE,
        max_page_size: int | None = None,
        time_zone: str = project.DEFAULT_TIME_ZONE,
        access_token_seconds: int = project.DEFAULT_ACCESS_TOKEN_EXPIRE_SECONDS,
    ) -> None:
        self.initial_items = items
        self.comments_per_item = comments_per_item
        self.time_zone = ZoneInfo(time_zone)
        self.access_token_seconds = access_token_seconds
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._context = ServeContext(self.time_zone, page_size, max_page_size, self._record)
        self._credentials: Credentials | None = None
        self._store: ModuleType | None = None
        self._httpd: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> DRFServer:
        """Reseed the shared database for this server, bind a free port, serve from a daemon thread."""
        if self._httpd is not None:
            return self
        with DRFServer._running_lock:
            if DRFServer._running is not None:
                raise RuntimeError("another DRFServer is running: servers share one database, stop it first")
            DRFServer._running = self
        try:
            project.ensure_ready()
            from . import store  # noqa: PLC0415 - imports models: only once Django is set up

            self._store = store
            store.set_access_token_lifetime(self.access_token_seconds)
            store.reset_items(self.initial_items, self.comments_per_item)
            self._credentials = store.reset_oauth(self.access_token_seconds)
            django_app = WSGIHandler()

            def app(environ: dict[str, Any], start_response: Any) -> Any:
                environ[ENVIRON_KEY] = self._context
                return django_app(environ, start_response)

            self._httpd = _ThreadingWSGIServer((HOST, 0), _QuietHandler)
            self._httpd.set_app(app)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="drf-http", daemon=True
            )
            self._thread.start()
        except BaseException:
            self._release()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, free the port, and let the next server have the database."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._release()

    def _release(self) -> None:
        with DRFServer._running_lock:
            if DRFServer._running is self:
                DRFServer._running = None
        connections.close_all()  # this thread's connection; request threads close theirs per request

    def __enter__(self) -> DRFServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("DRFServer is not started")
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (e.g. ``"/api/cursor/items/"``)."""
        return self.base_url + path

    @property
    def token_url(self) -> str:
        return self.url("/o/token/")

    @property
    def revoke_url(self) -> str:
        return self.url("/o/revoke_token/")

    # ---------------------------------------------------------- credentials
    @property
    def credentials(self) -> Credentials:
        """All seeded credentials (fresh per start); the properties below pick them out."""
        if self._credentials is None:
            raise RuntimeError("DRFServer is not started")
        return self._credentials

    @property
    def client_id(self) -> str:
        """Client of the client_credentials grant."""
        return self.credentials.client_id

    @property
    def client_secret(self) -> str:
        return self.credentials.client_secret

    @property
    def refresh_client_id(self) -> str:
        """Client the seeded refresh token belongs to (refresh needs an authorization-code client)."""
        return self.credentials.refresh_client_id

    @property
    def refresh_client_secret(self) -> str:
        return self.credentials.refresh_client_secret

    @property
    def refresh_token(self) -> str:
        """The seeded refresh token; spent by its first use (``ROTATE_REFRESH_TOKEN``)."""
        return self.credentials.refresh_token

    @property
    def access_token(self) -> str:
        """The seeded user's access token (issued with :attr:`refresh_token`)."""
        return self.credentials.access_token

    # ------------------------------------------------------------- data controls
    @property
    def _db(self) -> ModuleType:
        if self._store is None:
            raise RuntimeError("DRFServer is not started")
        return self._store

    def set_items(self, n: int) -> None:
        """Reset the items to ``n`` seeded ones, ids 1..n (comments too)."""
        self._db.reset_items(n, self.comments_per_item)

    def add_items(self, n: int, *, at: datetime | None = None) -> list[int]:
        """Append ``n`` items after the highest id ever used; ``at`` sets their ``updated_at``."""
        return self._db.add_items(n, self.comments_per_item, at)

    def update_items(self, ids: Iterable[int], at: datetime | None = None) -> int:
        """Set ``updated_at`` of the given items to ``at`` (aware; default now); returns rows changed."""
        return self._db.update_items(ids, at)

    def delete_items(self, ids: Iterable[int]) -> int:
        """Delete the given items and their comments; returns how many items went."""
        return self._db.delete_items(ids)

    def records(self) -> list[dict[str, Any]]:
        """Every item exactly as the API renders it (JSON types, this server's time zone), by id."""
        return self._db.records(self.time_zone)

    # ------------------------------------------------------------ token controls
    def revoke_access_tokens(self) -> int:
        """Revoke every access token (DOT's own ``revoke``); returns how many there were."""
        return self._db.revoke_access_tokens()

    def revoke(self, token: str) -> bool:
        """Revoke one access or refresh token by its value; False if no such live token."""
        return self._db.revoke(token)

    def expire_access_tokens(self) -> int:
        """Move every access token's expiry into the past, as if its lifetime had run out."""
        return self._db.expire_access_tokens()

    # --------------------------------------------------------------- request log
    def _record(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self._log.append(entry)

    @property
    def log(self) -> list[LoggedRequest]:
        """The requests served since start or :meth:`reset_log`, in order."""
        with self._log_lock:
            return list(self._log)

    def requests(self, path: str | None = None, *, status: int | None = None) -> list[LoggedRequest]:
        """Logged requests, optionally only to ``path`` (exact) and/or with ``status``."""
        return [
            r for r in self.log if (path is None or r.path == path) and (status is None or r.status == status)
        ]

    def count(self, path: str | None = None, *, status: int | None = None) -> int:
        """How many requests :meth:`requests` would return."""
        return len(self.requests(path, status=status))

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

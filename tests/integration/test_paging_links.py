"""Link, cursor and POST-body paging in whole syncs, against a small local server until the
sandbox's `forum` API lands (then these move there: see each test's docstring for the
forum route that replaces its local one). Every sync is also run through dlt's own
`rest_api_source`, which must load the same records."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_analytics.client import AnalyticsStream

from .helpers import run_tap

POSTS = 53  # not a multiple of any page size used here
SIZE = 10
API_KEY = "ak-live-links-APIKEY-5e7d0c"
SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}


def _posts(first: int, count: int) -> list[dict[str, Any]]:
    return [{"id": i, "title": f"Post {i}"} for i in range(first + 1, min(POSTS, first + count) + 1)]


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode()


def _offset_of(token: str | None) -> int:
    return int(base64.urlsafe_b64decode(token.encode()).decode()[2:]) if token else 0


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None


@dataclass
class LinkServer:
    """The paging styles of the forum contract, one route each, over `POSTS` posts."""

    log: list[Logged] = field(default_factory=list)
    #: Where `/offsite/posts` sends its next page (another server's base URL).
    elsewhere: str = ""
    httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def requests_to(self, path: str) -> list[Logged]:
        return [entry for entry in self.log if entry.path == path]

    def answer(self, entry: Logged) -> tuple[int, Any, dict[str, str]]:
        q = {k: v[-1] for k, v in entry.query.items()}
        page = int(q.get("page", 1))
        base, path = self.base_url, entry.path
        if path == "/odata/posts":
            skip, top = int(q.get("$skip", 0)), int(q.get("$top", SIZE))
            body: dict[str, Any] = {"value": _posts(skip, top)}
            if skip + top < POSTS:
                body["@odata.nextLink"] = f"{base}/odata/posts?$skip={skip + top}&$top={top}"
            return 200, body, {}
        if path == "/link/posts":
            headers = {"Link": f'<{base}/link/posts?page=1>; rel="first"'}
            if page * SIZE < POSTS:
                headers["Link"] = f'<{base}/link/posts?page={page + 1}>; rel="next", ' + headers["Link"]
            return 200, _posts((page - 1) * SIZE, SIZE), headers
        if path == "/relative/posts":
            following = f"/relative/posts?page={page + 1}" if page * SIZE < POSTS else None
            return 200, {"data": _posts((page - 1) * SIZE, SIZE), "links": {"next": following}}, {}
        if path == "/cursor/posts":
            offset = _offset_of(q.get("cursor"))
            following = _token(offset + SIZE) if offset + SIZE < POSTS else None
            return 200, {"items": _posts(offset, SIZE), "cursors": {"next": following}}, {}
        if path == "/header_cursor/posts":
            offset = _offset_of(q.get("cursor"))
            headers = {"next": _token(offset + SIZE)} if offset + SIZE < POSTS else {}
            return 200, _posts(offset, SIZE), headers
        if path in {"/offsite/posts", "/echo/posts"}:
            key = f"api_key={q['api_key']}&" if "api_key" in q else ""
            host = self.elsewhere if path == "/offsite/posts" and page == 1 else base
            following = f"{host}{path}?{key}page={page + 1}" if page * SIZE < POSTS else None
            return 200, {"count": POSTS, "next": following, "results": _posts((page - 1) * SIZE, SIZE)}, {}
        if path == "/search/posts" and entry.method == "POST":
            return 200, self.search(entry.body or {}), {}
        if path.startswith("/posts/"):
            post = int(path.rsplit("/", 1)[1])
            if post > POSTS or post % 7 == 0:  # deleted
                return 404, {"detail": "Not found."}, {}
            return 200, _posts(post - 1, 1)[0], {}
        return 404, {"detail": "Not found."}, {}

    @staticmethod
    def search(body: dict[str, Any]) -> dict[str, Any]:
        wanted = set((body.get("filter") or {}).get("ids") or range(1, POSTS + 1))
        if "paging" in body:
            offset, limit = body["paging"]["offset"], body["paging"]["limit"]
            return {"data": [p for p in _posts(offset, limit) if p["id"] in wanted], "total": POSTS}
        if "page" in body:
            page, per_page = body["page"], body.get("per_page", SIZE)
            return {"data": _posts((page - 1) * per_page, per_page), "total": POSTS}
        offset = _offset_of(body.get("cursor"))
        following = _token(offset + body["limit"]) if offset + body["limit"] < POSTS else None
        return {"data": _posts(offset, body["limit"]), "next_cursor": following}

    def __enter__(self) -> LinkServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                entry = Logged(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()),
                               json.loads(raw) if raw else None)
                server.log.append(entry)
                status, body, headers = server.answer(entry)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def links() -> Iterator[LinkServer]:
    with LinkServer() as srv:
        yield srv


def config(srv: LinkServer, endpoint: dict[str, Any], **client: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": srv.base_url, **client},
        "resources": [{"name": "posts", "endpoint": endpoint, "primary_key": "id", "schema": SCHEMA}],
    }


def dlt_records(srv: LinkServer, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    rest_api = pytest.importorskip("dlt.sources.rest_api")
    source = rest_api.rest_api_source({
        "client": {"base_url": srv.base_url},
        "resources": [{"name": "posts", "endpoint": endpoint, "primary_key": "id"}],
    })
    return [dict(row) for row in source.resources["posts"]]


ALL = _posts(0, POSTS)
PAGES = -(-POSTS // SIZE)

#: route -> (the endpoint as a dlt user writes it, with the paginator omitted where
#: detection finds it, log line of the detection or None)
STYLES: dict[str, tuple[dict[str, Any], str | None]] = {
    "odata": ({"path": "odata/posts", "params": {"$top": SIZE}, "data_selector": "value",
               "paginator": {"type": "json_link", "next_url_path": "$['@odata.nextLink']"}}, None),
    "link": ({"path": "link/posts"}, 'posts: paging by the `Link: rel="next"` header'),
    "link-explicit": ({"path": "link/posts", "paginator": "header_link"}, None),
    "relative": ({"path": "relative/posts"}, "posts: paging by the `links.next` URL in the body"),
    "cursor": ({"path": "cursor/posts"},
               "posts: paging by the cursor at `cursors.next` in the body, sent as the `cursor` parameter"),
    "cursor-explicit": ({"path": "cursor/posts", "paginator": {
        "type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"}}, None),
    "header_cursor": ({"path": "header_cursor/posts", "paginator": {"type": "header_cursor"}}, None),
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_record_once_as_dlt_loads_them(
    links: LinkServer, style: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Forum routes: odata, header_link, json_link_relative, cursor, header_cursor."""
    endpoint, detected = STYLES[style]
    with caplog.at_level(logging.INFO):
        result = run_tap(config(links, endpoint))

    assert result.records("posts") == ALL
    path = "/" + endpoint["path"]
    assert len(links.requests_to(path)) == PAGES, "no request beyond the data"
    lines = [r.getMessage() for r in caplog.records if "paginator detected" in r.getMessage()]
    suffix = " (paginator detected: set endpoint.paginator to choose)"
    assert lines == ([detected + suffix] if detected else [])
    links.log.clear()
    assert dlt_records(links, endpoint) == ALL


@pytest.mark.parametrize(
    ("endpoint", "second_body"),
    [
        ({"path": "search/posts", "method": "POST", "json": {"per_page": SIZE},
          "paginator": {"type": "page_number", "page_body_path": "page", "base_page": 1, "total_path": None}},
         {"per_page": SIZE, "page": 2}),
        ({"path": "search/posts", "method": "POST", "json": {"limit": SIZE},
          "paginator": {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "cursor"}},
         {"limit": SIZE, "cursor": _token(SIZE)}),
        ({"path": "search/posts", "method": "POST", "json": {"paging": {"limit": SIZE}},
          "paginator": {"type": "offset", "limit": SIZE, "offset_body_path": "paging.offset",
                        "limit_body_path": "paging.limit"}},
         {"paging": {"limit": SIZE, "offset": SIZE}}),
    ],
    ids=["page-in-body", "cursor-in-body", "offset-in-nested-body"],
)
def test_post_search_pages_through_its_json_body(
    links: LinkServer, endpoint: dict[str, Any], second_body: dict[str, Any]
) -> None:
    """Forum route: POST /forum/search/posts."""
    result = run_tap(config(links, endpoint))

    assert result.records("posts") == ALL
    sent = links.requests_to("/search/posts")
    assert all(entry.method == "POST" for entry in sent)
    assert all(entry.headers.get("Content-Type") == "application/json" for entry in sent)
    assert len(sent) <= PAGES + 1
    # Pages may be fetched concurrently (offset), so the second page is not always sent second.
    assert second_body in [entry.body for entry in sent[1:]], (
        "the configured body, with the paginator's position"
    )
    links.log.clear()
    assert dlt_records(links, endpoint) == ALL


def test_a_next_url_to_another_host_is_refused_and_nothing_reaches_it(links: LinkServer) -> None:
    """Forum route: /forum/redirect-style next links to a second sandbox."""
    with LinkServer() as other:
        links.elsewhere = other.base_url
        auth = {"auth": {"type": "api_key", "location": "query", "name": "api_key", "api_key": API_KEY}}
        result = run_tap(config(links, {"path": "offsite/posts"}, **auth), expect_error=True)

        message = str(result.error)
        assert "another scheme, host or port" in message
        assert "\n" not in message
        assert API_KEY not in message
        assert other.log == [], "no request, so no credential, went to the other host"


def test_an_api_key_echoed_in_next_urls_is_sent_once_and_never_kept_in_state(links: LinkServer) -> None:
    auth = {"auth": {"type": "api_key", "location": "query", "name": "api_key", "api_key": API_KEY}}
    result = run_tap(config(links, {"path": "echo/posts"}, **auth))

    assert result.records("posts") == ALL
    sent = links.requests_to("/echo/posts")
    assert len(sent) == PAGES
    assert all(entry.query["api_key"] == [API_KEY] for entry in sent), "once, and always"
    states = json.dumps(result.of_type("STATE"))
    assert "next_url" in states, "the next URL is the checkpoint"
    assert API_KEY not in states


@pytest.mark.parametrize("style", ["relative", "cursor", "header_cursor", "link"])
def test_a_killed_link_or_cursor_sync_resumes_at_its_checkpoint(
    links: LinkServer, style: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = {"path": f"{style}/posts"}
    if style == "header_cursor":
        endpoint["paginator"] = {"type": "header_cursor"}
    original = AnalyticsStream.parse_page
    pages = [0]

    def dies_after_three(self: AnalyticsStream, response: Any) -> Any:
        pages[0] += 1
        if pages[0] > 3:
            raise RuntimeError("killed")
        return original(self, response)

    monkeypatch.setattr(AnalyticsStream, "parse_page", dies_after_three)
    killed = run_tap(config(links, endpoint), expect_error=True)
    monkeypatch.setattr(AnalyticsStream, "parse_page", original)
    links.log.clear()
    resumed = run_tap(config(links, endpoint), state=killed.state)

    assert killed.records("posts") == ALL[: 3 * SIZE]
    assert resumed.records("posts") == ALL[3 * SIZE :], "from the checkpoint: none lost, none again"
    assert len(links.requests_to(f"/{style}/posts")) == PAGES - 3


def test_response_actions_ignore_a_deleted_item_and_end_the_walk(
    links: LinkServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Forum route: GET /forum/posts/{id} of a deleted post (404)."""
    endpoint = {"path": "posts/14", "response_actions": [
        {"content": "nothing to see", "action": "ignore"}, {"status_code": 404, "action": "ignore"}]}
    with caplog.at_level(logging.INFO):
        result = run_tap(config(links, endpoint))

    assert result.records("posts") == []
    assert any("ignoring the response" in m and "/posts/14" in m and "response_actions[1]" in m
               for m in caplog.messages)
    present = run_tap(config(links, {**endpoint, "path": "posts/15"}))
    assert present.records("posts") == [{"id": 15, "title": "Post 15"}], "a single object is one record"
    links.log.clear()
    assert dlt_records(links, endpoint) == []

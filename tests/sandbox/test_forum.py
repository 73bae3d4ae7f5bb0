"""The sandbox's `forum` API against its contract, seen through plain `requests` (not the tap):
paging styles, filters, posts and their children, edits, POST search.

Each paging style is walked the way its contract says (following its own stop signal), and
must yield exactly the posts of the ground truth (`srv.records("forum/posts")`), in order.
Auth modes, redirects, the request log, faults and the control endpoint: test_forum_access.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from sandbox import FORUM_STYLES, SandboxServer

TIMEOUT = 5
#: The `forum_get` fixture (conftest.py): GET a path below the forum's base URL.
Get = Callable[..., requests.Response]
MAX_PAGES = 500
N_POSTS = 230
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: The page-size parameter of each paged style.
SIZE_PARAM = {
    "offset": "limit",
    "page": "per_page",
    "page0": "size",
    "json_link": "page_size",
    "json_link_relative": "page_size",
    "odata": "$top",
    "header_link": "per_page",
    "cursor": "limit",
    "next_cursor": "limit",
    "header_cursor": "limit",
}
Page = tuple[list[dict[str, Any]], str | None, dict[str, Any] | None]


# ------------------------------------------------------------------ walking
# ------------------------------------------------------------------ walking
def _step(style: str, resp: requests.Response, params: dict[str, Any]) -> Page:
    """The records of one page and where the next one is (url, params), None at the end.

    Each branch reads only its style's documented stop signal."""
    body = resp.json()
    url = resp.url.split("?")[0]
    if style == "offset":
        data, start = body["data"], int(params.get("offset", 0))
        assert body["has_more"] == (start + len(data) < body["total"])
        return data, url if body["has_more"] else None, {**params, "offset": start + len(data)}
    if style == "page":
        more = body["page"] < body["total_pages"]
        return body["data"], url if more else None, {**params, "page": body["page"] + 1}
    if style == "page0":
        p = int(params.get("page", 0))
        return body["items"], url if p + 1 < body["total_pages"] else None, {**params, "page": p + 1}
    if style == "json_link":
        return body["results"], body["next"], None
    if style == "json_link_relative":
        nxt = body["links"]["next"]
        assert nxt is None or nxt.startswith("/forum/json_link_relative/posts?")
        return body["data"], nxt and urljoin(resp.url, nxt), None
    if style == "odata":
        return body["value"], body.get("@odata.nextLink"), None
    if style == "header_link":
        assert "last" in resp.links
        return body, resp.links.get("next", {}).get("url"), None
    if style == "cursor":
        nxt = body["cursors"]["next"]
        return body["items"], nxt and url, {**params, "cursor": nxt}
    if style == "next_cursor":
        meta = body["meta"]
        assert meta["has_more"] == (meta["next_cursor"] != "")
        return body["data"], url if meta["next_cursor"] else None, {**params, "after": meta["next_cursor"]}
    if style == "header_cursor":
        nxt = resp.headers.get("next")
        return body, nxt and url, {**params, "cursor": nxt}
    if style == "single":
        return body, None, None
    assert style == "wrapped_single"
    assert body["meta"]["count"] == len(body["data"]["posts"])
    return body["data"]["posts"], None, None


def walk(srv: SandboxServer, style: str, params: dict[str, Any] | None = None, **kw: Any) -> tuple[list, int]:
    """Every post of ``style`` by following its stop signal; also the number of requests."""
    url: str | None = f"{srv.api_url('forum')}/{style}/posts"
    query: dict[str, Any] | None = dict(params or {})
    out: list[dict[str, Any]] = []
    with requests.Session() as session:
        for n in range(1, MAX_PAGES + 1):
            assert url is not None
            resp = session.get(url, params=query, timeout=TIMEOUT, **kw)
            assert resp.status_code == 200, resp.text
            data, url, query = _step(style, resp, query or {})
            out.extend(data)
            if url is None:
                return out, n
    raise AssertionError("paging never ended")


def expected(srv: SandboxServer, sort: str = "id", keep: Callable[[dict], bool] = lambda p: True) -> list:
    posts = [p for p in srv.records("forum/posts") if keep(p)]
    return sorted(posts, key=lambda p: (p["id"],) if sort == "id" else (p["updated_at"], p["id"]))


# ------------------------------------------------------------------- paging
@pytest.mark.parametrize("style", FORUM_STYLES)
def test_each_style_walks_exactly_the_posts_in_order(srv: SandboxServer, style: str) -> None:
    posts, requests_made = walk(srv, style)
    assert posts == srv.records("forum/posts")
    assert [p["id"] for p in posts] == list(range(1, N_POSTS + 1))
    pages = 1 if style in ("single", "wrapped_single") else math.ceil(N_POSTS / 25)
    assert requests_made == pages == srv.data_request_count(f"forum/{style}/posts")


@pytest.mark.parametrize("style", [s for s in FORUM_STYLES if s in SIZE_PARAM])
def test_filters_sort_and_page_size_survive_every_page(srv: SandboxServer, style: str) -> None:
    since, until = "2024-03-03T00:00:00Z", "2024-03-08T12:00:00Z"
    params = {"updated_since": since, "updated_until": until, "sort": "updated_at", SIZE_PARAM[style]: 7}
    posts, requests_made = walk(srv, style, params)
    want = expected(srv, "updated_at", lambda p: since <= p["updated_at"] < until)
    assert posts == want
    assert requests_made == math.ceil(len(want) / 7)


def test_updated_at_ties_are_broken_by_id_across_cursor_pages(srv: SandboxServer) -> None:
    window = {"updated_since": "2024-03-01T00:00:00Z", "updated_until": "2024-03-04T00:00:00Z"}
    want = expected(srv, "updated_at", lambda p: p["updated_at"] < "2024-03-04T00:00:00Z")
    stamps = [p["updated_at"] for p in want]
    assert len(set(stamps)) < len(stamps), "the window must hold posts sharing an updated_at"
    for style in ("cursor", "next_cursor", "header_cursor"):
        assert walk(srv, style, {**window, "sort": "updated_at", "limit": 1})[0] == want


@pytest.mark.parametrize(
    ("style", "params", "status", "body"),
    [
        ("offset", {"offset": 230}, 200, {"data": [], "total": 230, "has_more": False}),
        ("page", {"page": 11}, 404, {"detail": "Invalid page."}),
        ("page", {"page": 0}, 404, {"detail": "Invalid page."}),
        ("page0", {"page": 10}, 200, {"items": [], "total_pages": 10}),
        ("json_link", {"page": 11}, 404, {"detail": "Invalid page."}),
        ("json_link_relative", {"page": 11}, 200, {"data": [], "links": {"next": None}}),
        ("odata", {"$skip": 230}, 200, {"value": []}),
        ("header_link", {"page": 11}, 200, []),
    ],
)
def test_past_the_end(
    srv: SandboxServer, forum_get: Get, style: str, params: dict, status: int, body: Any
) -> None:
    resp = forum_get(f"/{style}/posts", params=params)
    assert (resp.status_code, resp.json()) == (status, body)
    if style == "header_link":
        assert set(resp.links) == {"last"}


def test_last_pages_carry_the_stop_signal(forum_get: Get) -> None:
    assert forum_get("/page/posts", params={"page": 10}).json()["total_pages"] == 10
    last = forum_get("/json_link/posts", params={"page": 10}).json()
    assert last["next"] is None
    assert last["previous"].endswith("/forum/json_link/posts?page=9")
    assert forum_get("/json_link/posts", params={"page": 2}).json()["previous"].endswith("/json_link/posts")
    assert "@odata.nextLink" not in forum_get("/odata/posts", params={"$skip": 225}).json()
    assert "next" not in forum_get("/header_cursor/posts", params={"id_after": 210}).headers
    assert forum_get("/next_cursor/posts", params={"id_after": 210}).json()["meta"] == {
        "next_cursor": "",
        "has_more": False,
    }


def test_links_follow_the_host_header_and_keep_the_query(srv: SandboxServer, forum_get: Get) -> None:
    base = f"http://localhost:{srv.port}/forum"
    drf = requests.get(f"{base}/json_link/posts", params={"page_size": 5, "id_after": 3}, timeout=TIMEOUT)
    assert (
        drf.json()["next"]
        == f"http://localhost:{srv.port}/forum/json_link/posts?page_size=5&id_after=3&page=2"
    )
    odata = requests.get(f"{base}/odata/posts", params={"$top": 5}, timeout=TIMEOUT).json()
    assert odata["@odata.nextLink"] == f"http://localhost:{srv.port}/forum/odata/posts?$top=5&$skip=5"
    link = requests.get(f"{base}/header_link/posts", timeout=TIMEOUT).links
    assert link["next"]["url"] == f"http://localhost:{srv.port}/forum/header_link/posts?page=2"
    assert link["last"]["url"] == f"http://localhost:{srv.port}/forum/header_link/posts?page=10"
    relative = forum_get("/json_link_relative/posts").json()["links"]["next"]
    assert relative == "/forum/json_link_relative/posts?page=2"


def test_bad_parameters_are_400_and_sizes_are_clamped(forum_get: Get) -> None:
    for path, params in [
        ("/offset/posts", {"limit": 0}),
        ("/offset/posts", {"offset": -1}),
        ("/offset/posts", {"updated_since": "yesterday"}),
        ("/offset/posts", {"id_after": "x"}),
        ("/offset/posts", {"sort": "title"}),
        ("/cursor/posts", {"cursor": "not-a-token"}),
        (
            "/cursor/posts",
            {"cursor": forum_get("/cursor/posts").json()["cursors"]["next"], "sort": "updated_at"},
        ),
    ]:
        resp = forum_get(path, params=params)
        assert resp.status_code == 400, (path, params)
        assert resp.json()["error"] == "invalid_request"
    assert len(forum_get("/offset/posts", params={"limit": 500}).json()["data"]) == 100


# ---------------------------------------------------------- data and filters
def test_posts_users_and_their_shapes(srv: SandboxServer, forum_get: Get) -> None:
    posts = srv.records("forum/posts")
    assert len(posts) == N_POSTS
    for p in posts:
        assert isinstance(p["title"], str)
        assert isinstance(p["body"], str)
        assert 1 <= p["user_id"] <= 17
        assert isinstance(p["tags"], list)
        assert all(isinstance(t, str) for t in p["tags"])
        assert isinstance(p["meta"]["words"], int)
        assert isinstance(p["meta"]["flags"], dict)
        assert p["meta"]["lang"] is None or isinstance(p["meta"]["lang"], str)
        assert isinstance(p["score"], float)
        assert ISO_Z.match(p["created_at"])
        assert ISO_Z.match(p["updated_at"])
    assert len({p["updated_at"] for p in posts}) < N_POSTS  # some are equal
    users = forum_get("/users").json()
    assert [u["id"] for u in users] == list(range(1, 18))
    assert set(users[0]) == {"id", "name", "email"}
    assert forum_get("/users/3").json() == users[2]
    assert forum_get("/users/18").status_code == 404
    assert forum_get("/posts/7").json() == posts[6]
    with SandboxServer(records=1) as other:
        assert other.records("forum/posts") == posts


def test_filter_bounds(srv: SandboxServer, forum_get: Get) -> None:
    posts = srv.records("forum/posts")
    stamp = posts[40]["updated_at"]
    since = forum_get("/single/posts", params={"updated_since": stamp}).json()
    assert since == [p for p in posts if p["updated_at"] >= stamp]
    assert posts[40] in since  # inclusive
    until = forum_get("/single/posts", params={"updated_until": stamp}).json()
    assert until == [p for p in posts if p["updated_at"] < stamp]
    assert posts[40] not in until  # exclusive
    assert forum_get("/single/posts", params={"id_after": 225}).json() == posts[225:]
    by_time = forum_get("/single/posts", params={"sort": "updated_at"}).json()
    assert by_time == expected(srv, "updated_at")
    assert by_time != posts


def test_posts_by_user(srv: SandboxServer, forum_get: Get) -> None:
    mine = forum_get("/posts_by_user/9").json()
    assert mine == [p for p in srv.records("forum/posts") if p["user_id"] == 9]
    assert mine
    assert forum_get("/posts_by_user/9", params={"id_after": mine[0]["id"]}).json() == mine[1:]
    assert forum_get("/posts_by_user/99").json() == {"detail": "Not found."}


def test_comments_and_reactions(forum_get: Get) -> None:
    counts, comment_ids = [], []
    for post_id in range(1, 41):
        body = forum_get(f"/posts/{post_id}/comments").json()
        assert body["total"] == len(body["data"]) <= 4
        counts.append(body["total"])
        for c in body["data"]:
            assert c["post_id"] == post_id
            assert ISO_Z.match(c["updated_at"])
            comment_ids.append(c["id"])
            reactions = forum_get(f"/posts/{post_id}/comments/{c['id']}/reactions").json()
            assert len(reactions) <= 2
            assert all(r["comment_id"] == c["id"] and isinstance(r["kind"], str) for r in reactions)
    assert 0 in counts
    assert max(counts) == 4
    assert len(set(comment_ids)) == len(comment_ids)
    full = forum_get("/posts/1/comments").json()
    second = forum_get("/posts/1/comments", params={"offset": 1, "limit": 1}).json()
    assert second == {"data": full["data"][1:2], "total": full["total"]}
    other_posts_comment = comment_ids[-1]
    assert forum_get(f"/posts/1/comments/{other_posts_comment}/reactions").status_code == 404


def test_mutations_update_delete_add(srv: SandboxServer, forum_get: Get) -> None:
    before = srv.records("forum/posts")
    high = max(p["updated_at"] for p in before)
    result = srv.mutate("forum/posts", add=3, update=4, delete=2)
    assert result["added"] == [231, 232, 233]
    assert len(result["updated"]) == 4
    assert len(result["deleted"]) == 2
    assert not set(result["updated"]) & set(result["deleted"])
    after = srv.records("forum/posts")
    assert [p["id"] for p in after] == sorted(
        {p["id"] for p in before} - set(result["deleted"]) | {231, 232, 233}
    )
    assert walk(srv, "offset")[0] == after
    changed = forum_get("/single/posts", params={"updated_since": high, "sort": "updated_at"}).json()
    changed = [p for p in changed if p["updated_at"] > high]
    assert [p["id"] for p in changed] == [*result["updated"], *result["added"]]
    for pid in result["deleted"]:
        assert forum_get(f"/posts/{pid}").json() == {"detail": "Not found."}
        assert forum_get(f"/posts/{pid}/comments").status_code == 404
        assert forum_get(f"/posts/{pid}/comments/{(pid - 1) * 4 + 1}/reactions").status_code == 404
    with SandboxServer(records=1) as other:
        assert other.mutate("forum/posts", add=3, update=4, delete=2) == result
    assert srv.mutate("forum/posts", update=[5], delete=[6])["deleted"] == [6]
    with pytest.raises(KeyError):
        srv.mutate("forum/posts", delete=[6])  # already gone
    with pytest.raises(ValueError):
        srv.mutate("helpdesk/tickets", delete=1)


def test_counts_are_settable(srv: SandboxServer, forum_get: Get) -> None:
    srv.set_records({"forum/posts": 12, "forum/users": 3})
    assert forum_get("/offset/posts").json()["total"] == 12
    assert len(forum_get("/users").json()) == 3
    assert {p["user_id"] for p in srv.records("forum/posts")} <= {1, 2, 3}
    srv.set_records(4)  # an int sizes the seed resources only
    assert srv.record_count("forum/posts") == 12
    srv.set_records({"forum/posts": 0})
    assert forum_get("/page/posts").json() == {"data": [], "page": 1, "total_pages": 1, "total": 0}


# ------------------------------------------------------------------- search
def search(srv: SandboxServer, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    resp = requests.post(f"{srv.api_url('forum')}/search/posts", json=body, params=params, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_search_in_its_three_body_forms(srv: SandboxServer) -> None:
    tags = ["dlt", "sql"]
    want = [p for p in srv.records("forum/posts") if set(p["tags"]) & set(tags)]
    paged, cursored, offset = [], [], []
    for page in range(1, MAX_PAGES):
        body = search(srv, {"filter": {"tags": tags}, "page": page, "per_page": 10})
        assert body["total"] == len(want)
        paged += body["data"]
        if page * 10 >= body["total"]:
            break
    token = None
    for _ in range(MAX_PAGES):
        body = search(srv, {"filter": {"tags": tags}, "limit": 10, **({"cursor": token} if token else {})})
        cursored += body["data"]
        token = body["next_cursor"]
        if token is None:
            break
    for _ in range(MAX_PAGES):
        body = search(srv, {"filter": {"tags": tags}, "paging": {"offset": len(offset), "limit": 10}})
        offset += body["data"]
        if len(offset) >= body["total"]:
            break
    assert paged == cursored == offset == want
    assert search(srv, {"page": 99})["data"] == []


def test_search_filters_in_body_and_query(srv: SandboxServer) -> None:
    posts = srv.records("forum/posts")
    stamp = posts[100]["updated_at"]
    in_body = search(srv, {"filter": {"updated_since": stamp}, "per_page": 100, "page": 2})
    assert in_body["data"] == [p for p in posts if p["updated_at"] >= stamp][100:200]
    in_query = search(srv, {"limit": 5}, id_after=200, sort="updated_at")
    assert in_query["data"] == expected(srv, "updated_at", lambda p: p["id"] > 200)[:5]
    url = f"{srv.api_url('forum')}/search/posts"
    assert requests.get(url, timeout=TIMEOUT).status_code == 405
    assert requests.post(url, data=b"{nope", timeout=TIMEOUT).status_code == 400
    assert requests.post(url, json={"filter": {"tags": "dlt"}}, timeout=TIMEOUT).status_code == 400

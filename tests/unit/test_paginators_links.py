"""Link, cursor and detected paginators as pure decisions, against fake servers made of
bodies and headers; detection and data_selector detection checked against dlt's own."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tap_analytics.config import PaginatorSpec
from tap_analytics.errors import SECRETS
from tap_analytics.paging import NEXT_URL_KEY, Page, PageRequest, Paginator, PagingError
from tap_analytics.paging.detect import detect
from tap_analytics.selectors import find_records_path, select_records

BASE = "https://api.example.com"
Served = tuple[list[int], Any, dict[str, str], str]
Server = Callable[[PageRequest], Served]


def drive(paginator: Paginator, serve: Server, bound: int = 500) -> tuple[list[int], list[PageRequest]]:
    """Walk like the client does: the records kept and every request made."""
    seen: list[int] = []
    asked: list[PageRequest] = []
    while True:
        assert len(asked) < bound, "the paginator never stopped"
        request = paginator.request()
        asked.append(request)
        records, body, headers, url = serve(request)
        page = Page(len(records), None, hash(tuple(records)) if records else None,
                    body=body, headers=headers, url=url)
        more = paginator.advance(page)
        if not paginator.drop_page:
            seen.extend(records)
        if not more:
            return seen, asked


def page_of(request: PageRequest, first_url: str) -> tuple[int, str]:
    """The page number a request names (in its next URL or its params), and its URL."""
    url = request.url or first_url
    query = parse_qs(urlsplit(url).query)
    page = int(query.get("page", [request.params.get("page", 1)])[0])
    return page, url


def link_server(n: int, size: int, style: str) -> Server:
    """`style`: drf (absolute `next`), relative (`links.next`, path-absolute), query
    (`next` as `?page=2`), odata (`@odata.nextLink`), header (RFC 8288 `Link`)."""
    data = list(range(n))
    first = f"{BASE}/items"

    def serve(request: PageRequest) -> Served:
        page, url = page_of(request, first)
        records = data[(page - 1) * size : page * size]
        more = page * size < n
        following = {
            "drf": f"{BASE}/items?page={page + 1}",
            "relative": f"/items?page={page + 1}",
            "query": f"?page={page + 1}",
            "odata": f"{BASE}/items?page={page + 1}",
            "header": f"{BASE}/items?page={page + 1}",
        }[style]
        headers: dict[str, str] = {}
        if style == "drf":
            body: Any = {"count": n, "next": following if more else None, "results": records}
        elif style == "relative":
            body = {"data": records, "links": {"next": following if more else None}}
        elif style == "query":
            body = {"data": records, "next": following if more else None}
        elif style == "odata":
            body = {"value": records, **({"@odata.nextLink": following} if more else {})}
        else:
            body = records
            links = [f'<{BASE}/items?page=1>; rel="first"']
            if more:
                links.insert(0, f'<{following}>; rel="next"')
            headers["Link"] = ", ".join(links)
        return records, body, headers, url

    return serve


LINK_STYLES = {
    "drf": {"type": "json_link", "next_url_path": "next"},
    "relative": {"type": "json_link", "next_url_path": "links.next"},
    "query": {"type": "json_link"},
    "odata": {"type": "json_link", "next_url_path": "$['@odata.nextLink']"},
    "header": {"type": "header_link"},
}


@given(n=st.integers(0, 120), size=st.integers(1, 30), style=st.sampled_from(sorted(LINK_STYLES)))
def test_link_paging_reads_every_record_once_with_no_request_beyond(n: int, size: int, style: str) -> None:
    config = dict(LINK_STYLES[style])
    paginator = PaginatorSpec(config.pop("type"), config).new()
    seen, asked = drive(paginator, link_server(n, size, style))
    assert seen == list(range(n))
    assert len(asked) == max(1, math.ceil(n / size))
    assert asked[0] == PageRequest(), "the first request is the endpoint's own"
    assert all(r.url is not None and r.url.startswith(BASE + "/items?page=") for r in asked[1:])
    assert paginator.speculate(8) == [], "links cannot be guessed: sequential"


def _served(body: Any, url: str = f"{BASE}/items", headers: dict[str, str] | None = None) -> Page:
    records = body.get("results", []) if isinstance(body, dict) else body
    return Page(len(records), None, hash(json.dumps(body)), body=body, headers=headers or {}, url=url)


@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example.net/items?page=2", "http://api.example.com/items?page=2",
     "https://api.example.com:8443/items?page=2", "//evil.example.net/items?page=2"],
)
def test_a_next_url_on_another_origin_is_refused_in_one_line(elsewhere: str) -> None:
    paginator = PaginatorSpec("json_link", {}).new()
    with pytest.raises(PagingError) as caught:
        paginator.advance(_served({"results": [1], "next": elsewhere}))
    message = str(caught.value)
    assert "another scheme, host or port" in message
    assert "credentials" in message
    assert "\n" not in message


def test_a_credential_the_server_echoes_in_a_next_url_is_stripped() -> None:
    secret = "ak-unit-links-SECRET-8d1f"
    SECRETS.add(secret)
    paginator = PaginatorSpec("json_link", {}).new()
    came_from = f"{BASE}/items?api_key={secret}&page=1"
    assert paginator.advance(_served(
        {"results": [1], "next": f"{BASE}/items?api_key={secret}&page=2&cursor=a%2Bb"}, came_from
    ))
    assert paginator.request().url == f"{BASE}/items?page=2&cursor=a%2Bb", "the rest untouched"
    assert secret not in json.dumps(paginator.checkpoint())


def test_the_same_next_url_again_is_an_error_not_a_loop() -> None:
    paginator = PaginatorSpec("json_link", {}).new()
    assert paginator.advance(_served({"results": [1], "next": f"{BASE}/items?page=2"}))
    with pytest.raises(PagingError, match="again"):
        paginator.advance(_served({"results": [2], "next": f"{BASE}/items?page=2"}, f"{BASE}/items?page=2"))


def test_header_link_with_a_custom_relation_and_several_links() -> None:
    paginator = PaginatorSpec("header_link", {"links_next_key": "forward"}).new()
    link = f'<{BASE}/items?page=2>; rel="forward", <{BASE}/items?page=9>; rel="last"'
    assert paginator.advance(_served([1, 2], headers={"link": link}))
    assert paginator.request().url == f"{BASE}/items?page=2"
    assert not paginator.advance(_served([3], headers={"Link": f'<{BASE}/items?page=9>; rel="last"'}))


# --- cursors ---------------------------------------------------------------------------


def cursor_server(n: int, size: int, *, where: str = "param", empty_at_end: bool = False) -> Server:
    """Opaque cursors (`c<offset>`); the cursor travels in the query or in the body."""
    data = list(range(n))

    def serve(request: PageRequest) -> Served:
        token = request.params.get("cursor") if where == "param" else request.body.get("paging.cursor")
        offset = int(str(token)[1:]) if token else 0
        records = data[offset : offset + size]
        following = f"c{offset + size}" if offset + size < n or empty_at_end else None
        return records, {"items": records, "cursors": {"next": following}}, {}, f"{BASE}/items"

    return serve


@given(n=st.integers(0, 120), size=st.integers(1, 30), where=st.sampled_from(["param", "body"]))
def test_cursor_paging_reads_every_record_once(n: int, size: int, where: str) -> None:
    options = {"cursor_path": "cursors.next"}
    options |= {"cursor_param": "cursor"} if where == "param" else {"cursor_body_path": "paging.cursor"}
    paginator = PaginatorSpec("cursor", options).new()
    seen, asked = drive(paginator, cursor_server(n, size, where=where))
    assert seen == list(range(n))
    assert len(asked) == max(1, math.ceil(n / size))
    assert asked[0] == PageRequest()
    if len(asked) > 1:
        assert (asked[1].params if where == "param" else asked[1].body) != {}


def test_cursor_stop_rules_are_dlts() -> None:
    """dlt's defaults: an empty page does not stop a cursor walk (the cursor does), unless
    stop_after_empty_page; a false has_more does; an empty cursor does."""
    keeps_going = PaginatorSpec("cursor", {}).new()
    assert keeps_going.advance(Page(0, body={"cursors": {"next": "x"}}))
    stops = PaginatorSpec("cursor", {"stop_after_empty_page": True}).new()
    assert not stops.advance(Page(0, body={"cursors": {"next": "x"}}))
    more = PaginatorSpec("cursor", {"cursor_path": "meta.next", "has_more_path": "meta.has_more"}).new()
    assert not more.advance(Page(1, fingerprint=1, body={"meta": {"next": "x", "has_more": False}}))
    empty = PaginatorSpec("cursor", {"cursor_path": "next_cursor"}).new()
    assert not empty.advance(Page(1, fingerprint=1, body={"next_cursor": ""}))


def test_a_repeated_cursor_is_an_error_naming_the_parameter() -> None:
    paginator = PaginatorSpec("cursor", {"cursor_path": "next", "cursor_param": "after"}).new()
    assert paginator.advance(Page(1, fingerprint=1, body={"next": "abc"}))
    assert paginator.request().params == {"after": "abc"}
    with pytest.raises(PagingError, match="cursor_param"):
        paginator.advance(Page(1, fingerprint=2, body={"next": "abc"}))


def test_header_cursor() -> None:
    paginator = PaginatorSpec("header_cursor", {"cursor_key": "X-Next", "cursor_param": "from"}).new()
    assert paginator.advance(Page(2, fingerprint=1, headers={"x-next": "t2"}))
    assert paginator.request() == PageRequest(params={"from": "t2"})
    assert not paginator.advance(Page(2, fingerprint=2, headers={}))


# --- resume: every paginator's checkpoint restores the walk where it stopped ---------------

WALKS: dict[str, tuple[dict[str, Any], Callable[[], Server]]] = {
    "offset": ({"type": "offset", "limit": 7}, lambda: offset_like(50)),
    "page_number": ({"type": "page_number", "limit": 7, "limit_param": "per_page"}, lambda: paged_like(50)),
    "json_link": ({"type": "json_link"}, lambda: link_server(50, 7, "drf")),
    "header_link": ({"type": "header_link"}, lambda: link_server(50, 7, "header")),
    "cursor": ({"type": "cursor"}, lambda: cursor_server(50, 7)),
    "auto": ({"type": "auto"}, lambda: link_server(50, 7, "relative")),
}


def offset_like(n: int) -> Server:
    def serve(request: PageRequest) -> Served:
        offset, limit = request.params["offset"], request.params["limit"]
        records = list(range(n))[offset : offset + limit]
        return records, {"data": records, "total": n}, {}, f"{BASE}/items"
    return serve


def paged_like(n: int) -> Server:
    def serve(request: PageRequest) -> Served:
        page, size = request.params["page"], request.params["per_page"]
        records = list(range(n))[(page - 1) * size : page * size]
        return records, {"data": records, "total": math.ceil(n / size)}, {}, f"{BASE}/items"
    return serve


@given(kind=st.sampled_from(sorted(WALKS)), stop_after=st.integers(1, 7))
def test_a_checkpoint_resumes_every_paginator_where_it_stopped(kind: str, stop_after: int) -> None:
    config, server = WALKS[kind]
    options = {k: v for k, v in config.items() if k != "type"}
    serve = server()
    first = PaginatorSpec(config["type"], options).new()
    seen: list[int] = []
    for _ in range(stop_after):
        records, body, headers, url = serve(first.request())
        seen += records
        page = Page(len(records), None, hash(tuple(records)), body=body, headers=headers, url=url)
        if not first.advance(page):
            return  # the walk ended before the interruption
    saved = json.loads(json.dumps(first.checkpoint()))  # STATE is JSON
    resumed = PaginatorSpec(config["type"], options).new()
    assert resumed.restore(saved), saved
    assert resumed.request() == first.request()
    rest, _ = drive(resumed, serve)
    assert seen + rest == list(range(50))


def test_a_restored_next_url_must_be_an_http_url() -> None:
    paginator = PaginatorSpec("json_link", {}).new()
    assert not paginator.restore({NEXT_URL_KEY: "file:///etc/passwd"})
    assert not paginator.restore({NEXT_URL_KEY: 7})
    assert paginator.request() == PageRequest()


# --- auto-detection: dlt's rules, in dlt's order ----------------------------------------------


def response_of(page: Page) -> requests.Response:
    made = requests.Response()
    made._content = json.dumps(page.body).encode()
    made.status_code = 200
    made.url = page.url or f"{BASE}/items"
    made.headers.update(page.headers)
    return made


DETECTION_CASES = [
    (Page(2, body=[1, 2], headers={"Link": f'<{BASE}/x?page=2>; rel="next"'}), "header_link"),
    (Page(2, body={"results": [1, 2], "next": f"{BASE}/x?page=2", "count": 9}), "json_link"),
    (Page(2, body={"data": [1, 2], "links": {"next": "/x?page=2"}}), "json_link"),
    (Page(2, body={"data": [1, 2], "pagination": {"next": {"href": f"{BASE}/x?p=2"}}}), "json_link"),
    (Page(2, body={"items": [1, 2], "total_pages": 4}), "page_number"),
    (Page(2, body={"items": [1, 2], "cursors": {"next": "b64=="}}), "cursor"),
    (Page(2, body={"data": [1, 2], "meta": {"next_cursor": "abc", "has_more": True}}), "cursor"),
    (Page(2, body={"data": [1, 2], "next": None, "count": 2}), "single_page"),
    (Page(1, body={"id": 1, "total": 99}), "single_page"),
    (Page(2, body=[1, 2]), "single_page"),
]
DLT_NAMES = {"HeaderLinkPaginator": "header_link", "JSONLinkPaginator": "json_link",
             "PageNumberPaginator": "page_number", "JSONResponseCursorPaginator": "cursor",
             "SinglePagePaginator": "single_page"}


@pytest.mark.parametrize(("page", "kind"), DETECTION_CASES)
def test_detection_finds_what_dlt_finds(page: Page, kind: str) -> None:
    factory = pytest.importorskip("dlt.sources.helpers.rest_client.detector").PaginatorFactory()
    found = detect(page)
    assert found.config["type"] == kind
    dlt_paginator, _ = factory.create_paginator(response_of(page))
    assert DLT_NAMES[type(dlt_paginator).__name__] == kind
    for option in ("next_url_path", "cursor_path", "total_path"):
        if option in found.config:
            assert str(getattr(dlt_paginator, option)) == found.config[option]


@pytest.mark.parametrize(
    ("body", "headers", "hint"),
    [
        ({"data": [1, 2], "has_more": True}, {}, "has_more"),
        ({"data": [1, 2], "total": 1234}, {}, "1234"),
        ({"value": [1, 2], "@odata.nextLink": f"{BASE}/x?$skip=2"}, {}, "@odata.nextLink"),
        ({"records": [1, 2], "meta": {"continuation": "tok"}}, {}, "continuation"),
        ([1, 2], {"X-Total-Count": "50"}, "X-Total-Count"),
    ],
)
def test_paging_hints_no_rule_reads_fail_clearly(body: Any, headers: dict[str, str], hint: str) -> None:
    with pytest.raises(PagingError) as caught:
        detect(Page(2, body=body, headers=headers))
    message = str(caught.value)
    assert hint in message
    assert "endpoint.paginator" in message
    assert "\n" not in message


def page_number_server(n: int, size: int, base: int) -> Server:
    """A server without paging parameters in its answers but `total_pages`; pages count
    from `base`, and a request without `page` gets the first."""
    data = list(range(n))

    def serve(request: PageRequest) -> Served:
        index = request.params.get("page", base) - base
        records = data[index * size : (index + 1) * size] if index >= 0 else []
        return records, {"items": records, "total_pages": max(1, math.ceil(n / size))}, {}, f"{BASE}/x"

    return serve


@given(n=st.integers(0, 100), size=st.integers(1, 20), base=st.sampled_from([0, 1]))
def test_detected_page_numbers_read_every_page_once_from_either_base(n: int, size: int, base: int) -> None:
    paginator = PaginatorSpec("auto", {}).new()
    seen, asked = drive(paginator, page_number_server(n, size, base))
    assert seen == list(range(n))
    assert len(asked) <= max(1, math.ceil(n / size)) + 1
    assert paginator.detected is not None
    assert "total_pages" in paginator.detected


# --- data_selector detection: dlt's find_response_page_data ----------------------------------

json_leaf = st.one_of(st.none(), st.integers(), st.text(max_size=3))
bodies = st.recursive(
    st.one_of(json_leaf, st.lists(st.fixed_dictionaries({"id": st.integers()}), max_size=3)),
    lambda inner: st.dictionaries(
        st.sampled_from(["data", "items", "results", "meta", "links", "x", "rows", "page"]), inner,
        max_size=4,
    ),
    max_leaves=10,
)


@given(body=bodies)
def test_data_selector_detection_is_dlts(body: Any) -> None:
    detector = pytest.importorskip("dlt.sources.helpers.rest_client.detector")
    jsonpath = pytest.importorskip("dlt.common.jsonpath")
    dlt_path, _ = detector.find_response_page_data(body)
    ours = find_records_path(body)
    expected = jsonpath.find_values(".".join(dlt_path), body)
    expected = expected[0] if len(expected) == 1 else expected
    assert ".".join(dlt_path) == ("$" if ours == "$" else ours)
    if isinstance(expected, list) and all(isinstance(r, dict) for r in expected):
        assert select_records(body, ours, "test") == expected
    elif isinstance(expected, dict):
        assert select_records(body, ours, "test") == [expected]


@pytest.mark.parametrize(
    ("selector", "body"),
    [
        ("results['posts']", {"results": {"posts": [{"id": 1}]}}),
        ("$['data']['posts']", {"data": {"posts": [{"id": 1}]}}),
        ("$['@odata.value']", {"@odata.value": [{"id": 1}]}),
        ("data", {"data": {"id": 1}}),
        ("$", {"id": 1}),
    ],
)
def test_bracket_selectors_and_single_objects(selector: str, body: Any) -> None:
    assert select_records(body, selector, "test") == [{"id": 1}]

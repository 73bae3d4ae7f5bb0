"""Paginators: stop rules, no record lost, repeats detected; driven by a pure fake server."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tap_analytics.config import PaginatorSpec
from tap_analytics.paging import (
    OffsetPaginator,
    Page,
    PageNumberPaginator,
    Paginator,
    PagingError,
    SinglePagePaginator,
)

Server = Callable[[dict[str, Any]], tuple[list[int], int | None]]


def offset_server(
    n: int,
    *,
    cap: int | None = None,
    with_total: bool = True,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> Server:
    """A server over records 0..n-1: returns at most min(limit, cap) from the offset."""
    records = list(range(n))

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        size = params[limit_param] if cap is None else min(params[limit_param], cap)
        offset = params[offset_param]
        return records[offset : offset + size], (n if with_total else None)

    return serve


def page_number_server(
    n: int,
    *,
    per_page_default: int = 10,
    cap: int | None = None,
    with_total: bool = True,
    base_page: int = 1,
    page_param: str = "page",
    limit_param: str = "per_page",
) -> Server:
    """A server over records 0..n-1 by page number; its total is the number of pages."""
    records = list(range(n))

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        size = params.get(limit_param, per_page_default)
        if cap is not None:
            size = min(size, cap)
        index = params[page_param] - base_page
        page = records[index * size : (index + 1) * size] if index >= 0 else []
        return page, (math.ceil(n / size) if with_total else None)

    return serve


def walk(
    paginator: Paginator, serve: Server, limit: int = 10_000
) -> tuple[list[int], list[dict[str, Any]]]:
    """Drive the paginator like the client does; the records seen and every request's params."""
    seen: list[int] = []
    asked: list[dict[str, Any]] = []
    while True:
        assert len(asked) < limit, "the paginator never stopped"
        params = paginator.params()
        asked.append(params)
        page, total = serve(params)
        seen.extend(page)
        fingerprint = hash(tuple(page)) if page else None
        if not paginator.advance(Page(len(page), total, fingerprint)):
            break
    assert paginator.finished
    return seen, asked


# --- offset: stop rules ------------------------------------------------------------


@pytest.mark.parametrize(("n", "expected_offsets"), [(250, [0, 100, 200]), (300, [0, 100, 200])])
def test_offset_with_total_makes_no_request_beyond_the_data(n: int, expected_offsets: list[int]) -> None:
    seen, asked = walk(OffsetPaginator(limit=100), offset_server(n))
    assert seen == list(range(n))
    assert [p["offset"] for p in asked] == expected_offsets
    assert all(p["limit"] == 100 for p in asked)


def test_offset_without_total_reads_past_a_short_page_to_an_empty_one() -> None:
    # As dlt: a short page may be a filtered one mid-data; only an empty page ends the walk.
    seen, asked = walk(OffsetPaginator(limit=100), offset_server(250, with_total=False))
    assert seen == list(range(250))
    assert [p["offset"] for p in asked] == [0, 100, 200, 250]


def test_offset_without_total_exact_multiple_makes_exactly_one_extra_request() -> None:
    seen, asked = walk(OffsetPaginator(limit=100), offset_server(300, with_total=False))
    assert seen == list(range(300))
    assert [p["offset"] for p in asked] == [0, 100, 200, 300]


def test_offset_without_total_short_first_page_is_not_trusted_as_the_end() -> None:
    # The server may cap its page size: a short first page must be followed by one more request.
    seen, asked = walk(OffsetPaginator(limit=100), offset_server(30, with_total=False))
    assert seen == list(range(30))
    assert [p["offset"] for p in asked] == [0, 30]


@pytest.mark.parametrize("with_total", [True, False])
def test_empty_first_page_ends_the_walk_after_one_request(with_total: bool) -> None:
    paginator = OffsetPaginator(limit=100)
    seen, asked = walk(paginator, offset_server(0, with_total=with_total))
    assert seen == []
    assert asked == [{"offset": 0, "limit": 100}]
    assert paginator.pages == 1
    assert paginator.records == 0


@pytest.mark.parametrize("with_total", [True, False])
def test_server_capping_page_size_loses_nothing(with_total: bool) -> None:
    # We ask for 100, the server gives 40: the offset must move by 40, not by 100.
    seen, asked = walk(OffsetPaginator(limit=100), offset_server(250, cap=40, with_total=with_total))
    assert seen == list(range(250))
    offsets = [p["offset"] for p in asked]
    assert offsets[:7] == [0, 40, 80, 120, 160, 200, 240]
    assert len(asked) == 7 if with_total else len(asked) <= 8


def test_server_ignoring_offset_is_a_paging_error_naming_the_parameter() -> None:
    def ignores_offset(params: dict[str, Any]) -> tuple[list[int], int | None]:
        return list(range(params["count"])), None

    paginator = OffsetPaginator(limit=10, offset_param="skip", limit_param="count")
    with pytest.raises(PagingError) as caught:
        walk(paginator, ignores_offset)
    message = str(caught.value)
    assert "skip=10" in message
    assert "offset_param" in message
    assert "\n" not in message
    assert paginator.finished


def test_server_ignoring_page_number_is_a_paging_error_naming_the_parameter() -> None:
    def ignores_page(params: dict[str, Any]) -> tuple[list[int], int | None]:
        return list(range(20)), 5

    paginator = PageNumberPaginator(page_param="pg", limit=20, limit_param="size")
    with pytest.raises(PagingError) as caught:
        walk(paginator, ignores_page)
    assert "pg=2" in str(caught.value)
    assert "page_param" in str(caught.value)


def test_a_repeat_is_excused_only_by_a_total_never_seen_before() -> None:
    """Inserts at the head raise the total to a new high, and may repeat a page; a total
    that falls and rises back to an old value is no such excuse, or a wobbling server
    could repeat pages forever."""
    paginator = PageNumberPaginator(limit=2, limit_param="n")
    assert paginator.advance(Page(2, 50, fingerprint=1))
    assert paginator.advance(Page(2, 60, fingerprint=1))  # new high: records shifted
    assert paginator.advance(Page(2, 40, fingerprint=2))
    with pytest.raises(PagingError):
        paginator.advance(Page(2, 60, fingerprint=1))  # back up, but not past 60


def test_repeat_detection_ignores_pages_without_fingerprint() -> None:
    paginator = OffsetPaginator(limit=2)
    assert paginator.advance(Page(2, None, None))
    assert paginator.advance(Page(2, None, None))
    assert paginator.offset == 4


def test_maximum_offset_stops_the_walk() -> None:
    seen, asked = walk(OffsetPaginator(limit=10, maximum_offset=25), offset_server(100))
    assert [p["offset"] for p in asked] == [0, 10, 20]
    assert seen == list(range(30))


def test_offset_start_and_custom_parameter_names() -> None:
    paginator = OffsetPaginator(limit=5, offset=10, offset_param="skip", limit_param="take")
    assert paginator.params() == {"skip": 10, "take": 5}
    seen, _ = walk(paginator, offset_server(17, offset_param="skip", limit_param="take"))
    assert seen == list(range(10, 17))


def test_single_page_paginator_makes_one_request() -> None:
    paginator = SinglePagePaginator()
    assert paginator.params() == {}
    assert paginator.advance(Page(500, None, 1)) is False
    assert paginator.finished


# --- page numbers --------------------------------------------------------------------


def page_walk(base_page: int, **options: Any) -> PageNumberPaginator:
    """A page-number walk as the configuration builds it (explicit start page)."""
    return PageNumberPaginator(page=base_page, base_page=base_page, **options)


def test_page_number_paginator_starts_at_base_page_zero() -> None:
    # Constructed with only base_page=0, the walk must start at page 0, or page 0 is lost.
    assert PageNumberPaginator(base_page=0).params() == {"page": 0}


def test_page_number_spec_with_base_page_zero_starts_at_zero() -> None:
    paginator = PaginatorSpec("page_number", {"base_page": 0}).new()
    seen, asked = walk(paginator, page_number_server(15, base_page=0))
    assert seen == list(range(15))
    assert [p["page"] for p in asked] == [0, 1]


@pytest.mark.parametrize("base_page", [0, 1])
def test_page_number_with_total_pages_stops_at_the_last_page(base_page: int) -> None:
    paginator = page_walk(base_page, limit=10, limit_param="per_page")
    seen, asked = walk(paginator, page_number_server(25, base_page=base_page))
    assert seen == list(range(25))
    assert [p["page"] for p in asked] == [base_page, base_page + 1, base_page + 2]
    assert all(p["per_page"] == 10 for p in asked)


@pytest.mark.parametrize("base_page", [0, 1])
def test_page_number_without_total(base_page: int) -> None:
    paginator = page_walk(base_page, limit=10, limit_param="per_page")
    seen, asked = walk(paginator, page_number_server(30, base_page=base_page, with_total=False))
    assert seen == list(range(30))
    # exact multiple: one empty page beyond the data, no more
    assert [p["page"] for p in asked] == [base_page + i for i in range(4)]


def test_page_number_starts_at_base_page_even_if_page_is_lower() -> None:
    assert PageNumberPaginator(page=0, base_page=1).params() == {"page": 1}


def test_page_number_without_limit_param_sends_only_the_page() -> None:
    assert PageNumberPaginator().params() == {"page": 1}


def test_maximum_page_is_exclusive_as_in_dlt() -> None:
    """dlt stops once the page number reaches `maximum_page`: pages below it are read."""
    paginator = PageNumberPaginator(limit=10, limit_param="per_page", maximum_page=3)
    seen, asked = walk(paginator, page_number_server(1000))
    assert [p["page"] for p in asked] == [1, 2]
    assert seen == list(range(20))


# --- speculation (the plan a concurrent fetcher may request ahead) --------------------


def test_speculate_is_empty_before_the_first_page_and_after_the_end() -> None:
    paginator = OffsetPaginator(limit=10)
    assert paginator.speculate(5) == []
    paginator.advance(Page(10, 25, 1))
    paginator.advance(Page(10, 25, 2))
    paginator.advance(Page(5, 25, 3))
    assert paginator.finished
    assert paginator.speculate(5) == []


def test_offset_speculation_follows_the_received_page_size_within_the_total() -> None:
    paginator = OffsetPaginator(limit=100)
    paginator.advance(Page(40, 250, 1))  # the server caps at 40
    assert paginator.params() == {"offset": 40, "limit": 100}
    assert [g.params for g in paginator.speculate(10)] == [
        {"offset": o, "limit": 100} for o in (80, 120, 160, 200, 240)
    ]
    assert [g.params for g in paginator.speculate(2)] == [
        {"offset": 80, "limit": 100}, {"offset": 120, "limit": 100}
    ]


def test_offset_speculation_respects_maximum_offset() -> None:
    paginator = OffsetPaginator(limit=10, maximum_offset=45)
    paginator.advance(Page(10, None, 1))
    assert [p.params["offset"] for p in paginator.speculate(10)] == [20, 30, 40]


@pytest.mark.parametrize("base_page", [0, 1])
def test_page_number_speculation_within_total_pages_and_maximum(base_page: int) -> None:
    paginator = page_walk(base_page, limit=10, limit_param="per_page")
    paginator.advance(Page(10, 4, 1))  # 4 pages in all
    assert [p.params["page"] for p in paginator.speculate(10)] == [base_page + 2, base_page + 3]
    capped = page_walk(base_page, maximum_page=base_page + 3)  # pages below it, as in dlt
    capped.advance(Page(10, None, 1))
    assert [p.params["page"] for p in capped.speculate(10)] == [base_page + 2]


# --- PaginatorSpec: from configuration to a fresh walk --------------------------------


def test_paginator_spec_builds_fresh_walks() -> None:
    spec = PaginatorSpec("offset", {"limit": 50, "offset_param": "skip", "maximum_offset": 500})
    first = spec.new()
    first.advance(Page(50, None, 1))
    second = spec.new()
    assert isinstance(second, OffsetPaginator)
    assert second.params() == {"skip": 0, "limit": 50}
    assert second.maximum_offset == 500
    assert spec.total_path == "total"


def test_page_number_spec_defaults() -> None:
    paginator = PaginatorSpec("page_number", {"base_page": 0, "limit": 100}).new()
    assert isinstance(paginator, PageNumberPaginator)
    assert paginator.params() == {"page": 0, "per_page": 100}
    assert PaginatorSpec("page_number", {"total_path": "meta.pages"}).total_path == "meta.pages"
    assert PaginatorSpec("single_page").total_path is None


# --- properties: every record exactly once, bounded request counts ----------------------


def expected_requests(n: int, page_size: int) -> int:
    return max(1, math.ceil(n / page_size))


@given(
    n=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    cap=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    with_total=st.booleans(),
)
def test_offset_walk_property(n: int, limit: int, cap: int | None, with_total: bool) -> None:
    paginator = OffsetPaginator(limit=limit)
    seen, asked = walk(paginator, offset_server(n, cap=cap, with_total=with_total))
    assert seen == list(range(n)), "every record exactly once, in order"
    page_size = limit if cap is None else min(limit, cap)
    needed = expected_requests(n, page_size)
    if with_total or n == 0:
        assert len(asked) == needed, "no request beyond the data when the total is known"
    else:
        assert needed <= len(asked) <= needed + 1, "at most one request beyond the data"
    assert paginator.records == n


@given(
    n=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    cap=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    with_total=st.booleans(),
    base_page=st.sampled_from([0, 1]),
)
def test_page_number_walk_property(
    n: int, limit: int, cap: int | None, with_total: bool, base_page: int
) -> None:
    paginator = page_walk(base_page, limit=limit, limit_param="per_page")
    server = page_number_server(n, cap=cap, with_total=with_total, base_page=base_page)
    seen, asked = walk(paginator, server)
    assert seen == list(range(n))
    page_size = limit if cap is None else min(limit, cap)
    needed = expected_requests(n, page_size)
    if with_total or n == 0:
        assert len(asked) == needed
    else:
        assert needed <= len(asked) <= needed + 1
    assert [p["page"] for p in asked] == list(range(base_page, base_page + len(asked)))


@given(
    n=st.integers(min_value=1, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    cap=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    ahead=st.integers(min_value=1, max_value=8),
)
def test_offset_speculation_with_total_never_goes_beyond_the_data(
    n: int, limit: int, cap: int | None, ahead: int
) -> None:
    """With a total, every guessed page is one the walk really requests (so a concurrent
    fetcher neither wastes requests nor asks beyond the data)."""
    paginator = OffsetPaginator(limit=limit)
    serve = offset_server(n, cap=cap)
    guessed: list[dict[str, Any]] = []
    asked: list[dict[str, Any]] = []
    while True:
        params = paginator.params()
        asked.append(params)
        guessed.extend(g.params for g in paginator.speculate(ahead))
        page, total = serve(params)
        if not paginator.advance(Page(len(page), total, hash(tuple(page)) if page else None)):
            break
    assert all(g["offset"] < n for g in guessed)
    assert all(g in asked for g in guessed)


# --- totals that count records, pages, or nothing the pages explain (issue 8 §4) ---------


def page_number_server_counting_records(n: int, *, per_page_default: int = 10) -> Server:
    """DRF's PageNumberPagination shape: the total (`count`) is the number of records."""
    records = list(range(n))

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        size = params.get("per_page", per_page_default)
        index = params["page"] - 1
        return records[index * size : (index + 1) * size], n

    return serve


def drive_with_lookahead(
    paginator: Paginator, serve: Server, ahead: int
) -> tuple[list[int], list[dict[str, Any]], list[dict[str, Any]]]:
    """Like `walk`, also collecting what a concurrent fetcher would request ahead."""
    seen: list[int] = []
    asked: list[dict[str, Any]] = []
    guessed: list[dict[str, Any]] = []
    while True:
        assert len(asked) < 10_000, "the paginator never stopped"
        params = paginator.params()
        asked.append(params)
        if paginator.knows_total:
            guessed.extend(g.params for g in paginator.speculate(ahead))
        page, total = serve(params)
        seen.extend(page)
        if not paginator.advance(Page(len(page), total, hash(tuple(page)) if page else None)):
            return seen, asked, guessed


@given(
    n=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    ahead=st.integers(min_value=1, max_value=8),
)
def test_page_numbers_with_a_total_of_records_stop_at_the_data(n: int, limit: int, ahead: int) -> None:
    """DRF's `count` on page numbers: every record once, requests = pages needed + at
    most 1, and no page guessed ahead lies past the data (today the total is read as
    pages: a walk of 3 pages asks for up to `count` of them)."""
    paginator = PageNumberPaginator(limit=limit, limit_param="per_page")
    seen, asked, guessed = drive_with_lookahead(
        paginator, page_number_server_counting_records(n), ahead
    )
    assert seen == list(range(n))
    needed = expected_requests(n, limit)
    assert needed <= len(asked) <= needed + 1
    last_page = max(1, math.ceil(n / limit))
    assert all(g["page"] <= last_page for g in guessed), guessed


@given(
    n=st.integers(min_value=1, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    ahead=st.integers(min_value=1, max_value=8),
)
def test_page_numbers_with_a_total_of_pages_read_every_page(n: int, limit: int, ahead: int) -> None:
    """dlt's reading (seed 003's events): the total counts pages; every page is read,
    none beyond, and the guesses stay within them."""
    paginator = PageNumberPaginator(limit=limit, limit_param="per_page")
    seen, asked, guessed = drive_with_lookahead(paginator, page_number_server(n), ahead)
    assert seen == list(range(n))
    pages = math.ceil(n / limit)
    assert len(asked) <= pages + 1
    assert all(g["page"] <= pages for g in guessed)


def offset_server_counting_pages(n: int) -> Server:
    records = list(range(n))

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        offset, size = params["offset"], params["limit"]
        return records[offset : offset + size], math.ceil(n / size)

    return serve


@given(
    n=st.integers(min_value=0, max_value=400),
    limit=st.integers(min_value=1, max_value=60),
    ahead=st.integers(min_value=1, max_value=8),
)
def test_offset_with_a_total_of_pages_loses_nothing(n: int, limit: int, ahead: int) -> None:
    """A total the records exceed counts pages, whatever paginator reads it: offset
    paging does not stop after the first page (dlt would)."""
    pages = math.ceil(n / limit)
    # Records read at a full page equal to the page count is read as records, dlt's
    # reading of an offset total (see the next test).
    assume(all(k * limit != pages for k in range(1, pages)))
    paginator = OffsetPaginator(limit=limit)
    seen, asked, guessed = drive_with_lookahead(paginator, offset_server_counting_pages(n), ahead)
    assert seen == list(range(n))
    needed = expected_requests(n, limit)
    assert needed <= len(asked) <= needed + 1
    assert all(g["offset"] < max(n, 1) for g in guessed)


def test_an_offset_total_reached_exactly_is_read_as_records() -> None:
    """The one case the pages cannot tell apart: as many records read, at a full page,
    as the total says. Offset paging reads it as records (dlt's reading): no request
    beyond the data of an API whose total counts records."""
    paginator = OffsetPaginator(limit=10)
    assert paginator.advance(Page(10, 20, 1))
    assert not paginator.advance(Page(10, 20, 2))


def test_a_total_the_pages_contradict_costs_at_most_one_request() -> None:
    paginator = PageNumberPaginator(limit=10, limit_param="per_page")

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        page = list(range(25))[(params["page"] - 1) * 10 : params["page"] * 10]
        return page, 1000  # neither 25 records nor 3 pages

    seen, asked = walk(paginator, serve)
    assert seen == list(range(25))
    # The short third page does not end it (the total says more): the empty fourth does.
    assert len(asked) == 4


def test_the_data_visibly_ended_decides_whether_a_missing_page_is_the_end() -> None:
    full = PageNumberPaginator(limit=10, limit_param="per_page")
    assert not full.missing_page_ends(), "the first page of a fresh walk: a 404 is an error"
    full.advance(Page(10, None, 1))
    assert not full.missing_page_ends(), "a full page and no total: nothing says it ended"
    short = PageNumberPaginator(limit=10, limit_param="per_page")
    short.advance(Page(4, None, 1))
    assert short.missing_page_ends(), "a short previous page"
    reached = PageNumberPaginator(limit=10, limit_param="per_page")
    reached.advance(Page(10, 20, 1))
    assert reached.advance(Page(10, 20, 2)), "20 may count pages: one more page tells"
    assert reached.missing_page_ends(), "the records reached the total"
    resumed = PageNumberPaginator(limit=10, limit_param="per_page")
    assert resumed.restore({"page": 4, "per_page": 10})
    assert resumed.missing_page_ends(), "a checkpoint past the end, from an earlier run"
    at_start = PageNumberPaginator(limit=10, limit_param="per_page")
    assert at_start.restore({"page": 1})
    assert not at_start.missing_page_ends()


# --- dlt's options: has_more_path, stop_after_empty_page, total_path null, body paths -------


def test_has_more_false_ends_the_walk_and_a_missing_flag_is_an_error() -> None:
    paginator = PaginatorSpec("offset", {"limit": 2, "total_path": None, "has_more_path": "more"}).new()
    assert paginator.advance(Page(2, body={"more": True}))
    assert paginator.advance(Page(1, body={"more": "true"})), "has_more says more: short page or not"
    assert not paginator.advance(Page(2, body={"more": False}))
    broken = PaginatorSpec("page_number", {"has_more_path": "meta.more"}).new()
    with pytest.raises(PagingError, match="has_more_path"):
        broken.advance(Page(2, body={"meta": {}}))


def test_stop_after_empty_page_false_reads_past_empty_pages_until_the_total() -> None:
    paginator = PaginatorSpec("offset", {"limit": 10, "stop_after_empty_page": False}).new()
    assert paginator.advance(Page(10, 30, 1))
    assert paginator.advance(Page(0, 30, None)), "an empty page mid-walk (filtered rows)"
    assert paginator.params()["offset"] == 20, "an empty page moves the offset by the limit"
    assert not paginator.advance(Page(10, 30, 2))
    endless = PaginatorSpec("offset", {"limit": 10, "stop_after_empty_page": False}).new()
    with pytest.raises(PagingError, match="where the data ends"):
        endless.advance(Page(10, None, 1))


def test_total_path_null_reads_no_total() -> None:
    paginator = PaginatorSpec("offset", {"limit": 10, "total_path": None}).new()
    assert paginator.total_of(Page(10, body={"total": 10})) is None
    assert paginator.advance(Page(10, body={"total": 10})), "without a total: one more page"


def test_body_paths_put_the_position_in_the_json_body() -> None:
    offset = PaginatorSpec(
        "offset", {"limit": 5, "offset_body_path": "paging.offset", "limit_body_path": "paging.limit"}
    ).new()
    assert offset.request().params == {}
    assert offset.request().body == {"paging.offset": 0, "paging.limit": 5}
    offset.advance(Page(5, 12, 1))
    assert offset.request().body == {"paging.offset": 5, "paging.limit": 5}
    assert offset.checkpoint() == {"paging.offset": 5, "paging.limit": 5}
    again = PaginatorSpec(
        "offset", {"limit": 5, "offset_body_path": "paging.offset", "limit_body_path": "paging.limit"}
    ).new()
    assert again.restore(offset.checkpoint())
    assert again.request() == offset.request()
    page = PaginatorSpec("page_number", {"page_body_path": "page"}).new()
    assert page.request().body == {"page": 1}
    assert page.request().params == {}

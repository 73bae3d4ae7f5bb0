"""Whole syncs against a real Django REST Framework API: its three paginators, with the
paginator omitted (detected) and with the ones dlt's docs would give, counted with the
server's request log. Requests = pages needed + at most 1; a 404 past the last page ends
the walk; dlt itself loads the same records from the same API."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from tests.servers.drf import DRFServer, fixtures

from .helpers import run_tap

#: The DRF server fixture (its module's fixtures are not in a conftest).
make_drf_server = fixtures.make_drf_server

PAGE_SIZE = 50
ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": ["string", "null"]},
        "score": {"type": ["string", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "meta": {"type": ["object", "null"]},
        "created_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
LIMIT_OFFSET = "/api/limit-offset/items/"
PAGE_NUMBER = "/api/page-number/items/"
CURSOR = "/api/cursor/items/"

#: The paginators a user would write for each DRF paginator: none (detected), and dlt's.
PAGINATORS: dict[str, list[Any]] = {
    LIMIT_OFFSET: [None, {"type": "offset", "limit": PAGE_SIZE, "total_path": "count"},
                   {"type": "json_link", "next_url_path": "next"}],
    PAGE_NUMBER: [None, {"type": "page_number", "base_page": 1, "total_path": "count"},
                  {"type": "page_number", "base_page": 1, "total_path": None},
                  {"type": "json_link", "next_url_path": "next"}],
    CURSOR: [None, {"type": "json_link", "next_url_path": "next"}],
}
CASES = [(path, paginator) for path, options in PAGINATORS.items() for paginator in options]


def _case_id(case: Any) -> str:
    if isinstance(case, str):
        return case.split("/")[2]
    if case is None:
        return "omitted"
    return "-".join(f"{v}" for v in case.values())


def drf_config(
    srv: DRFServer, path: str, paginator: Any, *, concurrency: int = 1, **endpoint: Any
) -> dict[str, Any]:
    """The tap's config for one DRF list endpoint, with DOT client credentials; with a
    paginator given, the data selector too (without, both are detected)."""
    endpoint = {"path": path, **endpoint}
    if paginator is not None:
        endpoint["paginator"] = paginator
        endpoint.setdefault("data_selector", "results")
    return {
        "client": {
            "base_url": srv.base_url,
            "auth": {
                "type": "oauth2",
                "client_id": srv.client_id,
                "client_secret": srv.client_secret,
                "token_url": srv.token_url,
            },
        },
        "resources": [{"name": "items", "endpoint": endpoint, "schema": ITEM_SCHEMA, "primary_key": "id"}],
        "max_concurrent_requests": concurrency,
    }


def pages_needed(items: int) -> int:
    return max(1, math.ceil(items / PAGE_SIZE))


@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("items", [120, 100, 30, 0])
@pytest.mark.parametrize(("path", "paginator"), CASES, ids=[f"{_case_id(p)}-{_case_id(o)}" for p, o in CASES])
def test_every_drf_paginator_syncs_completely_within_one_extra_request(
    make_drf_server: Callable[..., DRFServer], path: str, paginator: Any, items: int, concurrency: int
) -> None:
    """All records, as DRF renders them, in order; requests = pages needed + at most 1
    (a 404 past the last page, which ends the walk cleanly)."""
    srv = make_drf_server(items=items, page_size=PAGE_SIZE)
    result = run_tap(drf_config(srv, path, paginator, concurrency=concurrency))

    assert result.records("items") == srv.records()
    made = srv.requests(path)
    needed = pages_needed(items)
    assert needed <= len(made) <= needed + 1, [(r.query, r.status) for r in made]
    assert all(r.status == 200 for r in made[:needed])
    assert result.state.get("bookmarks", {}).get("items", {}).get("paging") is None


def test_page_number_counts_as_records_no_requests_past_the_data_with_8_in_flight(
    make_drf_server: Callable[..., DRFServer],
) -> None:
    """DRF's `count` is records: read as pages, 8 in flight asked for pages 4..10 of 3."""
    srv = make_drf_server(items=2345, page_size=PAGE_SIZE)
    paginator = {"type": "page_number", "base_page": 1, "total_path": "count"}
    result = run_tap(drf_config(srv, PAGE_NUMBER, paginator, concurrency=8))

    assert len(result.records("items")) == 2345
    made = srv.requests(PAGE_NUMBER)
    assert len(made) == pages_needed(2345)
    assert srv.count(PAGE_NUMBER, status=404) == 0


def test_a_404_on_the_first_page_is_still_an_error(make_drf_server: Callable[..., DRFServer]) -> None:
    srv = make_drf_server(items=10, page_size=PAGE_SIZE)
    paginator = {"type": "page_number", "base_page": 1, "total_path": "count"}
    config = drf_config(srv, "/api/page-number/nothing-here/", paginator)
    result = run_tap(config, expect_error=True)

    message = str(result.error)
    assert "HTTP 404" in message
    assert "endpoint.path" in message
    assert "\n" not in message


@pytest.mark.parametrize("saved_page", [3, 4, 9])
def test_a_run_resumed_past_the_end_completes_cleanly(
    make_drf_server: Callable[..., DRFServer], saved_page: int
) -> None:
    """STATE left by a run that stopped at a page past the last one (as the tap wrote it
    before this fix): the resumed run reads to the end, exits 0, and leaves no paging
    checkpoint behind, so the next run starts afresh."""
    srv = make_drf_server(items=100, page_size=PAGE_SIZE)
    paginator = {"type": "page_number", "base_page": 1, "total_path": "count"}
    state = {"bookmarks": {"items": {"paging": {"page": saved_page}}}}
    result = run_tap(drf_config(srv, PAGE_NUMBER, paginator), state=state)

    assert result.records("items") == []
    assert srv.count(PAGE_NUMBER) == 1
    assert result.state.get("bookmarks", {}).get("items", {}).get("paging") is None
    rerun = run_tap(drf_config(srv, PAGE_NUMBER, paginator), state=result.state)
    assert rerun.records("items") == srv.records()


def test_a_small_incremental_run_that_fits_in_one_page(make_drf_server: Callable[..., DRFServer]) -> None:
    """Every small incremental run: one page of data, then no failing request."""
    srv = make_drf_server(items=120, page_size=PAGE_SIZE)
    since = srv.records()[110]["updated_at"]
    paginator = {"type": "page_number", "base_page": 1, "total_path": None}
    config = drf_config(
        srv, PAGE_NUMBER, paginator,
        incremental={"cursor_path": "updated_at", "start_param": "updated_since", "initial_value": since},
    )
    result = run_tap(config)

    ids = {r["id"] for r in result.records("items")}
    # Whether the record at exactly the start is emitted is the bookmark's rule (issue 8 §1).
    assert set(range(112, 121)) <= ids <= set(range(111, 121))
    assert srv.count(PAGE_NUMBER) <= 2


@pytest.mark.parametrize(("path", "paginator"), [
    (LIMIT_OFFSET, None),
    (LIMIT_OFFSET, {"type": "offset", "limit": PAGE_SIZE, "total_path": "count"}),
    (PAGE_NUMBER, None),
    (PAGE_NUMBER, {"type": "json_link", "next_url_path": "next"}),
    (CURSOR, None),
])
def test_dlt_loads_the_same_records(
    make_drf_server: Callable[..., DRFServer], path: str, paginator: Any
) -> None:
    """dlt's own rest_api_source on the same config and API: the same records."""
    rest_api = pytest.importorskip("dlt.sources.rest_api")
    srv = make_drf_server(items=120, page_size=PAGE_SIZE)
    open_path = path.replace("/api/", "/open/")
    endpoint: dict[str, Any] = {"path": open_path}
    if paginator is not None:
        endpoint["paginator"] = paginator
    resource = {"name": "items", "endpoint": endpoint, "primary_key": "id"}
    dlt_rows = list(rest_api.rest_api_source(
        {"client": {"base_url": srv.base_url}, "resources": [resource]}
    ).resources["items"])
    tap_config = {
        "client": {"base_url": srv.base_url},
        "resources": [{**resource, "schema": ITEM_SCHEMA}],
    }
    tap_rows = run_tap(tap_config).records("items")

    assert tap_rows == [dict(row) for row in dlt_rows] == srv.records()

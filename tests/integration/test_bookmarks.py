"""Incremental bookmarks against a real DRF API: inclusive, and taken from the records, not the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tap_analytics.instants import cursor_order
from tests.servers.drf import DRFServer

from .helpers import run_tap

ITEM_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer"]},
        "name": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def items_config(srv: DRFServer) -> dict[str, Any]:
    """DRF's LimitOffsetPagination, incremental on updated_at with DRF's own filter."""
    return {
        "client": {"base_url": srv.base_url},
        "resources": [
            {
                "name": "items",
                "primary_key": "id",
                "schema": ITEM_SCHEMA,
                "endpoint": {
                    "path": "/open/limit-offset/items/",
                    "data_selector": "results",
                    "paginator": {"type": "offset", "limit": 50, "total_path": "count"},
                    "incremental": {"cursor_path": "updated_at", "start_param": "updated_since"},
                },
            }
        ],
    }


def instant(value: str) -> datetime:
    return cursor_order(value)[1]  # type: ignore[no-any-return]


def test_a_record_at_exactly_the_bookmark_is_emitted_by_the_next_run(
    make_drf_server: Callable[..., DRFServer],
) -> None:
    srv = make_drf_server(items=60)
    first = run_tap(items_config(srv))
    assert len(first.records("items")) == 60
    bookmark = first.bookmark("items")
    newest = max(instant(r["updated_at"]) for r in first.records("items"))
    assert instant(bookmark) == newest

    # Second-resolution timestamps: a new row and a changed old row land on the bookmark's instant.
    (added,) = srv.add_items(1, at=newest)
    srv.update_items([5], at=newest)
    second = run_tap(items_config(srv), state=first.state)

    emitted = {r["id"]: instant(r["updated_at"]) for r in second.records("items")}
    assert added in emitted
    assert 5 in emitted
    # Nothing strictly older than the bookmark comes again.
    assert all(moment >= newest for moment in emitted.values())
    assert instant(second.bookmark("items")) == newest


def test_the_bookmark_is_the_newest_record_by_instant_not_the_taps_clock(
    make_drf_server: Callable[..., DRFServer],
) -> None:
    """DRF renders +05:30 (TIME_ZONE=Asia/Kolkata) and the API's clock runs minutes behind
    the tap's: the bookmark must still be the newest record, or later changes are skipped."""
    srv = make_drf_server(items=30, time_zone="Asia/Kolkata")
    api_now = datetime.now(UTC) - timedelta(minutes=5)
    srv.update_items([3, 7], at=api_now)
    first = run_tap(items_config(srv))
    newest = max(r["updated_at"] for r in first.records("items") if r["id"] == 7)
    assert newest.endswith("+05:30")
    assert instant(first.bookmark("items")) == instant(newest)

    srv.update_items([12], at=api_now + timedelta(minutes=1))
    second = run_tap(items_config(srv), state=first.state)
    assert 12 in {r["id"] for r in second.records("items")}

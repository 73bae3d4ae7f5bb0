"""dlt's incremental and backfill windows against the sandbox's forum: its posts listings filter on
`updated_since` (>=), `updated_until` (<) and `id_after` (>), as real APIs' range filters do."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.instants import cursor_order

from .helpers import run_tap

POSTS = "forum/posts"
POST_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def posts_config(srv: SandboxServer, incremental: dict[str, Any] | None = None, *,
                 params: dict[str, Any] | None = None, limit: int = 25, **top: Any) -> dict[str, Any]:
    endpoint: dict[str, Any] = {
        "path": "offset/posts",
        "data_selector": "data",
        "paginator": {"type": "offset", "limit": limit, "total_path": "total"},
    }
    if incremental is not None:
        endpoint["incremental"] = incremental
    if params is not None:
        endpoint["params"] = params
    resource = {"name": "posts", "endpoint": endpoint, "schema": POST_SCHEMA}  # no probe request
    return {"client": {"base_url": srv.api_url("forum")}, "resources": [resource], **top}


def served(srv: SandboxServer, low: str | None = None, high: str | None = None) -> list[int]:
    """The ids of the posts with updated_at in [low, high), in id order."""
    return [
        r["id"] for r in srv.records(POSTS)
        if (low is None or cursor_order(r["updated_at"]) >= cursor_order(low))
        and (high is None or cursor_order(r["updated_at"]) < cursor_order(high))
    ]


def loaded(result: Any) -> list[int]:
    """The ids a run emitted, sorted."""
    return sorted(int(i) for i in result.ids("posts"))


def windows_sent(srv: SandboxServer) -> list[tuple[str | None, str | None]]:
    """The (updated_since, updated_until) of each window, in the order first requested."""
    seen = [(r["query"].get("updated_since"), r["query"].get("updated_until")) for r in posts_requests(srv)]
    return list(dict.fromkeys(seen))


def posts_requests(srv: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in srv.request_log if r["path"] == "/forum/offset/posts"]


RANGE = {"cursor_path": "updated_at", "start_param": "updated_since", "end_param": "updated_until"}


def test_start_and_end_filters_load_exactly_the_range(sandbox: SandboxServer) -> None:
    incremental = {**RANGE, "initial_value": "2024-03-03T00:00:00Z", "end_value": "2024-03-06T12:00:00Z"}
    result = run_tap(posts_config(sandbox, incremental))
    assert loaded(result) == served(sandbox, "2024-03-03T00:00:00Z", "2024-03-06T12:00:00Z")
    assert windows_sent(sandbox) == [("2024-03-03T00:00:00Z", "2024-03-06T12:00:00Z")]


def test_windows_split_the_backfill_and_the_next_run_takes_only_the_news(sandbox: SandboxServer) -> None:
    backfill = {**RANGE, "initial_value": "2024-03-01T00:00:00Z", "window": "P2D",
                "end_value": "2024-03-12T00:00:00Z"}
    first = run_tap(posts_config(sandbox, backfill))
    ids = [int(i) for i in first.ids("posts")]
    assert sorted(ids) == served(sandbox)
    assert not [i for i, n in Counter(ids).items() if n > 1]
    windows = windows_sent(sandbox)
    assert windows[:2] == [("2024-03-01T00:00:00Z", "2024-03-03T00:00:00Z"),
                           ("2024-03-03T00:00:00Z", "2024-03-05T00:00:00Z")]
    assert windows[-1] == ("2024-03-11T00:00:00Z", "2024-03-12T00:00:00Z")  # the end cuts the last
    # Records come out window by window, each window in the API's order.
    starts = [cursor_order(r["updated_at"]) for r in first.records("posts")]
    window_of = [sum(1 for low, _ in windows[1:] if at >= cursor_order(low)) for at in starts]
    assert window_of == sorted(window_of)

    bookmark = first.bookmark("posts")
    assert cursor_order(bookmark) == max(cursor_order(r["updated_at"]) for r in sandbox.records(POSTS))
    changes = sandbox.mutate(POSTS, add=3, update=4)
    sandbox.reset_log()
    second = run_tap(posts_config(sandbox, backfill), state=first.state)
    expected = {*changes["added"], *changes["updated"]} | set(served(sandbox, bookmark, None))
    assert set(map(int, second.ids("posts"))) == expected
    # The edits are dated after everything served: within the one window from the bookmark.
    assert windows_sent(sandbox) == [(bookmark, "2024-03-12T00:00:00Z")]


def test_window_placeholders_in_params(sandbox: SandboxServer) -> None:
    """dlt's recommended form: the range as `{incremental.start_value}`/`{incremental.end_value}`."""
    params = {"updated_since": "{incremental.start_value}", "updated_until": "{incremental.end_value}"}
    incremental = {"cursor_path": "updated_at", "initial_value": "2024-03-02T00:00:00Z",
                   "end_value": "2024-03-08T00:00:00Z", "window": "P3D"}
    result = run_tap(posts_config(sandbox, incremental, params=params))
    assert loaded(result) == served(sandbox, "2024-03-02T00:00:00Z", "2024-03-08T00:00:00Z")
    assert windows_sent(sandbox) == [("2024-03-02T00:00:00Z", "2024-03-05T00:00:00Z"),
                                     ("2024-03-05T00:00:00Z", "2024-03-08T00:00:00Z")]


@pytest.mark.sandbox(latency_ms=5)
def test_concurrent_windows_emit_what_sequential_windows_emit(sandbox: SandboxServer) -> None:
    incremental = {**RANGE, "initial_value": "2024-03-01T00:00:00Z", "end_value": "2024-03-11T00:00:00Z",
                   "window": "P1D"}
    sequential = run_tap(posts_config(sandbox, incremental, limit=10))
    sandbox.reset_log()
    concurrent = run_tap(posts_config(sandbox, incremental, limit=10, max_concurrent_windows=4))
    assert concurrent.ids("posts") == sequential.ids("posts")
    assert sorted(map(int, concurrent.ids("posts"))) == served(sandbox)
    assert sandbox.peak_concurrency > 1
    assert concurrent.state == sequential.state


def test_a_run_restricted_to_one_window(sandbox: SandboxServer) -> None:
    incremental = {**RANGE, "initial_value": "2024-03-01T00:00:00Z"}
    config = posts_config(sandbox, incremental, window_start="2024-03-04T00:00:00Z",
                          window_end="2024-03-07T00:00:00Z")
    result = run_tap(config)
    assert loaded(result) == served(sandbox, "2024-03-04T00:00:00Z", "2024-03-07T00:00:00Z")
    assert windows_sent(sandbox) == [("2024-03-04T00:00:00Z", "2024-03-07T00:00:00Z")]


def test_a_numeric_cursor_with_the_apis_exclusive_id_after(sandbox: SandboxServer) -> None:
    """`id_after` is exclusive: the API never returns the record at the bookmark, which the
    tap's inclusive start would keep -- `range_start: open` says the same on the tap's side."""
    incremental = {"cursor_path": "id", "start_param": "id_after", "initial_value": 200}
    incremental["range_start"] = "open"
    first = run_tap(posts_config(sandbox, incremental))
    assert [int(i) for i in first.ids("posts")] == list(range(201, 231))
    assert first.bookmark("posts") == 230
    sandbox.mutate(POSTS, add=3)
    sandbox.reset_log()
    second = run_tap(posts_config(sandbox, incremental), state=first.state)
    assert [int(i) for i in second.ids("posts")] == [231, 232, 233]
    assert {r["query"]["id_after"] for r in posts_requests(sandbox)} == {"230"}


def test_numeric_windows_over_ids(sandbox: SandboxServer) -> None:
    incremental = {"cursor_path": "id", "start_param": "id_after", "initial_value": 0, "end_value": 231,
                   "window": 60, "range_start": "open"}
    result = run_tap(posts_config(sandbox, incremental))
    assert [int(i) for i in result.ids("posts")] == list(range(1, 231))
    assert sorted({int(r["query"]["id_after"]) for r in posts_requests(sandbox)}) == [0, 60, 120, 180]


def test_lag_rereads_the_last_hours(sandbox: SandboxServer) -> None:
    incremental = {**RANGE, "initial_value": "2024-03-01T00:00:00Z", "lag": 6 * 3600}
    first = run_tap(posts_config(sandbox, incremental))
    bookmark = first.bookmark("posts")
    sandbox.reset_log()
    second = run_tap(posts_config(sandbox, incremental), state=first.state)
    lagged = (datetime.fromisoformat(bookmark) - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert windows_sent(sandbox) == [(lagged, None)]
    assert sorted(map(int, second.ids("posts"))) == served(sandbox, lagged)

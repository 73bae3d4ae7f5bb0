"""dlt's incremental through the stream against a mocked API: what each request sends (start and end
params, placeholders), lag, windows and their STATE, runs restricted to one window."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tap_analytics.errors import TapAnalyticsError
from tap_analytics.instants import cursor_order

from .conftest import BASE_URL, make_tap, query

URL = f"{BASE_URL}/v1/things"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["integer"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "meta": {
            "type": ["object", "null"],
            "properties": {"at": {"type": ["string"], "format": "date-time"}},
        },
    },
}
#: Two records a day from Jan 1 to Jan 6 2024 (06:00 and 18:00), ids 1..12.
ROWS = [
    {"id": 2 * day + half + 1, "updated_at": f"2024-01-{day + 1:02d}T{6 + 12 * half:02d}:00:00Z"}
    for day in range(6)
    for half in range(2)
]


def api(requests_mock: Any, rows: list[dict[str, Any]], *, start: str = "since", end: str = "until",
        cursor: str = "updated_at", limit: int = 100) -> None:
    """An API filtering `rows` on [start, end) of `cursor` when the params are sent, paged by offset."""

    def callback(request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        kept = [
            r for r in rows
            if (start not in q or cursor_order(r[cursor]) >= cursor_order(q[start]))
            and (end not in q or cursor_order(r[cursor]) < cursor_order(q[end]))
        ]
        offset = int(q.get("offset", 0))
        size = min(int(q.get("limit", limit)), limit)
        return {"data": kept[offset : offset + size], "total": len(kept)}

    requests_mock.get(URL, json=callback)


def config(incremental: dict[str, Any] | None = None, *, params: dict[str, Any] | None = None,
           paginator: Any = None, headers: dict[str, str] | None = None, **top: Any) -> dict[str, Any]:
    paginator = paginator or {"type": "offset", "limit": 4}
    endpoint: dict[str, Any] = {"path": "/v1/things", "paginator": paginator}
    if incremental is not None:
        endpoint["incremental"] = incremental
    if params is not None:
        endpoint["params"] = params
    if headers is not None:
        endpoint["headers"] = headers
    resource = {"name": "things", "schema": SCHEMA, "endpoint": endpoint}
    return {"client": {"base_url": BASE_URL}, "resources": [resource], "max_concurrent_requests": 1, **top}


def sync(cfg: dict[str, Any], capsys: pytest.CaptureFixture[str],
         state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    make_tap(cfg, state).sync_all()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def ids(messages: list[dict[str, Any]]) -> list[int]:
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD"]


def states(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["value"]["bookmarks"]["things"] for m in messages if m["type"] == "STATE"]


def sent(requests_mock: Any, *names: str) -> list[tuple[str | None, ...]]:
    return [tuple(query(r).get(n) for n in names) for r in requests_mock.request_history]


def bookmark(value: Any, key: str = "updated_at") -> dict[str, Any]:
    return {"bookmarks": {"things": {"replication_key": key, "replication_key_value": value}}}


SINCE = {"cursor_path": "updated_at", "start_param": "since"}


# --- the range a request sends ---------------------------------------------------------------


def test_start_and_end_params_send_the_range_and_the_end_filters_too(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS, "total": len(ROWS)})  # an API that ignores both
    incremental = {**SINCE, "end_param": "until", "initial_value": "2024-01-02T06:00:00Z",
                   "end_value": "2024-01-04T06:00:00Z"}
    messages = sync(config(incremental, paginator="single_page"), capsys)
    assert ids(messages) == [3, 4, 5, 6]  # [Jan 2 06:00, Jan 4 06:00): the end is exclusive
    assert sent(requests_mock, "since", "until") == [("2024-01-02T06:00:00Z", "2024-01-04T06:00:00Z")]


def test_range_edges_open_at_the_start_and_closed_at_the_end(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})
    incremental = {**SINCE, "initial_value": "2024-01-02T06:00:00Z", "end_value": "2024-01-04T06:00:00Z",
                   "range_start": "open", "range_end": "closed"}
    assert ids(sync(config(incremental, paginator="single_page"), capsys)) == [4, 5, 6, 7]


def test_placeholders_get_the_range_in_params_path_headers(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})
    incremental = {"cursor_path": "updated_at", "initial_value": "2024-01-03T00:00:00Z",
                   "end_value": "2024-01-05T00:00:00Z"}
    params = {"from": "{incremental.start_value}", "to": "{incremental.end_value}",
              "first": "{incremental.initial_value}", "last": "{incremental.last_value}",
              "q": "updated>{incremental.start_value}"}
    headers = {"X-Until": "{incremental.end_value}"}
    cfg = config(incremental, params=params, paginator="single_page", headers=headers)
    assert ids(sync(cfg, capsys)) == [5, 6, 7, 8]
    request = requests_mock.request_history[0]
    assert sent(requests_mock, "from", "to", "first", "last", "q") == [(
        "2024-01-03T00:00:00Z", "2024-01-05T00:00:00Z", "2024-01-03T00:00:00Z", "2024-01-03T00:00:00Z",
        "updated>2024-01-03T00:00:00Z",
    )]
    assert request.headers["X-Until"] == "2024-01-05T00:00:00Z"


def test_an_unset_end_sends_no_end_parameter(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})
    incremental = {**SINCE, "end_param": "until", "initial_value": "2024-01-05T00:00:00Z"}
    cfg = config(incremental, params={"to": "{incremental.end_value}"}, paginator="single_page")
    assert ids(sync(cfg, capsys)) == [9, 10, 11, 12]
    assert set(query(requests_mock.request_history[0])) == {"since"}


def test_lag_rereads_behind_the_bookmark_but_never_before_initial_value(
    requests_mock: Any, capsys: Any
) -> None:
    api(requests_mock, ROWS)
    incremental = {**SINCE, "lag": 86400, "initial_value": "2024-01-03T12:00:00Z"}
    messages = sync(config(incremental), capsys, bookmark("2024-01-05T18:00:00Z"))
    assert sent(requests_mock, "since")[0] == ("2024-01-04T18:00:00Z",)
    assert ids(messages) == [8, 9, 10, 11, 12]
    assert states(messages)[-1]["replication_key_value"] == "2024-01-06T18:00:00Z"  # not lagged
    requests_mock.reset_mock()
    sync(config(incremental), capsys, bookmark("2024-01-04T00:00:00Z"))
    assert sent(requests_mock, "since")[0] == ("2024-01-03T12:00:00Z",)  # lag stops at initial_value


def test_lag_is_off_with_an_end_value_as_in_dlt(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS)
    incremental = {**SINCE, "lag": 86400, "initial_value": "2024-01-01T00:00:00Z",
                   "end_value": "2024-01-06T00:00:00Z"}
    sync(config(incremental), capsys, bookmark("2024-01-05T06:00:00Z"))
    assert sent(requests_mock, "since")[0] == ("2024-01-05T06:00:00Z",)


def test_start_date_does_not_apply_to_a_numeric_cursor(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, start="after", cursor="id")
    cfg = config({"cursor_path": "id", "start_param": "after"}, start_date="2024-01-04T00:00:00Z")
    assert ids(sync(cfg, capsys)) == list(range(1, 13))
    assert sent(requests_mock, "after")[0] == (None,)


def test_a_nested_cursor_bookmarks_its_dotted_path(requests_mock: Any, capsys: Any) -> None:
    rows = [{"id": r["id"], "meta": {"at": r["updated_at"]}} for r in ROWS]
    requests_mock.get(URL, json={"data": rows})
    cfg = config({"cursor_path": "$.meta.at", "start_param": "since"}, paginator="single_page",
                 start_date="2024-01-06T00:00:00Z")  # applies: the schema says meta.at is a date-time
    messages = sync(cfg, capsys)
    assert ids(messages) == [11, 12]
    final = states(messages)[-1]
    assert final == {"replication_key": "meta.at", "replication_key_value": "2024-01-06T18:00:00Z"}
    schema = next(m for m in messages if m["type"] == "SCHEMA")
    assert schema["bookmark_properties"] == ["meta.at"]
    again = sync(cfg, capsys, {"bookmarks": {"things": final}})
    assert ids(again) == [12]  # the record at the bookmark, again (inclusive)


def test_row_order_stops_paging_past_the_end(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, limit=2)  # the API ignores no param but is asked for none: pages of 2
    incremental = {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
                   "end_value": "2024-01-02T12:00:00Z", "row_order": "asc"}
    messages = sync(config(incremental, paginator={"type": "offset", "limit": 2}), capsys)
    assert ids(messages) == [1, 2, 3]
    assert len(requests_mock.request_history) == 2  # not the 6 pages of the collection


# --- windows ---------------------------------------------------------------------------------

WINDOWED = {**SINCE, "end_param": "until", "initial_value": "2024-01-01T00:00:00Z", "window": "P2D"}


def test_windows_are_requested_in_turn_with_state_after_each(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS)
    incremental = {**WINDOWED, "end_value": "2024-01-06T00:00:00Z"}
    messages = sync(config(incremental), capsys)
    assert ids(messages) == list(range(1, 11))
    windows = sorted(set(sent(requests_mock, "since", "until")))
    assert windows == [
        ("2024-01-01T00:00:00Z", "2024-01-03T00:00:00Z"),
        ("2024-01-03T00:00:00Z", "2024-01-05T00:00:00Z"),
        ("2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z"),
    ]
    checkpoints = [w["start"] for w in window_checkpoints(messages)]
    assert checkpoints == ["2024-01-03T00:00:00Z", "2024-01-05T00:00:00Z"]
    final = states(messages)[-1]
    assert "window" not in final
    assert final["replication_key_value"] == "2024-01-05T18:00:00Z"


def test_without_an_end_the_last_window_is_open(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS)
    messages = sync(config(WINDOWED), capsys)
    assert ids(messages) == list(range(1, 13))
    assert sent(requests_mock, "until")[-1] == (None,)


def test_an_interrupted_backfill_resumes_at_its_window(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS)
    state = {"bookmarks": {"things": {
        "window": {"start": "2024-01-05T00:00:00Z", "replication_key_value": "2024-01-04T18:00:00Z"},
    }}}
    messages = sync(config({**WINDOWED, "end_value": "2024-01-07T00:00:00Z"}), capsys, state)
    assert ids(messages) == [9, 10, 11, 12]
    assert sorted(set(sent(requests_mock, "since")))[0] == ("2024-01-05T00:00:00Z",)


def test_a_resumed_window_resumes_at_its_page(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, limit=2)
    state = {"bookmarks": {"things": {
        "window": {"start": "2024-01-03T00:00:00Z"}, "paging": {"offset": 2, "limit": 2},
    }}}
    cfg = config({**WINDOWED, "end_value": "2024-01-05T00:00:00Z"}, paginator={"type": "offset", "limit": 2})
    assert ids(sync(cfg, capsys, state)) == [7, 8]


def test_concurrent_windows_come_out_in_window_order(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, limit=3)
    incremental = {**WINDOWED, "window": "P1D", "end_value": "2024-01-07T00:00:00Z"}
    cfg = config(incremental, paginator={"type": "offset", "limit": 3})
    sequential = sync(cfg, capsys)
    concurrent = sync({**cfg, "max_concurrent_windows": 4}, capsys)
    assert ids(concurrent) == ids(sequential) == list(range(1, 13))
    assert window_checkpoints(concurrent) == window_checkpoints(sequential)
    assert len(window_checkpoints(concurrent)) == 5  # after each window but the last


def window_checkpoints(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The `window` entries of a run's STATE messages, each once."""
    seen: list[dict[str, Any]] = []
    for state in states(messages):
        window = state.get("window")
        if window and (not seen or seen[-1] != window):
            seen.append(window)
    return seen


def test_a_numeric_window_without_an_end_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, cursor="id")
    with pytest.raises(TapAnalyticsError, match=r"stream things: endpoint\.incremental\.window: .*an end"):
        sync(config({"cursor_path": "id", "initial_value": 0, "window": 5}), capsys)


def test_numeric_windows(requests_mock: Any, capsys: Any) -> None:
    api(requests_mock, ROWS, start="after", end="before", cursor="id")
    incremental = {"cursor_path": "id", "start_param": "after", "end_param": "before", "initial_value": 1,
                   "end_value": 13, "window": 5}
    assert ids(sync(config(incremental), capsys)) == list(range(1, 13))
    assert sorted({int(a) for (a,) in sent(requests_mock, "after")}) == [1, 6, 11]


# --- a run restricted to one window ----------------------------------------------------------


def test_window_start_and_end_restrict_every_incremental_resource(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})  # the API ignores the params: the tap filters
    cfg = config({**SINCE, "end_param": "until", "initial_value": "2024-01-01T00:00:00Z"},
                 paginator="single_page", window_start="2024-01-02T00:00:00Z",
                 window_end="2024-01-04T00:00:00Z")
    messages = sync(cfg, capsys)
    assert ids(messages) == [3, 4, 5, 6]
    assert sent(requests_mock, "since", "until") == [("2024-01-02T00:00:00Z", "2024-01-04T00:00:00Z")]


def test_a_window_outside_the_configured_range_changes_nothing_of_it(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})
    cfg = config({**SINCE, "initial_value": "2024-01-05T00:00:00Z"}, paginator="single_page",
                 window_start="2024-01-01T00:00:00Z")
    assert ids(sync(cfg, capsys)) == [9, 10, 11, 12]


def test_a_bad_window_bound_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(URL, json={"data": ROWS})
    with pytest.raises(TapAnalyticsError, match="window_end: 'soon' is neither a date-time"):
        sync(config(SINCE, paginator="single_page", window_end="soon"), capsys)

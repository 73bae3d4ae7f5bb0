"""dlt's incremental options as the tap reads them: the config, the range (`CursorRange`) and
its windows, lag, and which records the shaper lets through."""

from __future__ import annotations

import copy
import decimal
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_analytics.config import ConfigErrors, IncrementalSpec, resolve_resources
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.instants import as_bound, cursor_order, lagged, render
from tap_analytics.records import RecordShaper
from tap_analytics.windows import CursorRange, Duration, parse_window

CLIENT = {"base_url": "https://api.example.com", "auth": {"type": "bearer", "token": "tkn-unit-incr-1"}}
T0 = datetime(2024, 3, 1, tzinfo=UTC)


def spec_of(**incremental: Any) -> IncrementalSpec:
    config = {
        "client": copy.deepcopy(CLIENT),
        "resources": [{"name": "w", "endpoint": {"path": "/w", "incremental": incremental}}],
    }
    (spec,) = resolve_resources(config)
    assert spec.incremental is not None
    return spec.incremental


def errors_of(endpoint: dict[str, Any]) -> list[str]:
    resource = {"name": "w", "endpoint": {"path": "/w", **endpoint}}
    config = {"client": copy.deepcopy(CLIENT), "resources": [resource]}
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources(config)
    return caught.value.errors


def the_error(endpoint: dict[str, Any], setting: str) -> str:
    errors = errors_of(endpoint)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"resources[0] (w).endpoint.{setting}: "), errors
    return errors[0]


# --- the config ----------------------------------------------------------------------------


def test_every_dlt_option_is_read() -> None:
    spec = spec_of(
        cursor_path="updated_at", start_param="since", end_param="until",
        initial_value="2024-01-01T00:00:00Z", end_value="2024-02-01T00:00:00Z",
        range_start="open", range_end="closed", lag=3600, on_cursor_value_missing="include",
        row_order="asc", window="P7D", last_value_func="max",
    )
    assert (spec.cursor_path, spec.start_param, spec.end_param) == ("updated_at", "since", "until")
    assert (spec.initial_value, spec.end_value) == ("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z")
    assert (spec.range_start, spec.range_end) == ("open", "closed")
    assert (spec.lag, spec.on_cursor_value_missing, spec.row_order) == (3600.0, "include", "asc")
    assert spec.window == Duration.parse("P7D")


def test_defaults_are_dlts() -> None:
    spec = spec_of(cursor_path="updated_at")
    assert (spec.range_start, spec.range_end, spec.on_cursor_value_missing) == ("closed", "open", "raise")
    assert (spec.end_param, spec.end_value, spec.lag, spec.row_order, spec.window) == (None,) * 5


@pytest.mark.parametrize(
    ("cursor", "replication_key", "parts"),
    [
        ("updated_at", "updated_at", ("updated_at",)),
        ("$.updated_at", "updated_at", ("updated_at",)),
        ("meta.updated_at", "meta.updated_at", ("meta", "updated_at")),
        ("$.meta.updated_at", "meta.updated_at", ("meta", "updated_at")),
        ("meta['updated_at']", "meta.updated_at", ("meta", "updated_at")),
        ("$['meta']['changed.at']", "$['meta']['changed.at']", ("meta", "changed.at")),
    ],
)
def test_a_nested_cursor_is_the_dotted_replication_key(
    cursor: str, replication_key: str, parts: tuple[str, ...]
) -> None:
    spec = spec_of(cursor_path=cursor)
    assert (spec.cursor_path, spec.cursor_parts, spec.cursor_field) == (replication_key, parts, parts[0])


@pytest.mark.parametrize("cursor", ["items[*].at", "$..updated_at", "$", "", 5, None])
def test_a_cursor_must_name_one_field(cursor: Any) -> None:
    line = the_error({"incremental": {"cursor_path": cursor}}, "incremental.cursor_path")
    assert "meta.updated_at" in line


@pytest.mark.parametrize(
    ("options", "setting", "says"),
    [
        ({"range_start": "half"}, "range_start", "closed, open"),
        ({"range_end": "shut"}, "range_end", "open, closed"),
        ({"on_cursor_value_missing": "skip"}, "on_cursor_value_missing", "raise, include, exclude"),
        ({"row_order": "up"}, "row_order", "asc, desc"),
        ({"lag": -1}, "lag", ">= 0"),
        ({"lag": "1h"}, "lag", "seconds"),
        ({"initial_value": "yesterday"}, "initial_value", "date-time"),
        ({"initial_value": {"a": 1}}, "initial_value", "number"),
        ({"end_value": "2024-02-01T00:00:00Z"}, "end_value", "needs initial_value"),
        ({"initial_value": "2024-03-01", "end_value": "2024-02-01"}, "end_value", "before initial_value"),
        ({"initial_value": 10, "end_value": 5}, "end_value", "before initial_value"),
        ({"window": "P0D"}, "window", "empty duration"),
        ({"window": -5}, "window", "positive"),
        ({"window": "P1D", "initial_value": 3}, "window", "numeric one a number"),
        ({"window": 100, "initial_value": "2024-01-01T00:00:00Z"}, "window", "date-times"),
        ({"last_value_func": "min"}, "last_value_func", "'max'"),
        ({"primary_key": "id"}, "primary_key", "resource's primary_key"),
        ({"allow_external_schedulers": True}, "allow_external_schedulers", "window_start"),
        ({"convert": "x"}, "convert", "callable"),
        ({"transform": "x"}, "transform", "callable"),
        ({"start_parm": "x"}, "start_parm", "did you mean 'start_param'"),
    ],
)
def test_bad_options_are_one_line_naming_the_setting(
    options: dict[str, Any], setting: str, says: str
) -> None:
    line = the_error({"incremental": {"cursor_path": "updated_at", **options}}, f"incremental.{setting}")
    assert says in line


def test_an_end_equal_to_the_start_is_allowed_as_in_dlt() -> None:
    assert spec_of(cursor_path="n", initial_value=5, end_value=5).end_value == 5


def test_the_incremental_parameter_reads_dlts_options_but_no_end() -> None:
    param = {"type": "incremental", "cursor_path": "meta.updated_at", "initial_value": "2024-01-25",
             "lag": 86400, "range_start": "open", "on_cursor_value_missing": "exclude", "window": "P1D"}
    config = {"client": copy.deepcopy(CLIENT),
              "resources": [{"name": "w", "endpoint": {"path": "/w", "params": {"since": param}}}]}
    (spec,) = resolve_resources(config)
    incremental = spec.incremental
    assert incremental is not None
    assert (incremental.start_param, incremental.cursor_path) == ("since", "meta.updated_at")
    assert incremental.lag == 86400
    assert (incremental.range_start, incremental.on_cursor_value_missing) == ("open", "exclude")
    assert "since" not in spec.params
    for key, says in [("end_value", "endpoint.incremental"), ("end_param", "end_param"),
                      ("start_param", "own name")]:
        bad = {**param, key: "2024-02-01"}
        errors = errors_of({"params": {"since": bad}})
        assert len(errors) == 1
        assert errors[0].startswith(f"resources[0] (w).endpoint.params.since.{key}: ")
        assert says in errors[0]


def test_a_nested_cursor_must_start_at_a_declared_field() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "meta": {"type": "object"}}}
    config = {"client": copy.deepcopy(CLIENT), "resources": [
        {"name": "w", "schema": schema, "endpoint": {"path": "/w", "incremental": {"cursor_path": "meta.at"}}}
    ]}
    assert resolve_resources(config)[0].replication_key == "meta.at"
    config["resources"][0]["endpoint"]["incremental"]["cursor_path"] = "info.at"
    with pytest.raises(ConfigErrors, match="'info' is not a field"):
        resolve_resources(config)


# --- instants: lag and rendering ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "lag", "expected"),
    [
        ("2024-01-25T00:00:00Z", 3600, "2024-01-24T23:00:00Z"),
        ("2024-01-25T10:00:00+05:30", 90, "2024-01-25T09:58:30+05:30"),
        ("2024-01-25", 2, "2024-01-23"),  # a date: days, as dlt
        ("2024-01-25T00:00:00.500000Z", 0.5, "2024-01-25T00:00:00Z"),
        (100, 5, 95),
        ("100", 5, "95"),
        (1.5, 1, 0.5),
    ],
)
def test_lag_keeps_the_value_shape(value: Any, lag: float, expected: Any) -> None:
    assert lagged(value, lag) == expected


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_a_rendered_bound_is_the_same_instant(moment: datetime) -> None:
    text = render(moment, "2024-01-01T00:00:00Z")
    assert cursor_order(text) == cursor_order(moment)
    assert text.endswith("Z")
    assert as_bound(text) == moment


def test_a_date_stays_a_date_at_midnight() -> None:
    assert render(as_bound("2024-01-25"), "2024-01-25") == "2024-01-25"
    assert render(as_bound("2024-01-25") + timedelta(hours=6), "2024-01-25") == "2024-01-25T06:00:00Z"
    assert render(decimal.Decimal("2.5"), "1") == "2.5"
    assert render(7, 1) == 7


# --- ranges and windows --------------------------------------------------------------------


def test_a_run_window_narrows_the_range_with_its_own_edges() -> None:
    span = CursorRange("2024-01-01", "2024-06-01", end_closed=True)
    assert span.within("2024-02-01", "2024-03-01") == CursorRange("2024-02-01", "2024-03-01")
    assert span.within("2023-01-01", "2025-01-01") == span  # a wider window changes nothing
    assert CursorRange().within(None, 10) == CursorRange(None, 10)
    # An exclusive start (an API's `id_after`): the run's window is (start, end].
    exclusive = CursorRange(0, 1000, start_open=True)
    assert exclusive.within(100, 200) == CursorRange(100, 200, start_open=True, end_closed=True)


def test_windows_keep_the_outer_edges_and_render_like_the_start() -> None:
    span = CursorRange("2024-03-01T00:00:00Z", "2024-03-03T12:00:00Z", end_closed=True)
    windows = list(span.windows(Duration.parse("P1D"), T0))
    assert [(w.start, w.end) for w in windows] == [
        ("2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
        ("2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"),
        ("2024-03-03T00:00:00Z", "2024-03-03T12:00:00Z"),
    ]
    assert [(w.start_open, w.end_closed) for w in windows] == [(False, False), (False, False), (False, True)]


def test_an_open_start_makes_every_window_open_at_its_start() -> None:
    """`(a, b]` pieces: with an exclusive start parameter each window's request excludes its
    start, which the window before included."""
    windows = list(CursorRange(0, 25, start_open=True).windows(parse_window(10), T0))
    assert windows == [
        CursorRange(0, 10, True, True), CursorRange(10, 20, True, True), CursorRange(20, 25, True, False),
    ]


def test_without_an_end_dates_are_cut_up_to_now_and_the_last_window_stays_open() -> None:
    windows = list(CursorRange("2024-03-01").windows(Duration.parse("P1D"), T0 + timedelta(days=2, hours=1)))
    assert [(w.start, w.end) for w in windows] == [
        ("2024-03-01", "2024-03-02"), ("2024-03-02", "2024-03-03"), ("2024-03-03", None),
    ]
    # A start past the tap's clock (an API clock ahead): one open window, nothing skipped.
    assert list(CursorRange("2030-01-01T00:00:00Z").windows(Duration.parse("P1D"), T0)) == [
        CursorRange("2030-01-01T00:00:00Z")
    ]


def test_numeric_windows_need_an_end_and_a_start() -> None:
    assert [(w.start, w.end) for w in CursorRange(0, 25).windows(parse_window(10), T0)] == [
        (0, 10), (10, 20), (20, 25),
    ]
    with pytest.raises(ValueError, match="needs an end"):
        list(CursorRange(0).windows(parse_window(10), T0))
    with pytest.raises(ValueError, match="needs a start"):
        list(CursorRange(None, 10).windows(parse_window(10), T0))


@given(
    st.integers(min_value=0, max_value=5_000),
    st.integers(min_value=1, max_value=5_000),
    st.sampled_from(["PT7H", "P1D", "P1M"]),
    st.lists(st.integers(min_value=-100, max_value=5_200), max_size=40),
    st.booleans(),
    st.booleans(),
)
def test_every_value_of_the_range_falls_in_exactly_one_window(
    start_h: int, length_h: int, window: str, offsets_h: list[int], start_open: bool, end_closed: bool
) -> None:
    start = T0 + timedelta(hours=start_h)
    end = start + timedelta(hours=length_h)
    span = CursorRange(render(start, "x"), render(end, "x"), start_open, end_closed)
    windows = list(span.windows(parse_window(window), T0))
    for offset in offsets_h:
        value = render(start + timedelta(hours=offset), "x")
        holders = [w for w in windows if shaper_takes(w, value)]
        assert len(holders) == (1 if shaper_takes(span, value) else 0), (value, windows)


# --- the shaper's filter ---------------------------------------------------------------------


def shaper(**incremental: Any) -> RecordShaper:
    spec = IncrementalSpec(**{"cursor_path": "at", **incremental})
    return RecordShaper(
        name="w", schema={"type": "object", "properties": {}, "additionalProperties": True},
        primary_key=("id",), replication_key=spec.cursor_path, url="https://api.example.com/w",
        logger=logging.getLogger("test"), incremental=spec,
    )


def shaper_takes(span: CursorRange, value: Any) -> bool:
    subject = shaper()
    subject.take_range(span)
    return subject.shape({"id": 1, "at": value}) is not None


@pytest.mark.parametrize(
    ("start_open", "end_closed", "taken"),
    [(False, False, [2, 3, 4]), (True, False, [3, 4]), (False, True, [2, 3, 4, 5]), (True, True, [3, 4, 5])],
)
def test_range_edges_open_and_closed(start_open: bool, end_closed: bool, taken: list[int]) -> None:
    subject = shaper()
    subject.take_range(CursorRange(2, 5, start_open, end_closed))
    assert [n for n in range(1, 7) if subject.shape({"id": n, "at": n})] == taken
    assert subject.latest == (cursor_order(taken[-1]), taken[-1])


def test_date_times_compare_by_instant_at_the_edges() -> None:
    subject = shaper()
    subject.take_range(CursorRange("2024-03-01T00:00:00Z", "2024-03-02T00:00:00+02:00"))
    values = [
        "2024-02-29T23:59:59Z", "2024-03-01T05:30:00+05:30", "2024-03-01T21:59:59Z", "2024-03-01T22:00:00Z",
    ]
    assert [v for v in values if subject.shape({"id": 1, "at": v})] == values[1:3]


@pytest.mark.parametrize(("missing", "kept"), [("include", True), ("exclude", False)])
def test_a_record_without_its_cursor_is_included_or_excluded(missing: str, kept: bool) -> None:
    subject = shaper(on_cursor_value_missing=missing)
    subject.take_range(CursorRange(2, 5))
    assert (subject.shape({"id": 1}) is not None) is kept
    assert (subject.shape({"id": 2, "at": None}) is not None) is kept
    assert subject.latest is None  # the bookmark moves only for records with a cursor


def test_a_record_without_its_cursor_raises_by_default() -> None:
    with pytest.raises(TapAnalyticsError, match="on_cursor_value_missing"):
        shaper().shape({"id": 1})


def test_a_nested_cursor_is_read_from_its_object() -> None:
    subject = shaper(cursor_path="meta.at", cursor_parts=("meta", "at"))
    subject.take_range(CursorRange(2))
    assert subject.shape({"id": 1, "meta": {"at": 3}}) is not None
    assert subject.shape({"id": 2, "meta": {"at": 1}}) is None
    assert subject.latest == (cursor_order(3), 3)
    with pytest.raises(TapAnalyticsError, match=r"'meta\.at'"):
        subject.shape({"id": 3, "meta": "flat"})


@pytest.mark.parametrize(
    ("order", "values", "stops_at"),
    [("asc", [1, 2, 6, 7], 6), ("desc", [7, 4, 1, 0], 1), (None, [1, 2, 6, 7], None)],
)
def test_row_order_marks_the_end_of_the_useful_records(
    order: str | None, values: list[int], stops_at: int | None
) -> None:
    subject = shaper(row_order=order)
    subject.take_range(CursorRange(2, 5))
    first_out = None
    for value in values:
        subject.shape({"id": value, "at": value})
        if subject.out_of_range and first_out is None:
            first_out = value
    assert first_out == stops_at

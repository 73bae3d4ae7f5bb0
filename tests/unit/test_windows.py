"""Backfill windows: ISO 8601 durations and disjoint [start, end) pieces that cover the range."""

from __future__ import annotations

import decimal
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_analytics.windows import Duration, parse_window, split

T0 = datetime(2024, 1, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "months", "delta"),
    [
        ("P30D", 0, timedelta(days=30)),
        ("PT6H", 0, timedelta(hours=6)),
        ("P1M", 1, timedelta()),
        ("P1Y2M10DT2H30M", 14, timedelta(days=10, hours=2, minutes=30)),
        ("P2W", 0, timedelta(weeks=2)),
        ("PT0.5S", 0, timedelta(seconds=0.5)),
        ("p1d", 0, timedelta(days=1)),
    ],
)
def test_durations_parse(text: str, months: int, delta: timedelta) -> None:
    assert Duration.parse(text) == Duration(months, delta)


@pytest.mark.parametrize("text", ["P", "PT", "30D", "P1H", "P0D", "PT0S", "P-1D", "one day", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        Duration.parse(text)


def test_months_step_by_the_calendar() -> None:
    month = Duration.parse("P1M")
    assert month.after(T0) == datetime(2024, 2, 29, tzinfo=UTC)
    assert month.after(datetime(2024, 12, 15, tzinfo=UTC)) == datetime(2025, 1, 15, tzinfo=UTC)
    assert Duration.parse("P1Y").after(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(2025, 2, 28, tzinfo=UTC)


def test_windows_cover_the_range_and_the_last_ends_at_the_end() -> None:
    end = T0 + timedelta(days=65)
    windows = list(split(T0, end, Duration.parse("P30D")))
    assert windows == [
        (T0, T0 + timedelta(days=30)),
        (T0 + timedelta(days=30), T0 + timedelta(days=60)),
        (T0 + timedelta(days=60), end),
    ]
    assert list(split(T0, T0, Duration.parse("P1D"))) == []


def test_numeric_windows() -> None:
    assert list(split(0, 25, parse_window(10))) == [(0, 10), (10, 20), (20, 25)]
    assert list(split(decimal.Decimal("0.5"), 2, parse_window(0.5))) == [
        (decimal.Decimal("0.5"), decimal.Decimal("1.0")),
        (decimal.Decimal("1.0"), decimal.Decimal("1.5")),
        (decimal.Decimal("1.5"), 2),
    ]


@pytest.mark.parametrize("value", [0, -3, True, None, [1], "P0D"])
def test_bad_windows_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_window(value)


def test_a_window_kind_must_match_the_cursor() -> None:
    with pytest.raises(ValueError, match="date-time"):
        list(split(0, 10, parse_window("P1D")))
    with pytest.raises(ValueError, match="numeric"):
        list(split(T0, T0 + timedelta(days=2), parse_window(3)))


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.sampled_from(["PT1H", "P1D", "P7D", "P1M", "P3M", "P1Y"]),
)
def test_windows_are_disjoint_contiguous_and_exact(start_h: int, length_h: int, window: str) -> None:
    start = T0 + timedelta(hours=start_h)
    end = start + timedelta(hours=length_h)
    pieces = list(split(start, end, parse_window(window)))
    if length_h == 0:
        assert pieces == []
        return
    assert pieces[0][0] == start
    assert pieces[-1][1] == end
    for (a, b), (c, _) in itertools.pairwise(pieces):
        assert a < b == c

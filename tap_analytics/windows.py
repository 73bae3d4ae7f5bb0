"""Backfill windows: a range of replication values (`CursorRange`) cut into `[start, end)` pieces.

A window is an ISO 8601 duration (`P30D`, `PT6H`, `P1M`, `P1Y2M10DT2H30M`, `P2W`) for
date-time cursors, or a positive number for numeric ones. Months and years step by the
calendar (Jan 31 + P1M is Feb 29 in a leap year), days and shorter by exact time.
Windows are disjoint by construction, so separate processes may each take one.
"""

from __future__ import annotations

import calendar
import decimal
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tap_analytics.instants import as_bound, cursor_order, render

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?!$)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration: calendar months (years are 12 of them) and exact time."""

    months: int = 0
    delta: timedelta = timedelta()

    @classmethod
    def parse(cls, text: str) -> Duration:
        match = _DURATION.match(text.strip().upper())
        if match is None:
            msg = f"{text!r} is not an ISO 8601 duration such as P30D, PT6H or P1M"
            raise ValueError(msg)
        part = {k: v or "0" for k, v in match.groupdict().items()}
        duration = cls(
            months=int(part["years"]) * 12 + int(part["months"]),
            delta=timedelta(
                weeks=int(part["weeks"]), days=int(part["days"]), hours=int(part["hours"]),
                minutes=int(part["minutes"]), seconds=float(part["seconds"]),
            ),
        )
        if duration.months == 0 and duration.delta <= timedelta():
            msg = f"{text!r} is an empty duration; a window must be longer than zero"
            raise ValueError(msg)
        return duration

    def after(self, moment: datetime) -> datetime:
        """`moment` plus this duration (months first, clamping the day, then the time)."""
        if self.months:
            month_index = moment.month - 1 + self.months
            year, month = moment.year + month_index // 12, month_index % 12 + 1
            day = min(moment.day, calendar.monthrange(year, month)[1])
            moment = moment.replace(year=year, month=month, day=day)
        return moment + self.delta


def parse_window(value: Any) -> Duration | decimal.Decimal:
    """A `window` setting: an ISO 8601 duration string or a positive number."""
    if isinstance(value, bool):
        raise ValueError("a window is a duration such as P30D or a positive number, not a boolean")
    if isinstance(value, int | float | decimal.Decimal):
        step = decimal.Decimal(str(value))
        if step <= 0:
            raise ValueError(f"a numeric window must be positive, got {value!r}")
        return step
    if isinstance(value, str):
        return Duration.parse(value)
    raise ValueError(f"a window is a duration such as P30D or a positive number, got {value!r}")


def split(start: Any, end: Any, window: Duration | decimal.Decimal) -> Iterator[tuple[Any, Any]]:
    """The windows `[a, b)` covering `[start, end)`, in order; the last one ends at `end`."""
    dates = isinstance(start, datetime) and isinstance(end, datetime)
    if isinstance(window, Duration) and not dates:
        raise ValueError("a duration window needs date-time bounds")
    if isinstance(window, decimal.Decimal) and (isinstance(start, datetime) or isinstance(end, datetime)):
        raise ValueError("a numeric window needs numeric bounds")
    current = start
    while current < end:
        following = _step(current, window)
        yield current, min(following, end)
        current = following


def _step(value: Any, window: Duration | decimal.Decimal) -> Any:
    if isinstance(window, Duration):
        return window.after(value)
    if isinstance(value, int) and window == window.to_integral_value():
        return value + int(window)  # whole numbers stay whole
    return decimal.Decimal(str(value)) + window


@dataclass(frozen=True)
class CursorRange:
    """The replication values one sync, or one window of it, takes: `[start, end)` unless
    `start_open` (dlt's `range_start: open`) or `end_closed` (`range_end: closed`). The
    edges are cursor values as configured or bookmarked; None is no bound."""

    start: Any = None
    end: Any = None
    start_open: bool = False
    end_closed: bool = False

    def within(self, start: Any, end: Any) -> CursorRange:
        """This range cut to one window too (a run restricted to it): `[start, end)`, or
        `(start, end]` when this range's start is open (see `windows`)."""
        narrowed = self
        if start is not None and (self.start is None or cursor_order(start) > cursor_order(self.start)):
            narrowed = replace(narrowed, start=start)
        if end is not None and (self.end is None or cursor_order(end) < cursor_order(self.end)):
            narrowed = replace(narrowed, end=end, end_closed=self.start_open)
        return narrowed

    def resumed_at(self, start: Any) -> CursorRange:
        """The rest of this range from `start` on, the end of a window already synced."""
        return replace(self, start=start)

    def windows(self, window: Duration | decimal.Decimal, now: datetime) -> Iterator[CursorRange]:
        """This range cut into consecutive windows, so every value falls in exactly one:
        `[a, b)` pieces, or `(a, b]` when the start is open (an API whose start parameter is
        exclusive, such as `id_after`, then never misses the record at a cut); the last
        window keeps this range's end edge. Without an end, date-times are cut up to `now`
        and the last window stays open-ended (a record stamped after the tap's clock is not
        left for later)."""
        if self.start is None:
            raise ValueError("a window needs a start: set initial_value or start_date")
        low = as_bound(self.start)
        if self.end is not None:
            high = as_bound(self.end)
        elif isinstance(low, datetime):
            high = max(low, now)
        else:
            raise ValueError("a numeric window needs an end: set end_value (or window_end)")
        pieces = split(low, high, window)
        current = next(pieces, None)
        if current is None:  # an empty range: one window, so the sync still runs once
            yield self
            return
        while current is not None:
            following = next(pieces, None)
            first, last = current[0] == low, following is None
            yield CursorRange(
                start=self.start if first else render(current[0], self.start),
                end=self.end if last else render(current[1], self.start),
                start_open=self.start_open,
                end_closed=self.end_closed if last else self.start_open,
            )
            current = following

"""Replication values compared as what they mean: date-times by instant, numbers by value.

Bookmarks, start values and resume checkpoints all order cursor values through
`cursor_order`, so `...00.5Z` sorts after `...00Z` and `+05:30` offsets are honoured
(comparing ISO strings, as the SDK does, gets both wrong).
"""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime, timedelta
from typing import Any

NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


def parse_datetime(value: str) -> datetime:
    """ISO 8601 / RFC 3339, with `Z` accepted."""
    return datetime.fromisoformat(value.strip().replace("z", "Z"))


def cursor_order(value: Any) -> tuple[int, Any]:
    """A sortable key for replication values: numbers by value, date-times by instant."""
    if type(value) is str and not value.isdigit():  # the common case first: ISO 8601
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return (1, moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | decimal.Decimal):
        return (0, decimal.Decimal(value))
    if isinstance(value, datetime):
        return (1, value if value.tzinfo else value.replace(tzinfo=UTC))
    text = str(value)
    if NUMBER.match(text):
        return (0, decimal.Decimal(text))
    moment = parse_datetime(text)
    return (1, moment if moment.tzinfo else moment.replace(tzinfo=UTC))


DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


def as_bound(value: Any) -> datetime | int | decimal.Decimal:
    """A cursor value as a range bound windows can step from: an aware date-time or a number."""
    kind, key = cursor_order(value)
    if kind == 1:
        return key  # type: ignore[no-any-return]
    number: decimal.Decimal = key
    return int(number) if number == number.to_integral_value() else number


def render(bound: datetime | int | decimal.Decimal, like: Any) -> Any:
    """A computed bound (a window's edge, a lagged start) in the shape of the cursor value
    `like`: a date stays a date while the bound is a midnight, UTC is written `Z`, a
    number given as text stays text; so APIs get back the format they were configured with."""
    if isinstance(bound, datetime):
        midnight = (bound.hour, bound.minute, bound.second, bound.microsecond) == (0, 0, 0, 0)
        if isinstance(like, str) and DATE_ONLY.match(like) and midnight:
            return bound.date().isoformat()
        text = bound.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    number: int | float = bound if isinstance(bound, int) else float(bound)
    if isinstance(number, float) and number.is_integer() and isinstance(like, int):
        number = int(number)
    return str(number) if isinstance(like, str) else number


def lagged(value: Any, lag: float) -> Any:
    """`value` moved back by `lag`, as dlt's `lag`: seconds for a date-time, days for a
    date (`2024-01-25`), units for a number; the result keeps the value's shape."""
    bound = as_bound(value)
    if isinstance(bound, datetime):
        dated = isinstance(value, str) and DATE_ONLY.match(value)
        return render(bound - (timedelta(days=lag) if dated else timedelta(seconds=lag)), value)
    shifted = bound - (int(lag) if float(lag).is_integer() else decimal.Decimal(str(lag)))
    return render(shifted, value)

"""Replication values compared as what they mean: date-times by instant, numbers by value.

Bookmarks, start values and resume checkpoints all order cursor values through
`cursor_order`, so `...00.5Z` sorts after `...00Z` and `+05:30` offsets are honoured
(comparing ISO strings, as the SDK does, gets both wrong).
"""

from __future__ import annotations

import decimal
import re
from datetime import UTC, datetime
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

"""The record shaper's shortcuts change no result: a shape that fitted is skipped, any other checked."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from tap_analytics.errors import TapAnalyticsError
from tap_analytics.records import RecordShaper

SCHEMA = {"properties": {"id": {"type": "string"}, "n": {"type": ["integer", "null"]},
                         "x": {"type": ["number", "null"]}}}


def shaper() -> RecordShaper:
    return RecordShaper(name="s", schema=SCHEMA, primary_key=("id",), replication_key=None,
                        url="https://api.example.com/s", logger=logging.getLogger("t"))


def test_same_fields_with_other_types_are_still_converted_or_refused() -> None:
    s = shaper()
    assert s.shape({"id": "1", "n": 2, "x": 1.5}) == {"id": "1", "n": 2, "x": 1.5}
    assert s.shape({"id": 3, "n": "4", "x": None}) == {"id": "3", "n": 4, "x": None}
    assert s.shape({"id": 5, "n": "6", "x": None}) == {"id": "5", "n": 6, "x": None}  # again
    with pytest.raises(TapAnalyticsError, match="n='seven'"):
        s.shape({"id": "7", "n": "seven", "x": None})
    assert s.shape({"id": "8", "n": 9, "x": Decimal("0.5")})["x"] == Decimal("0.5")


def test_unknown_fields_are_dropped_from_every_record_of_a_shape() -> None:
    s = shaper()
    for i in range(3):
        assert s.shape({"id": str(i), "extra": i, "n": i}) == {"id": str(i), "n": i}
    assert s.shape({"id": "9", "other": 1}) == {"id": "9"}

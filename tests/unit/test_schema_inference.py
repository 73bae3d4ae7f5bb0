"""Schemas inferred from a first page: types, nullability, formats; discovery of a config-only resource."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from tap_analytics.schema_inference import json_type, property_schema, schema_from_records

from .conftest import BASE_URL, make_tap, query, seed_config


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (True, "boolean"),
        (False, "boolean"),
        (0, "integer"),
        (12, "integer"),
        (1.5, "number"),
        (decimal.Decimal("0.1"), "number"),
        ("x", "string"),
        ({"a": 1}, "object"),
        ([1, 2], "array"),
    ],
)
def test_json_types(value: Any, kind: str) -> None:
    assert json_type(value) == kind


def test_every_inferred_field_is_nullable() -> None:
    schema = schema_from_records([{"id": "a", "n": 1, "ok": True, "tags": ["x"], "meta": {"k": 1}}])
    assert schema["type"] == "object"
    props = schema["properties"]
    assert props["id"] == {"type": ["string", "null"]}
    assert props["n"] == {"type": ["integer", "null"]}
    assert props["ok"] == {"type": ["boolean", "null"]}
    assert props["tags"]["type"] == ["array", "null"]
    assert props["meta"]["type"] == ["object", "null"]
    assert props["meta"]["additionalProperties"] is True


def test_integer_and_float_make_a_number() -> None:
    assert property_schema([1, 2.5, 3]) == {"type": ["number", "null"]}
    assert property_schema([1, decimal.Decimal("2.5")]) == {"type": ["number", "null"]}


def test_booleans_are_not_integers() -> None:
    assert property_schema([True, 1]) == {"type": ["boolean", "integer", "null"]}


def test_nulls_only_admit_anything() -> None:
    assert property_schema([None, None]) == {}


def test_fields_missing_from_some_records_are_still_described() -> None:
    props = schema_from_records([{"id": "1"}, {"id": "2", "late": 5}])["properties"]
    assert set(props) == {"id", "late"}
    assert props["late"] == {"type": ["integer", "null"]}


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-01T00:00:00Z", "2024-06-30T23:59:59.123456+02:00"],
        ["2024-01-01T00:00:00", None],
        ["2024-01-01T00:00Z"],
    ],
)
def test_date_time_detection(values: list[Any]) -> None:
    schema = property_schema(values)
    assert schema["type"] == ["string", "null"]
    assert schema["format"] == "date-time"


@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-01T00:00:00Z", "not a date"],
        ["2024-01-01"],
        ["12:30"],
        ["T" * 20],
        ["2024-01-01T00:00:00Z", 5],
    ],
)
def test_no_date_time_format_unless_every_string_is_one(values: list[Any]) -> None:
    assert "format" not in property_schema(values)


def test_mixed_string_and_number_keeps_both() -> None:
    assert property_schema(["a", 1]) == {"type": ["integer", "string", "null"]}


# --- discovery of a resource without a schema (seed 001) -------------------------------------


def test_seed_001_resource_schema_is_inferred_from_the_first_page(requests_mock: Any) -> None:
    requests_mock.post(f"{BASE_URL}/oauth/token", json={"access_token": "at-1", "expires_in": 3600})
    requests_mock.get(f"{BASE_URL}/v1/resource", json={"data": [
        {"id": 1, "customer_id": "c-1", "amount": 10.5, "created_at": "2024-01-01T00:00:00Z"},
        {"id": 2, "customer_id": None, "amount": 3, "created_at": "2024-01-02T00:00:00Z"},
    ], "total": 2})
    tap = make_tap(seed_config("generic"))
    stream = tap.streams["resource_name"]
    props = stream.schema["properties"]
    assert set(props) == {"id", "customer_id", "amount", "created_at"}
    assert props["amount"]["type"] == ["number", "null"]
    assert props["created_at"]["format"] == "date-time"
    data_requests = [r for r in requests_mock.request_history if r.method == "GET"]
    assert len(data_requests) == 1
    assert query(data_requests[0]) == {"offset": "0", "limit": "100"}
    assert stream.primary_keys == ["id"]


def test_empty_first_page_gives_a_key_only_schema(requests_mock: Any) -> None:
    requests_mock.post(f"{BASE_URL}/oauth/token", json={"access_token": "at-1"})
    requests_mock.get(f"{BASE_URL}/v1/resource", json={"data": []})
    stream = make_tap(seed_config("generic")).streams["resource_name"]
    assert set(stream.schema["properties"]) == {"id"}

"""A schema for a resource declared without one, inferred from its first page.

Seed 001's generic resource and any "additional resource" can be declared in config
alone; their fields are learned from real data at discovery. Every inferred field is
nullable, since one page cannot prove a field is always present.
"""

from __future__ import annotations

import copy
import decimal
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from tap_analytics.config import ResourceSpec
from tap_analytics.instants import parse_datetime

logger = logging.getLogger("tap_analytics.schema_inference")


def infer_schema(spec: ResourceSpec, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Describe the records of the resource's first page (of a dependent resource: its
    first parents' children), as the stream's `sample_rows` reads them."""
    if not records:
        logger.warning(
            "%s: the first page is empty, so only its primary key is known; declare a schema "
            "for this resource to sync its fields",
            spec.name,
        )
        return key_only_schema(spec.primary_key)
    schema = schema_from_records(records)
    logger.info("%s: inferred %d fields from %d records", spec.name, len(schema["properties"]),
                len(records))
    return schema


def key_only_schema(primary_key: Iterable[str]) -> dict[str, Any]:
    """A schema that knows only the primary key: all a probe needs to read a page."""
    return {
        "type": "object",
        "properties": {key: {"type": ["string", "integer"]} for key in primary_key},
    }


def schema_from_records(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A JSON schema admitting every record given, each field nullable."""
    seen: dict[str, list[Any]] = {}
    for record in records:
        for key, value in record.items():
            seen.setdefault(key, []).append(value)
    return {
        "type": "object",
        "properties": {key: property_schema(values) for key, values in seen.items()},
    }


def property_schema(values: list[Any]) -> dict[str, Any]:
    kinds = {json_type(v) for v in values if v is not None}
    if {"integer", "number"} <= kinds:
        kinds.discard("integer")
    if not kinds:
        return {}
    ordered = sorted(kinds)
    schema: dict[str, Any] = {"type": [*ordered, "null"]}
    if kinds == {"string"} and all(_is_datetime(v) for v in values if v is not None):
        schema["format"] = "date-time"
    if kinds == {"object"}:
        schema["additionalProperties"] = True
    if kinds == {"array"}:
        schema["items"] = {}
    return schema


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | decimal.Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def _is_datetime(value: str) -> bool:
    if len(value) < 16 or "T" not in value:
        return False
    try:
        parse_datetime(value)
    except ValueError:
        return False
    return True


def with_parent_fields(
    schema: dict[str, Any], spec: ResourceSpec, parent_schema: Mapping[str, Any]
) -> dict[str, Any]:
    """A dependent resource's schema with its `include_from_parent` fields (`_posts_title`),
    typed as the parent's schema types them, unless the schema declares them itself."""
    parent = spec.parent
    if parent is None or not parent.include:
        return schema
    properties = schema.setdefault("properties", {})
    parent_properties = parent_schema.get("properties") or {}
    for field in parent.include:
        declared = copy.deepcopy(dict(parent_properties.get(field) or {}))
        properties.setdefault(parent.field_name(field), declared)
    return schema

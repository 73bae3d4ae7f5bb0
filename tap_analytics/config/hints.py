"""A resource's table hints (dlt's `TResourceHints` the tap acts on): its stream (table)
name, primary key and write disposition, and the check that its keys are fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tap_analytics.config.keys import WRITE_DISPOSITION_KEYS
from tap_analytics.config.naming import stream_name
from tap_analytics.config.specs import Builtin, IncrementalSpec, WriteDisposition

#: dlt's write-disposition strategies the tap's dispositions are (the target merges on
#: the primary key, replace keeps only this run's rows); the others are refused.
STRATEGIES = {"merge": {"upsert", "delete-insert"}, "replace": {"truncate-and-insert"}}


def primary_key_of(value: Any, where: str) -> tuple[tuple[str, ...], list[str]]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        return ("id",), [f"{where}.primary_key: must be a field name or a list of field names"]
    return tuple(value), []


def write_disposition_of(value: Any, where: str) -> tuple[WriteDisposition, list[str]]:
    """dlt's `write_disposition`: a name, or `{disposition, strategy}`."""
    setting = f"{where}.write_disposition"
    if value is None:
        return "merge", []
    errors: list[str] = []
    disposition, strategy = value, None
    if isinstance(value, Mapping):
        errors += [
            f"{setting}.{key}: not supported: an option of dlt's loading strategies; the "
            "target decides how rows are written"
            for key in value
            if key not in WRITE_DISPOSITION_KEYS
        ]
        disposition, strategy = value.get("disposition", "merge"), value.get("strategy")
    if disposition == "merge":
        result: WriteDisposition = "merge"
    elif disposition == "append":
        result = "append"
    elif disposition == "replace":
        result = "replace"
    else:
        return "merge", [*errors, f"{setting}: must be merge, append or replace"]
    if strategy is not None and strategy not in STRATEGIES.get(result, set()):
        errors.append(
            f"{setting}.strategy: {strategy!r} is not supported: {result} "
            + {
                "merge": "is the target's upsert on primary_key (strategy upsert or "
                "delete-insert); keep history in the target",
                "replace": "is the target keeping only this run's rows (ACTIVATE_VERSION; "
                "strategy truncate-and-insert)",
                "append": "adds rows and has no strategy",
            }[result]
        )
    return result, errors


def table_name_of(value: Any, name: str, where: str) -> tuple[str, list[str]]:
    """The Singer stream name: `table_name` (else the resource name), snake_cased as dlt
    names tables."""
    if value is None:
        return stream_name(name), []
    if not isinstance(value, str) or not value.strip():
        return stream_name(name), [f"{where}.table_name: must be a non-empty string"]
    return stream_name(value), []


def fields_known_errors(
    schema: Mapping[str, Any] | None,
    builtin: type[Builtin] | None,
    incremental: IncrementalSpec | None,
    primary_key: tuple[str, ...],
    where: str,
) -> list[str]:
    """The replication key and primary key must be fields of a schema known up front."""
    known = (
        schema["properties"] if schema
        else builtin.builtin_schema()["properties"] if builtin
        else None
    )
    if known is None:
        return []
    errors = []
    if incremental and incremental.cursor_field not in known:
        errors.append(
            f"{where}.endpoint.incremental.cursor_path: {incremental.cursor_field!r} is not a "
            "field of the resource's schema; name a date-time or number field it declares"
        )
    errors += [
        f"{where}.primary_key: {key!r} is not a field of the resource's schema"
        for key in primary_key
        if key not in known
    ]
    return errors

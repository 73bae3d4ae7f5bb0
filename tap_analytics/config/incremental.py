"""`endpoint.incremental`, and dlt's other spelling of it: a query parameter of type
`incremental` (`params: {since: {type: incremental, cursor_path: ..., initial_value: ...}}`,
the same as `incremental: {start_param: since, ...}`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tap_analytics.config.keys import (
    INCREMENTAL_KEYS,
    INCREMENTAL_PARAM_KEYS,
    INCREMENTAL_REFUSED,
    unknown_key_errors,
)
from tap_analytics.config.specs import IncrementalSpec

FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def incremental_spec(value: Any, where: str) -> tuple[IncrementalSpec | None, list[str]]:
    """The (merged) `endpoint.incremental` of the resource at `where`, and its problems."""
    setting = f"{where}.endpoint.incremental"
    if value in (None, False, {}):
        return None, []
    if not isinstance(value, Mapping):
        return None, [f"{setting}: must be an object with cursor_path"]
    errors = unknown_key_errors(value, INCREMENTAL_KEYS, setting, refused=INCREMENTAL_REFUSED)
    start_param = value.get("start_param")
    if start_param is not None and (not isinstance(start_param, str) or not start_param):
        errors.append(f"{setting}.start_param: must be a query parameter name")
        start_param = None
    return _spec(value, setting, start_param, errors)


def incremental_param(
    name: str, value: Mapping[str, Any], where: str
) -> tuple[IncrementalSpec | None, list[str]]:
    """A query parameter `name` of type `incremental`: it sends the bookmark."""
    setting = f"{where}.endpoint.params.{name}"
    errors = unknown_key_errors(
        value, INCREMENTAL_PARAM_KEYS, setting, refused=INCREMENTAL_REFUSED
    )
    return _spec(value, setting, name, errors)


def _spec(
    value: Mapping[str, Any], setting: str, start_param: str | None, errors: list[str]
) -> tuple[IncrementalSpec | None, list[str]]:
    func = value.get("last_value_func", "max")
    if func != "max":
        errors.append(
            f"{setting}.last_value_func: only 'max' is supported (the bookmark is the "
            f"latest value emitted; got {func!r})"
        )
    cursor = value.get("cursor_path")
    if isinstance(cursor, str) and cursor.startswith("$."):
        cursor = cursor[2:]
    if not isinstance(cursor, str) or not FIELD_NAME.match(cursor):
        errors.append(
            f"{setting}.cursor_path: required, a top-level field of the record such as "
            f"'updated_at' (got {cursor!r})"
        )
        return None, errors
    return IncrementalSpec(cursor, start_param, value.get("initial_value")), errors

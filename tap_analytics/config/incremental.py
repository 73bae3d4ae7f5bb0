"""`endpoint.incremental`, and dlt's other spelling of it: a query parameter of type
`incremental` (`params: {since: {type: incremental, cursor_path: ..., initial_value: ...}}`,
the same as `incremental: {start_param: since, ...}`), validated into an `IncrementalSpec`.

Every key of dlt's `IncrementalConfig` without a Python callable is acted on (see
`tap_analytics.config.keys` for the few refused, and why); `window` is the tap's own.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from typing import Any

from tap_analytics.config.keys import (
    INCREMENTAL_KEYS,
    INCREMENTAL_PARAM_KEYS,
    INCREMENTAL_PARAM_REFUSED,
    INCREMENTAL_REFUSED,
    unknown_key_errors,
)
from tap_analytics.config.specs import IncrementalSpec
from tap_analytics.instants import cursor_order
from tap_analytics.selectors import path_parts, selector_of
from tap_analytics.windows import Duration, parse_window

#: dlt's enumerated incremental options: their choices, the default first (row_order: unset).
CHOICES: dict[str, tuple[str | None, ...]] = {
    "range_start": ("closed", "open"),
    "range_end": ("open", "closed"),
    "on_cursor_value_missing": ("raise", "include", "exclude"),
    "row_order": (None, "asc", "desc"),
}


def incremental_spec(value: Any, where: str) -> tuple[IncrementalSpec | None, list[str]]:
    """The (merged) `endpoint.incremental` of the resource at `where`, and its problems."""
    setting = f"{where}.endpoint.incremental"
    if value in (None, False, {}):
        return None, []
    if not isinstance(value, Mapping):
        return None, [f"{setting}: must be an object with cursor_path"]
    errors = unknown_key_errors(value, INCREMENTAL_KEYS, setting, refused=INCREMENTAL_REFUSED)
    start_param = _param_name(value, "start_param", setting, errors)
    end_param = _param_name(value, "end_param", setting, errors)
    return _spec(value, setting, start_param, end_param, errors)


def incremental_param(
    name: str, value: Mapping[str, Any], where: str
) -> tuple[IncrementalSpec | None, list[str]]:
    """A query parameter `name` of type `incremental`: it sends the start of the range."""
    setting = f"{where}.endpoint.params.{name}"
    errors = unknown_key_errors(
        value, INCREMENTAL_PARAM_KEYS, setting, refused=INCREMENTAL_PARAM_REFUSED
    )
    return _spec(value, setting, name, None, errors)


def _param_name(value: Mapping[str, Any], key: str, setting: str, errors: list[str]) -> str | None:
    name = value.get(key)
    if name is not None and (not isinstance(name, str) or not name):
        errors.append(f"{setting}.{key}: must be a query parameter name")
        return None
    return name


def cursor_parts_of(cursor: Any) -> tuple[str, ...] | None:
    """The keys of a `cursor_path` (`updated_at`, `meta.updated_at`, `$.meta.updated_at`,
    `meta['updated_at']`), or None when it names no single field (wildcards, filters)."""
    if not isinstance(cursor, str) or "*" in cursor:
        return None
    parts = path_parts(cursor)
    return parts or None


def _spec(
    value: Mapping[str, Any],
    setting: str,
    start_param: str | None,
    end_param: str | None,
    errors: list[str],
) -> tuple[IncrementalSpec | None, list[str]]:
    func = value.get("last_value_func", "max")
    if func != "max":
        errors.append(
            f"{setting}.last_value_func: only 'max' is supported (the bookmark is the "
            f"latest value emitted; got {func!r})"
        )
    choices = {key: _choice(value, key, setting, errors) for key in CHOICES}
    initial = _cursor_value(value, "initial_value", setting, errors)
    end = _cursor_value(value, "end_value", setting, errors)
    if end is not None and initial is None and "initial_value" not in value:
        errors.append(
            f"{setting}.end_value: needs initial_value (as in dlt): the range is "
            "[initial_value, end_value)"
        )
    elif end is not None and initial is not None and _order(end) < _order(initial):
        errors.append(
            f"{setting}.end_value: {end!r} is before initial_value {initial!r}; the range "
            "is [initial_value, end_value)"
        )
    lag = value.get("lag")
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int | float) or lag < 0):
        errors.append(
            f"{setting}.lag: must be a number >= 0: seconds for a date-time cursor, days for "
            f"a date, units for a number (got {lag!r})"
        )
        lag = None
    window = _window(value, setting, (initial, end), errors)
    cursor = value.get("cursor_path")
    parts = cursor_parts_of(cursor)
    if parts is None:
        errors.append(
            f"{setting}.cursor_path: required, the record's field such as 'updated_at', or a "
            f"nested one such as 'meta.updated_at' or '$.meta.updated_at' (got {cursor!r})"
        )
        return None, errors
    spec = IncrementalSpec(
        cursor_path=selector_of(parts),
        cursor_parts=parts,
        start_param=start_param,
        end_param=end_param,
        initial_value=initial,
        end_value=end,
        lag=float(lag) if lag else None,
        window=window,
        **choices,  # type: ignore[arg-type]
    )
    return spec, errors


def _choice(value: Mapping[str, Any], key: str, setting: str, errors: list[str]) -> str | None:
    allowed = CHOICES[key]
    chosen = value.get(key)
    if chosen is None:
        return allowed[0]
    if chosen not in allowed:
        names = ", ".join(c for c in allowed if c)
        errors.append(f"{setting}.{key}: must be one of {names} (got {chosen!r})")
        return allowed[0]
    return str(chosen)


def _cursor_value(value: Mapping[str, Any], key: str, setting: str, errors: list[str]) -> Any:
    """`initial_value` / `end_value`: a date-time, a date or a number (None: not set)."""
    given = value.get(key)
    if given is None:
        return None
    try:
        _order(given)
    except (ValueError, TypeError):
        errors.append(
            f"{setting}.{key}: must be a date-time such as 2024-01-01T00:00:00Z, a date or a "
            f"number (got {given!r})"
        )
        return None
    return given


def _order(value: Any) -> tuple[int, Any]:
    if isinstance(value, list | dict):
        raise TypeError(value)
    return cursor_order(value)


def _window(
    value: Mapping[str, Any], setting: str, bounds: tuple[Any, Any], errors: list[str]
) -> Duration | decimal.Decimal | None:
    given = value.get("window")
    if given is None:
        return None
    try:
        window = parse_window(given)
    except ValueError as exc:
        errors.append(f"{setting}.window: {exc}")
        return None
    wants_dates = isinstance(window, Duration)
    for bound in bounds:
        if bound is not None and (_order(bound)[0] == 1) != wants_dates:
            kind = "a duration such as P30D" if wants_dates else "a number"
            errors.append(
                f"{setting}.window: {given!r} is {kind}, but the cursor's values such as "
                f"{bound!r} are {'numbers' if wants_dates else 'date-times'}; a date-time "
                "cursor takes a duration, a numeric one a number"
            )
            return None
    return window

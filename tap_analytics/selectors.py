"""Reading a response body: the records at a `data_selector`, a number at a path.

Dotted paths (`data`, `$.data[*]`, `result.items`) are read directly -- the common case,
on every page; other JSONPath expressions go through the SDK's JSONPath engine.
"""

from __future__ import annotations

from typing import Any

from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_analytics.errors import TapAnalyticsError

MISSING = object()


def select_records(body: Any, selector: str, where: str) -> list[dict[str, Any]]:
    """The list of records at `selector` (a dotted path or JSONPath); a clear error
    naming `where` for anything else."""
    path = dotted(selector)
    if path is not None:
        found = select(body, path) if path else body
        if found is MISSING or found is None:
            if found is None:
                seen = f"{selector!r} is null"
            elif isinstance(body, dict):
                keys = ", ".join(repr(key) for key in sorted(body)[:10])
                seen = "the body has only: " + (keys or "no keys")
            else:
                seen = f"the body is a {type(body).__name__}"
            msg = (
                f"{where}: no list of records at data_selector {selector!r} ({seen}); "
                "set endpoint.data_selector to where the API puts the list"
            )
            raise TapAnalyticsError(msg)
        items = found
    else:
        items = list(extract_jsonpath(selector, body))
    if not isinstance(items, list):
        msg = (
            f"{where}: data_selector {selector!r} points at a {type(items).__name__}, "
            "not a list of records; set endpoint.data_selector to the list"
        )
        raise TapAnalyticsError(msg)
    for item in items:
        if not isinstance(item, dict):
            msg = f"{where}: a record under {selector!r} is a {type(item).__name__}, not an object"
            raise TapAnalyticsError(msg)
    return items


def read_total(body: Any, total_path: str | None) -> int | None:
    """The total a response announces at `total_path`, or None."""
    if not total_path or not isinstance(body, dict):
        return None
    return as_int(select(body, total_path))


def dotted(selector: str) -> str | None:
    """`data`, `$.data`, `$.data[*]` → a dotted path; None for other JSONPath."""
    path = selector.strip()
    if path in {"$", "$[*]"}:
        return ""
    if path.startswith("$."):
        path = path[2:]
    path = path.removesuffix("[*]")
    if all(part.replace("_", "").replace("-", "").isalnum() for part in path.split(".")):
        return path
    return None


def select(body: Any, path: str) -> Any:
    """The value at dotted `path`, or `MISSING`."""
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return MISSING
        body = body[part]
    return body


def as_int(value: Any) -> int | None:
    """A whole number read from a JSON value, or None."""
    if value is MISSING or value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

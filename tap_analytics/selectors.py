"""Reading and patching response bodies: records at a `data_selector`, a value at a path.

Plain paths -- dotted (`data`, `$.data[*]`, `result.items`) or in bracket form
(`results['posts']`, `$['@odata.nextLink']`) -- are read directly, the common case on
every page; other JSONPath expressions go through the SDK's JSONPath engine. When no
`data_selector` is configured, `find_records_path` finds the records as dlt's
`find_response_page_data` does.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any

from singer_sdk.helpers.jsonpath import extract_jsonpath

from tap_analytics.errors import TapAnalyticsError

MISSING = object()

#: One step of a plain path: `.name`, `name` (first), `['name']` or `["name"]`.
_STEP = re.compile(r"""\.?([A-Za-z0-9_\-@$]+)|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]""")

#: dlt's `find_response_page_data`: list keys that hold records, and keys that never do.
RECORD_KEYS = frozenset(
    {"data", "items", "results", "entries", "records", "rows", "entities", "payload",
     "content", "objects", "values"}
)
NON_RECORD_KEYS = frozenset({"meta", "metadata", "pagination", "links", "extras", "headers"})


@lru_cache(maxsize=256)
def path_parts(selector: str) -> tuple[str, ...] | None:
    """The keys of a plain path (`$` is the body itself: no keys); None for JSONPath that
    needs the engine (wildcards inside, filters, indexes, recursive descent)."""
    path = selector.strip()
    if path.startswith("$"):
        path = path[1:]
    path = path.removesuffix("[*]")
    parts: list[str] = []
    position = 0
    while position < len(path):
        match = _STEP.match(path, position)
        if match is None:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return tuple(parts)


def value_at(body: Any, selector: str) -> Any:
    """The value at `selector` (a plain path or JSONPath: its first match), or `MISSING`."""
    parts = path_parts(selector)
    if parts is None:
        found = list(extract_jsonpath(selector, body))
        return found[0] if found else MISSING
    return select(body, parts)


def select(body: Any, parts: tuple[str, ...] | str) -> Any:
    """The value at the keys `parts` (or a dotted string), or `MISSING`."""
    for part in parts.split(".") if isinstance(parts, str) else parts:
        if not isinstance(body, dict) or part not in body:
            return MISSING
        body = body[part]
    return body


def select_records(body: Any, selector: str, where: str) -> list[dict[str, Any]]:
    """The records at `selector`, as dlt extracts them: a list is the records, a single
    object is one record. A clear error naming `where` for anything else: nothing at the
    path, a list of non-objects -- and null, which dlt reads as no records: a walk would
    end there silently, however many pages followed."""
    parts = path_parts(selector)
    if parts is not None:
        found = select(body, parts)
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
        matches = list(extract_jsonpath(selector, body))
        items = matches[0] if len(matches) == 1 else matches
    if isinstance(items, dict):
        return [items]
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


def find_records_path(body: Any) -> str:
    """Where the records of `body` are, by dlt's rules (`find_response_page_data`): the
    body itself unless it is an object; else the first list (depth-first, at most three
    keys deep) under a key that names records, else the first list; else the object
    itself (one record). Returns a selector for `select_records` (`$` for the body)."""
    if not isinstance(body, dict):
        return "$"
    lists: list[tuple[str, ...]] = []
    _find_lists(body, (), lists)
    if not lists:
        return "$"
    chosen = next(
        (path for path in lists if path[-1] in RECORD_KEYS and path[-1] not in NON_RECORD_KEYS),
        lists[0],
    )
    return selector_of(chosen)


def selector_of(parts: tuple[str, ...]) -> str:
    """The selector naming the keys `parts`: dotted when it can be, else in bracket form."""
    if not parts:
        return "$"
    if all(re.fullmatch(r"[A-Za-z0-9_\-]+", key) for key in parts):
        return ".".join(parts)
    return "$" + "".join(f"[{key!r}]" for key in parts)


def _find_lists(node: dict[str, Any], path: tuple[str, ...], found: list[tuple[str, ...]]) -> None:
    if len(path) > 2:
        return
    for key, value in node.items():
        if isinstance(value, list):
            found.append((*path, key))
        elif isinstance(value, dict):
            _find_lists(value, (*path, key), found)


def read_total(body: Any, total_path: str | None) -> int | None:
    """The total a response announces at `total_path`, or None."""
    if not total_path or not isinstance(body, dict):
        return None
    return as_int(value_at(body, total_path))


def as_int(value: Any) -> int | None:
    """A whole number read from a JSON value, or None."""
    if value is MISSING or value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def as_bool(value: Any) -> bool | None:
    """A JSON boolean, or a string spelling one (dlt's `str2bool`); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in {"true", "yes", "y", "t", "1", "on"}:
            return True
        if word in {"false", "no", "n", "f", "0", "off"}:
            return False
    return None


def set_at_path(body: MutableMapping[str, Any], dotted_path: str, value: Any) -> None:
    """Set `value` at a dot-separated path of a JSON body, creating objects on the way
    (dlt's `set_value_at_path`: how paginators put their position into a POST body)."""
    *parents, last = dotted_path.split(".")
    node = body
    for part in parents:
        child = node.get(part)
        if not isinstance(child, MutableMapping):
            child = node[part] = {}
        node = child
    node[last] = value

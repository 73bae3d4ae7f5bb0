"""Validation of `paginator` settings against the paginator registry.

A resource without a paginator pages as its first response shows (`auto`, as in dlt).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tap_analytics.config.merge import paginator_mapping
from tap_analytics.config.specs import PaginatorSpec
from tap_analytics.paging import PAGINATORS


def paginator_spec(value: Any, where: str) -> tuple[PaginatorSpec, list[str]]:
    """The paginator a (merged) `paginator` setting describes, and its problems."""
    if value is None:
        return PaginatorSpec("auto"), []
    value = paginator_mapping(value)
    if not isinstance(value, Mapping):
        return PaginatorSpec("auto"), [f"{where}: must be an object with a type"]
    kind = value.get("type", "auto")
    if kind not in PAGINATORS:
        return PaginatorSpec("auto"), [
            f"{where}.type: unknown paginator type {kind!r}; use one of "
            + ", ".join(sorted(PAGINATORS))
        ]
    options = {k: v for k, v in value.items() if k != "type"}
    cls = PAGINATORS[kind]
    allowed = cls.OPTIONS
    errors: list[str] = []
    for key, option in options.items():
        if key not in allowed:
            errors.append(
                f"{where}.{key}: not an option of the {kind} paginator "
                f"(known: {', '.join(sorted(allowed)) or 'none'})"
            )
        elif not isinstance(option, allowed[key]) or (
            isinstance(option, bool) and not _admits_bool(allowed[key])
        ):
            errors.append(f"{where}.{key}: wrong type {type(option).__name__}")
    limit = options.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit <= 0:
        errors.append(f"{where}.limit: must be positive")
    if not errors:
        errors += [f"{where}.{problem}" for problem in cls.problems(options)]
    return PaginatorSpec(kind, options), errors


def _admits_bool(allowed: type | tuple[type, ...]) -> bool:
    return bool in (allowed if isinstance(allowed, tuple) else (allowed,))

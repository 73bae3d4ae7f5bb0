"""How config layers combine: built-in < client defaults < resource_defaults < the entry."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, recursing into mappings; a paginator of another type
    replaces the default one whole instead of mixing options of two types."""
    merged = copy.deepcopy(dict(base))
    for key, raw in override.items():
        old, value = merged.get(key), raw
        if key == "paginator":
            old, value = paginator_mapping(old), paginator_mapping(raw)
            if (
                isinstance(old, dict)
                and isinstance(value, dict)
                and old.get("type") != value.get("type", old.get("type"))
            ):
                old = None
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def paginator_mapping(value: Any) -> Any:
    """dlt's shorthand `"paginator": "offset"` as the mapping it stands for."""
    return {"type": value} if isinstance(value, str) else value

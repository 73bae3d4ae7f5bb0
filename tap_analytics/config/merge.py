"""How config layers combine: built-in < client defaults < resource_defaults < the entry.

The dlt layers combine as dlt's `_merge_resource_endpoints` does: a resource's keys replace
resource_defaults' whole, and so do its endpoint's -- a paginator, headers, an auth, an
incremental -- except `params` and `json`, merged one level; `client.paginator` applies only
when neither sets a paginator. The tap's own keys (`schema`, `endpoint.error_handler`) and a
built-in resource's defaults (beneath all of them) merge deeply.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

#: Endpoint keys dlt merges one level deep between resource_defaults and a resource.
ONE_LEVEL = ("params", "json")


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


def merge_resource(defaults: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """`entry` over `resource_defaults`, as dlt merges them (see the module doc)."""
    merged = _over(defaults, entry, deep="schema")
    low, high = defaults.get("endpoint"), entry.get("endpoint")
    if isinstance(low, Mapping) and isinstance(high, Mapping):
        endpoint = _over(low, high, deep="error_handler")
        for key in ONE_LEVEL:
            if isinstance(low.get(key), Mapping) and isinstance(high.get(key), Mapping):
                endpoint[key] = {**copy.deepcopy(dict(low[key])), **copy.deepcopy(dict(high[key]))}
        merged["endpoint"] = endpoint
    return merged


def layer_resource(
    builtin: Mapping[str, Any], client: Mapping[str, Any], user: Mapping[str, Any]
) -> dict[str, Any]:
    """A resource's settings: the built-in's defaults, the client layer (`{"endpoint":
    {paginator, error_handler}}`) and `user` (`merge_resource`'s result), deeply merged --
    but the client's paginator only when `user` sets none (dlt's precedence)."""
    client_endpoint = dict(client.get("endpoint") or {})
    if (user.get("endpoint") or {}).get("paginator") is not None:
        client_endpoint.pop("paginator", None)
    below = deep_merge(builtin, {"endpoint": client_endpoint}) if client_endpoint else builtin
    return deep_merge(below, user)


def _over(low: Mapping[str, Any], high: Mapping[str, Any], *, deep: str) -> dict[str, Any]:
    """`high`'s keys over `low`'s, whole, except `deep`, merged deeply."""
    merged = copy.deepcopy({**low, **high})
    if isinstance(low.get(deep), Mapping) and isinstance(high.get(deep), Mapping):
        merged[deep] = deep_merge(low[deep], high[deep])
    return merged


def paginator_mapping(value: Any) -> Any:
    """dlt's shorthand `"paginator": "offset"` as the mapping it stands for."""
    return {"type": value} if isinstance(value, str) else value

"""The keys each level of the config knows, the dlt keys it refuses (and what to use
instead), and the one-line error for any other key, naming the closest known one.

Nothing in a config is accepted and then ignored: a key is either acted on, refused
with advice, or reported as unknown. Every room of `tap_analytics.config` (client,
resources, paginators, auth) reports unknown keys through `unknown_key_errors`, so the
wording and the "did you mean" suggestion are the same everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

#: dlt's `ClientConfig`, plus the tap's retry policy for every resource.
CLIENT_KEYS = frozenset({"base_url", "headers", "auth", "paginator", "error_handler"})
CLIENT_REFUSED = {
    "session": "not supported: a requests Session is Python, not config; the tap's own "
    "settings ca_bundle, request_timeout and user_agent shape its session",
}

#: dlt's `EndpointResource` keys the tap acts on, plus its own `schema`. `parallelized` is
#: what the tap always does (children of different parents, pages ahead: concurrently).
RESOURCE_KEYS = frozenset(
    {"name", "endpoint", "primary_key", "write_disposition", "schema", "selected", "table_name",
     "include_from_parent", "parallelized"}
)
#: `resource_defaults` is dlt's `EndpointResourceBase`: a resource without a name.
RESOURCE_DEFAULTS_KEYS = RESOURCE_KEYS - {"name"}
RESOURCE_REFUSED = {
    "processing_steps": "not supported (its filter and map are Python callables): "
    "filter or reshape records with stream_maps",
    "columns": "not supported: give the resource a JSON `schema` to declare its fields and types",
    "max_table_nesting": "not supported: nested objects are one column each; unnest them with "
    "flattening_enabled and flattening_max_depth",
    "nested_hints": "not supported: nested objects are one column each; unnest them with "
    "flattening_enabled and flattening_max_depth",
    "merge_key": "not supported: write_disposition merge upserts on primary_key",
    "schema_contract": "not supported: the target decides how its tables evolve; a JSON `schema` "
    "fixes the fields the tap emits",
    "table_format": "not supported: the table format is the target's setting",
    "file_format": "not supported: the file format is the target's setting (batch_config for "
    "the tap's BATCH files)",
    "parent_table_name": "not supported: every resource is a stream of its own",
    "references": "not supported: table references are the target's business",
}

#: dlt's `Endpoint`, plus the tap's per-endpoint retry policy.
ENDPOINT_KEYS = frozenset(
    {"path", "method", "params", "json", "data", "paginator", "data_selector",
     "response_actions", "incremental", "auth", "headers", "error_handler"}
)

#: dlt's `IncrementalConfig` keys the tap acts on, plus its own `window`.
INCREMENTAL_KEYS = frozenset(
    {"cursor_path", "start_param", "end_param", "initial_value", "end_value", "last_value_func",
     "range_start", "range_end", "lag", "on_cursor_value_missing", "row_order", "window"}
)
INCREMENTAL_REFUSED = {
    "primary_key": "not supported here: set the resource's primary_key (the target's merge "
    "on it drops the records a run repeats at the bookmark)",
    "allow_external_schedulers": "not supported: an orchestrator restricts a run with the "
    "window_start and window_end settings (each window its own state id)",
    "convert": "not supported: a Python callable",
    "transform": "not supported: a Python callable",
}
#: An incremental given as a query parameter (`params: {since: {type: incremental, ...}}`):
#: the parameter sends the start; as in dlt, an end needs `endpoint.incremental`.
INCREMENTAL_PARAM_KEYS = (INCREMENTAL_KEYS - {"start_param", "end_param", "end_value"}) | {"type"}
_END_IN_PARAM = (
    "not supported in an incremental parameter (as in dlt): set endpoint.incremental "
    "with start_param and end_param to send an end too"
)
INCREMENTAL_PARAM_REFUSED = {
    **INCREMENTAL_REFUSED,
    "end_param": _END_IN_PARAM,
    "end_value": _END_IN_PARAM,
    "start_param": "not supported here: the parameter's own name is the start parameter",
}

#: The tap's `error_handler` (dlt has none: its retries are not configurable per endpoint).
ERROR_HANDLER_KEYS = frozenset({"retry_on_status_codes", "max_retries", "backoff_factor", "backoff"})

#: `write_disposition` in dlt's mapping form.
WRITE_DISPOSITION_KEYS = frozenset({"disposition", "strategy"})


def closest_key(key: str, known: Iterable[str]) -> str | None:
    """The known key `key` is most likely a typo of, if any is close enough."""
    matches = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_key_errors(
    mapping: Mapping[str, Any],
    known: Iterable[str],
    where: str,
    *,
    refused: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per key of `mapping` that is not `known`: the refusal's advice for a key
    in `refused`, else "unknown setting" with the closest known key (or the list of known
    keys when none is close). `where` is the setting the mapping is ("client",
    "resources[0] (posts).endpoint"; "" for the top level)."""
    known = frozenset(known)
    refused = refused or {}
    prefix = f"{where}." if where else ""
    errors: list[str] = []
    for key in mapping:
        name = str(key)
        if name in known:
            continue
        if name in refused:
            errors.append(f"{prefix}{name}: {refused[name]}")
            continue
        guess = closest_key(name, known | set(refused))
        hint = (
            f"did you mean {guess!r}?"
            if guess
            else f"known: {', '.join(sorted(known)) or 'none'}"
        )
        errors.append(f"{prefix}{name}: unknown setting; {hint}")
    return errors

"""From the resources of a config to one validated `ResourceSpec` each.

Resolution order, merged deeply (later wins):
built-in defaults < `client.error_handler` < `resource_defaults` < the resource entry.
Validation collects every problem as one line naming the setting, so the user fixes
the whole config in one go instead of one error per run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tap_analytics.config.auth import endpoint_auth
from tap_analytics.config.client import validate_client, validate_error_handler
from tap_analytics.config.merge import deep_merge
from tap_analytics.config.paginators import paginator_spec
from tap_analytics.config.responses import response_actions
from tap_analytics.config.specs import (
    Builtin,
    ConfigErrors,
    IncrementalSpec,
    ResourceSpec,
)
from tap_analytics.retry import RetryPolicy

ENDPOINT_KEYS = {"path", "method", "data_selector", "params", "paginator", "error_handler",
                 "incremental", "headers", "auth", "response_actions", "json", "data"}
RESOURCE_KEYS = {"name", "endpoint", "primary_key", "write_disposition", "schema", "selected",
                 "table_name"}
INCREMENTAL_KEYS = {"cursor_path", "start_param", "initial_value"}
STREAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def find_builtin(
    builtins: Sequence[type[Builtin]], name: str, path: str | None = None
) -> type[Builtin] | None:
    """The built-in named `name` at `path`; without a path, the first of that name.

    A known name at an unknown path is another API's resource: it is not the built-in.
    """
    candidates = [b for b in builtins if b.as_resource_config()["name"] == name]
    if path is None:
        return candidates[0] if candidates else None
    for builtin in candidates:
        if builtin.as_resource_config()["endpoint"]["path"].strip("/") == path.strip("/"):
            return builtin
    return None


def resolve_resources(
    config: Mapping[str, Any],
    builtins: Sequence[type[Builtin]] = (),
    *,
    for_sync: bool = True,
) -> list[ResourceSpec]:
    """Every configured resource as a spec; raises `ConfigErrors` listing all problems.

    `builtins` are the resources the tap knows in advance (their defaults and schemas)."""
    errors = validate_client(config, for_sync=for_sync)
    raw = config.get("resources")
    defaults = config.get("resource_defaults") or {}
    if not isinstance(defaults, Mapping):
        errors.append("resource_defaults: must be an object")
        defaults = {}
    if not isinstance(raw, list) or not raw:
        errors.append(
            "resources: required, a list of resource names or objects "
            '(e.g. ["events", {"name": "tickets", "endpoint": {"path": "/tickets"}}])'
        )
        raise ConfigErrors(errors)
    client = config.get("client") if isinstance(config.get("client"), Mapping) else {}
    client_errors = client.get("error_handler") if isinstance(client, Mapping) else None
    specs: list[ResourceSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"resources[{index}]"
        spec, entry_errors = _resolve_one(
            entry, where, defaults, client_errors, builtins,
            insecure=config.get("allow_insecure_http") is True,
        )
        errors += entry_errors
        if spec is not None:
            if spec.name in seen:
                errors.append(f"{where}.name: {spec.name!r} is declared twice")
            seen.add(spec.name)
            specs.append(spec)
    if errors:
        raise ConfigErrors(errors)
    return specs


def _resolve_one(
    entry: Any,
    where: str,
    defaults: Mapping[str, Any],
    client_errors: Any,
    builtins: Sequence[type[Builtin]],
    *,
    insecure: bool = False,
) -> tuple[ResourceSpec | None, list[str]]:
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, Mapping):
        return None, [f"{where}: must be a resource name or an object with a name"]
    name = entry.get("name")
    if not isinstance(name, str) or not STREAM_NAME.match(name):
        return None, [
            f"{where}.name: required, letters, digits and underscores (got {name!r})"
        ]
    where = f"{where} ({name})"
    errors = [
        f"{where}.{k}: unknown option (known: {', '.join(sorted(RESOURCE_KEYS))})"
        for k in entry
        if k not in RESOURCE_KEYS
    ]
    # Find the built-in by the path the user's merged config names, if any.
    user = deep_merge(defaults, entry)
    endpoint_path = (user.get("endpoint") or {}).get("path") if isinstance(
        user.get("endpoint"), Mapping
    ) else None
    builtin = find_builtin(builtins, name, endpoint_path)
    layers: list[Mapping[str, Any]] = [builtin.as_resource_config()] if builtin else []
    if client_errors is not None:
        layers.append({"endpoint": {"error_handler": client_errors}})
    layers += [defaults, entry]
    merged: dict[str, Any] = {}
    for layer in layers:
        merged = deep_merge(merged, layer)

    endpoint = merged.get("endpoint") or {}
    if not isinstance(endpoint, Mapping):
        return None, [*errors, f"{where}.endpoint: must be an object"]
    errors += [
        f"{where}.endpoint.{k}: unknown option (known: {', '.join(sorted(ENDPOINT_KEYS))})"
        for k in endpoint
        if k not in ENDPOINT_KEYS
    ]
    path = endpoint.get("path")
    if not isinstance(path, str) or not path:
        errors.append(
            f"{where}.endpoint.path: required ({name!r} is not a built-in resource; "
            "built-ins: see README)"
        )
        path = ""
    method = str(endpoint.get("method", "GET")).upper()
    if method not in {"GET", "POST"}:
        errors.append(f"{where}.endpoint.method: must be GET or POST")
    selector = endpoint.get("data_selector")
    if selector is not None and (not isinstance(selector, str) or not selector):
        errors.append(f"{where}.endpoint.data_selector: must be a path such as 'data' or '$.data[*]'")
        selector = None
    body_json = endpoint.get("json")
    if body_json is not None and not isinstance(body_json, Mapping):
        errors.append(f"{where}.endpoint.json: must be an object (the JSON request body)")
        body_json = None
    params = endpoint.get("params") or {}
    if not isinstance(params, Mapping):
        errors.append(f"{where}.endpoint.params: must be an object of query parameters")
        params = {}
    headers = endpoint.get("headers") or {}
    if not isinstance(headers, Mapping):
        errors.append(f"{where}.endpoint.headers: must be an object")
        headers = {}

    paginator, paginator_errors = paginator_spec(endpoint.get("paginator"), f"{where}.endpoint.paginator")
    errors += paginator_errors
    handler = endpoint.get("error_handler") or {}
    handler_errors = validate_error_handler(handler, f"{where}.endpoint.error_handler")
    errors += handler_errors
    retry = RetryPolicy() if handler_errors else RetryPolicy.from_config(handler)

    incremental, incremental_errors = _incremental(endpoint.get("incremental"), where)
    errors += incremental_errors
    actions, action_errors = response_actions(
        endpoint.get("response_actions"), f"{where}.endpoint.response_actions"
    )
    errors += action_errors
    auth_override, auth, auth_errors = endpoint_auth(endpoint, where, allow_insecure=insecure)
    errors += auth_errors

    primary_key = merged.get("primary_key", "id")
    if isinstance(primary_key, str):
        primary_key = [primary_key]
    if not isinstance(primary_key, list) or not all(isinstance(k, str) for k in primary_key):
        errors.append(f"{where}.primary_key: must be a field name or a list of field names")
        primary_key = ["id"]
    disposition = merged.get("write_disposition", "merge")
    if isinstance(disposition, Mapping):
        disposition = disposition.get("disposition", "merge")
    if disposition not in {"merge", "append", "replace"}:
        errors.append(f"{where}.write_disposition: must be merge, append or replace")
        disposition = "merge"
    schema = merged.get("schema")
    if schema is not None and (
        not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping)
    ):
        errors.append(f"{where}.schema: must be a JSON schema object with 'properties'")
        schema = None
    builtin = builtin if builtin and schema is None else None
    known = (
        schema["properties"] if schema
        else builtin.builtin_schema()["properties"] if builtin
        else None
    )
    if known is not None:
        if incremental and incremental.cursor_path not in known:
            errors.append(
                f"{where}.endpoint.incremental.cursor_path: {incremental.cursor_path!r} is not a "
                "field of the resource's schema; name a date-time or number field it declares"
            )
        errors += [
            f"{where}.primary_key: {key!r} is not a field of the resource's schema"
            for key in primary_key
            if key not in known
        ]
    if errors:
        return None, errors
    return (
        ResourceSpec(
            name=name,
            path=path,
            method=method,
            data_selector=selector,
            params=dict(params),
            headers={str(k): str(v) for k, v in headers.items()},
            paginator=paginator,
            retry=retry,
            incremental=incremental,
            primary_key=tuple(primary_key),
            write_disposition=disposition,
            schema=schema,
            builtin=builtin,
            response_actions=actions,
            json=body_json,
            data=endpoint.get("data"),
            auth_override=auth_override,
            auth=auth,
        ),
        [],
    )


def _incremental(value: Any, where: str) -> tuple[IncrementalSpec | None, list[str]]:
    if value in (None, False, {}):
        return None, []
    if not isinstance(value, Mapping):
        return None, [f"{where}.endpoint.incremental: must be an object with cursor_path"]
    errors = [
        f"{where}.endpoint.incremental.{k}: unknown option (known: "
        f"{', '.join(sorted(INCREMENTAL_KEYS))})"
        for k in value
        if k not in INCREMENTAL_KEYS
    ]
    cursor = value.get("cursor_path")
    if isinstance(cursor, str) and cursor.startswith("$."):
        cursor = cursor[2:]
    if not isinstance(cursor, str) or not STREAM_NAME.match(cursor):
        errors.append(
            f"{where}.endpoint.incremental.cursor_path: required, a top-level field of the "
            f"record such as 'updated_at' (got {cursor!r})"
        )
        return None, errors
    start_param = value.get("start_param")
    if start_param is not None and not isinstance(start_param, str):
        errors.append(f"{where}.endpoint.incremental.start_param: must be a query parameter name")
    return IncrementalSpec(cursor, start_param, value.get("initial_value")), errors

"""From the resources of a config to one validated `ResourceSpec` each.

Resolution order, merged deeply (later wins): built-in defaults < `client` (its
`paginator` and `error_handler`) < `resource_defaults` < the resource entry. An entry
is a name (`"posts"`), or an object whose `endpoint` is a path or an object; without a
path, the path is the name (dlt's shorthand) -- unless the name is a built-in of the
config's API (see `builtins`). Validation collects every problem as one line naming the
setting, so the user fixes the whole config in one go instead of one error per run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tap_analytics.config.auth import endpoint_auth
from tap_analytics.config.builtins import Named, choose_builtins
from tap_analytics.config.client import (
    client_headers,
    headers_of,
    validate_client,
    validate_error_handler,
)
from tap_analytics.config.dependents import (
    Resolved,
    cycle_errors,
    parent_of,
    resolve_param,
    unbound_resolve_errors,
)
from tap_analytics.config.hints import (
    fields_known_errors,
    primary_key_of,
    table_name_of,
    write_disposition_of,
)
from tap_analytics.config.incremental import incremental_param, incremental_spec
from tap_analytics.config.keys import (
    ENDPOINT_KEYS,
    RESOURCE_DEFAULTS_KEYS,
    RESOURCE_KEYS,
    RESOURCE_REFUSED,
    unknown_key_errors,
)
from tap_analytics.config.merge import layer_resource, merge_resource
from tap_analytics.config.paginators import paginator_spec
from tap_analytics.config.paths import (
    absolute_path_error,
    bind_path,
    is_absolute,
    single_entity,
    template_errors,
)
from tap_analytics.config.responses import response_actions
from tap_analytics.config.specs import (
    Builtin,
    ConfigErrors,
    IncrementalSpec,
    ResourceSpec,
)
from tap_analytics.retry import RetryPolicy
from tap_analytics.templates import escape

DEFAULTS_REFUSED = {
    "name": "a name belongs to each resource, not to resource_defaults",
}


def resolve_resources(
    config: Mapping[str, Any],
    builtins: Sequence[type[Builtin]] = (),
    *,
    for_sync: bool = True,
) -> list[ResourceSpec]:
    """Every configured resource as a spec; raises `ConfigErrors` listing all problems.

    `builtins` are the resources the tap knows in advance (their defaults and schemas).
    Without `for_sync` (discovery), credentials are required only when a resource's
    schema must be inferred from the API."""
    defaults, default_errors = _resource_defaults(config.get("resource_defaults"))
    raw = config.get("resources")
    if not isinstance(raw, list) or not raw:
        raise ConfigErrors([
            *validate_client(config, for_sync=for_sync),
            *default_errors,
            "resources: required, a list of resource names or objects "
            '(e.g. ["posts", {"name": "tickets", "endpoint": {"path": "/tickets"}}])',
        ])
    errors: list[str] = []
    client = config.get("client")
    client = client if isinstance(client, Mapping) else {}
    entries: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(raw):
        entry, entry_errors = _entry(item, f"resources[{index}]")
        errors += entry_errors
        if entry is not None:
            entries.append((f"resources[{index}] ({entry['name']})", entry))
    context = _Context(
        defaults=defaults,
        client_layer=_client_layer(client),
        # Sent as written (dlt expands nothing there): escaped for the endpoint's templates.
        headers={name: escape(value) for name, value in client_headers(client)[0].items()},
        insecure=config.get("allow_insecure_http") is True,
        names=frozenset(entry["name"] for _, entry in entries),
    )
    named = [Named(entry["name"], _own_path(entry)) for _, entry in entries]
    resolved: list[tuple[str, ResourceSpec]] = []
    for (where, entry), choice in zip(entries, choose_builtins(named, builtins), strict=True):
        if isinstance(choice, str):
            errors.append(f"{where}: {choice}")
            continue
        spec, spec_errors = _resolve_one(entry, where, choice, context)
        errors += spec_errors
        if spec is not None:
            resolved.append((where, spec))
    errors += _duplicates(resolved)
    if not errors:
        errors += cycle_errors([spec for _, spec in resolved])
    needs_api = for_sync or any(s.builtin is None and s.schema is None for _, s in resolved)
    errors = [*validate_client(config, for_sync=needs_api), *default_errors, *errors]
    if errors:
        raise ConfigErrors(errors)
    return [spec for _, spec in resolved]


class _Context:
    """What every entry of one config is resolved against."""

    def __init__(
        self,
        *,
        defaults: Mapping[str, Any],
        client_layer: Mapping[str, Any],
        headers: Mapping[str, str],
        insecure: bool,
        names: frozenset[str],
    ) -> None:
        self.defaults = defaults
        self.client_layer = client_layer
        self.headers = headers
        self.insecure = insecure
        #: Every resource's name: the parents a dependent resource may name.
        self.names = names


def _resource_defaults(value: Any) -> tuple[dict[str, Any], list[str]]:
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, ["resource_defaults: must be an object"]
    errors = unknown_key_errors(
        value, RESOURCE_DEFAULTS_KEYS, "resource_defaults",
        refused={**RESOURCE_REFUSED, **DEFAULTS_REFUSED},
    )
    endpoint = value.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, Mapping):
        return {}, [*errors, "resource_defaults.endpoint: must be an object"]
    if isinstance(endpoint, Mapping):
        errors += unknown_key_errors(endpoint, ENDPOINT_KEYS, "resource_defaults.endpoint")
        if "path" in endpoint:
            errors.append(
                "resource_defaults.endpoint.path: a path belongs to each resource "
                "(a resource's path is its name unless it sets one)"
            )
    return dict(value), errors


def _client_layer(client: Mapping[str, Any]) -> dict[str, Any]:
    """`client.paginator` and `client.error_handler` as the layer under every resource
    (an invalid paginator is reported once, at `client.paginator`, and not merged)."""
    endpoint: dict[str, Any] = {}
    if client.get("error_handler") is not None:
        endpoint["error_handler"] = client["error_handler"]
    paginator = client.get("paginator")
    if paginator is not None and not paginator_spec(paginator, "client.paginator")[1]:
        endpoint["paginator"] = paginator
    return {"endpoint": endpoint} if endpoint else {}


def _entry(item: Any, where: str) -> tuple[dict[str, Any] | None, list[str]]:
    """One `resources` item in its long form, `endpoint` an object; its key problems."""
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, Mapping):
        return None, [f"{where}: must be a resource name or an object with a name"]
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        return None, [f"{where}.name: required, the resource's name (got {name!r})"]
    entry = dict(item)
    where = f"{where} ({name})"
    errors = unknown_key_errors(entry, RESOURCE_KEYS, where, refused=RESOURCE_REFUSED)
    endpoint = entry.get("endpoint")
    if isinstance(endpoint, str):
        entry["endpoint"] = {"path": endpoint}
    elif endpoint is None:
        entry.pop("endpoint", None)
    elif not isinstance(endpoint, Mapping):
        return None, [*errors, f"{where}.endpoint: must be a path or an object"]
    else:
        errors += unknown_key_errors(endpoint, ENDPOINT_KEYS, f"{where}.endpoint")
    return entry, errors


def _own_path(entry: Mapping[str, Any]) -> str | None:
    path = (entry.get("endpoint") or {}).get("path")
    return path if isinstance(path, str) else None


def _resolve_one(
    entry: Mapping[str, Any], where: str, builtin: type[Builtin] | None, context: _Context
) -> tuple[ResourceSpec | None, list[str]]:
    name: str = entry["name"]
    user = merge_resource(context.defaults, entry)
    user_endpoint = user.get("endpoint") or {}
    merged = layer_resource(builtin.as_resource_config() if builtin else {}, context.client_layer, user)
    endpoint: dict[str, Any] = merged.get("endpoint") or {}
    errors: list[str] = []

    raw_path = endpoint.get("path", name)
    if not isinstance(raw_path, str) or not raw_path.strip():
        errors.append(f"{where}.endpoint.path: must be a path such as 'posts' or '/v1/posts'")
        raw_path = name
    if single_entity(raw_path):  # dlt: `users/{id}` answers one object, as it is
        if user_endpoint.get("paginator") is None:
            endpoint["paginator"] = "single_page"
        if endpoint.get("data_selector") is None:
            endpoint["data_selector"] = "$"
    params, incremental_from_param, resolved, param_errors = _params(endpoint.get("params"), where)
    errors += param_errors
    contexts = _contexts(endpoint)
    resolve_values = {name: {"type": "resolve"} for name, _, _ in resolved}
    path, params, path_errors = bind_path(
        raw_path, {**params, **resolve_values}, f"{where}.endpoint.path", contexts
    )
    params = {k: v for k, v in params.items() if k not in resolve_values}
    errors += path_errors + unbound_resolve_errors(resolved, path, f"{where}.endpoint.params")
    if is_absolute(path) and (
        e := absolute_path_error(path, f"{where}.endpoint.path", allow_insecure=context.insecure)
    ):
        errors.append(e)
    errors += template_errors(params, f"{where}.endpoint.params", contexts)
    headers, header_errors = headers_of(endpoint.get("headers"), f"{where}.endpoint.headers")
    errors += header_errors + template_errors(headers, f"{where}.endpoint.headers", contexts)
    body_json, body_data, body_errors = _body(endpoint, where, contexts)
    errors += body_errors
    parent, parent_errors = parent_of(
        where,
        resolved,
        {"endpoint.path": path, "endpoint.params": params, "endpoint.headers": headers,
         "endpoint.json": body_json, "endpoint.data": body_data},
        merged.get("include_from_parent"),
        context.names,
    )
    errors += parent_errors
    if not isinstance(merged.get("parallelized", False), bool):
        errors.append(f"{where}.parallelized: must be true or false")

    method = str(endpoint.get("method", "GET")).upper()
    if method not in {"GET", "POST"}:
        errors.append(f"{where}.endpoint.method: must be GET or POST")
    selector = endpoint.get("data_selector")
    if selector is not None and (not isinstance(selector, str) or not selector):
        errors.append(f"{where}.endpoint.data_selector: must be a path such as 'data' or '$.data[*]'")
        selector = None
    if selector is None and single_entity(raw_path):
        selector = "$"  # dlt: the body is the one record (not a list found inside it)
    paginator, paginator_errors = paginator_spec(endpoint.get("paginator"), f"{where}.endpoint.paginator")
    errors += paginator_errors
    handler = endpoint.get("error_handler") or {}
    handler_errors = validate_error_handler(handler, f"{where}.endpoint.error_handler")
    errors += handler_errors
    retry = RetryPolicy() if handler_errors else RetryPolicy.from_config(handler)
    incremental, incremental_errors = incremental_spec(endpoint.get("incremental"), where)
    errors += incremental_errors
    if incremental_from_param is not None:
        if user_endpoint.get("incremental") not in (None, False, {}):
            errors.append(
                f"{where}.endpoint.params: an incremental parameter and endpoint.incremental "
                "both say how to sync incrementally; keep one"
            )
        incremental = incremental_from_param
    if parent is not None and incremental is not None and incremental.window is not None:
        errors.append(
            f"{where}.endpoint.incremental.window: a dependent resource is read once per parent "
            "record, so it cannot sync in windows; set window on its parent, or remove it"
        )
    actions, action_errors = response_actions(
        endpoint.get("response_actions"), f"{where}.endpoint.response_actions"
    )
    errors += action_errors
    auth_override, auth, auth_errors = endpoint_auth(
        endpoint, where, allow_insecure=context.insecure
    )
    errors += auth_errors

    primary_key, key_errors = primary_key_of(merged.get("primary_key", "id"), where)
    disposition, disposition_errors = write_disposition_of(merged.get("write_disposition"), where)
    table, table_errors = table_name_of(merged.get("table_name"), name, where)
    selected = merged.get("selected", True)
    if not isinstance(selected, bool):
        errors.append(f"{where}.selected: must be true or false")
    errors += key_errors + disposition_errors + table_errors
    schema = merged.get("schema")
    if schema is not None and (
        not isinstance(schema, Mapping) or not isinstance(schema.get("properties"), Mapping)
    ):
        errors.append(f"{where}.schema: must be a JSON schema object with 'properties'")
        schema = None
    builtin = builtin if builtin and schema is None else None
    errors += fields_known_errors(schema, builtin, incremental, primary_key, where)
    if errors:
        return None, errors
    return (
        ResourceSpec(
            name=name,
            stream_name=table,
            path=path,
            method=method,
            data_selector=selector,
            params=params,
            headers={**context.headers, **headers},
            paginator=paginator,
            retry=retry,
            incremental=incremental,
            primary_key=primary_key,
            write_disposition=disposition,
            schema=schema,
            builtin=builtin,
            response_actions=actions,
            json=body_json,
            data=body_data,
            auth_override=auth_override,
            auth=auth,
            selected=bool(selected),
            parent=parent,
        ),
        [],
    )


def _params(
    value: Any, where: str
) -> tuple[dict[str, Any], IncrementalSpec | None, list[Resolved], list[str]]:
    """The query parameters, the incremental one (dlt's `{type: incremental}`) and the
    resolve ones (`{type: resolve}`, a parent's field bound in the path) taken out, and
    their problems."""
    setting = f"{where}.endpoint.params"
    if value is None:
        return {}, None, [], []
    if not isinstance(value, Mapping):
        return {}, None, [], [f"{setting}: must be an object of query parameters"]
    params: dict[str, Any] = {}
    incremental: IncrementalSpec | None = None
    resolved: list[Resolved] = []
    errors: list[str] = []
    for key, item in value.items():
        if not isinstance(item, Mapping):
            params[key] = item
        elif item.get("type") == "incremental":
            if incremental is not None:
                errors.append(f"{setting}.{key}: only one parameter can be incremental")
            incremental, param_errors = incremental_param(str(key), item, where)
            errors += param_errors
        elif item.get("type") == "resolve":
            found, resolve_errors = resolve_param(str(key), item, f"{setting}.{key}")
            errors += resolve_errors
            resolved += [found] if found else []
        else:
            errors.append(
                f"{setting}.{key}: must be a value (an object is only dlt's "
                "{type: incremental, ...})"
            )
    return params, incremental, resolved, errors


def _body(
    endpoint: Mapping[str, Any], where: str, contexts: frozenset[str]
) -> tuple[Mapping[str, Any] | None, Any, list[str]]:
    """The request body of a POST: `json` (an object) or `data`, both templates."""
    errors: list[str] = []
    body_json = endpoint.get("json")
    if body_json is not None and not isinstance(body_json, Mapping):
        errors.append(f"{where}.endpoint.json: must be an object (the JSON request body)")
        body_json = None
    errors += template_errors(body_json, f"{where}.endpoint.json", contexts)
    body_data = endpoint.get("data")
    errors += template_errors(body_data, f"{where}.endpoint.data", contexts)
    if body_json is not None and body_data is not None:  # dlt: a ValueError at the first request
        errors.append(f"{where}.endpoint: json and data are both set; a request has one body: keep one")
    return body_json, body_data, errors


def _contexts(endpoint: Mapping[str, Any]) -> frozenset[str]:
    """The placeholder contexts an endpoint's templates may use (dlt's
    `_get_available_contexts`): `resources` always, `incremental` where the endpoint has one."""
    if endpoint.get("incremental") not in (None, False, {}):
        return frozenset({"resources", "incremental"})
    return frozenset({"resources"})


def _duplicates(resolved: list[tuple[str, ResourceSpec]]) -> list[str]:
    """Two resources of one name, or of one stream (the target's table), cannot coexist."""
    errors: list[str] = []
    names: set[str] = set()
    streams: dict[str, str] = {}
    for where, spec in resolved:
        if spec.name in names:
            errors.append(f"{where.split(' ', 1)[0]}.name: {spec.name!r} is declared twice")
        elif spec.stream_name in streams:
            errors.append(
                f"{where}: its stream (table) name {spec.stream_name!r} is also "
                f"{streams[spec.stream_name]}'s; set table_name to tell them apart"
            )
        names.add(spec.name)
        streams.setdefault(spec.stream_name, where)
    return errors

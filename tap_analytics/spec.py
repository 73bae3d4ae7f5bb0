"""From the user's config to one validated `ResourceSpec` per stream.

Resolution order, merged deeply (later wins):
built-in defaults < `client.error_handler` < `resource_defaults` < the resource entry.
Validation collects every problem as one line naming the setting, so the user fixes
the whole config in one go instead of one error per run.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from tap_analytics.pagination import (
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    SinglePagePaginator,
)
from tap_analytics.retry import RetryPolicy
from tap_analytics.streams import BuiltinResource, find_builtin

WriteDisposition = Literal["merge", "append", "replace"]

AUTH_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required, optional)
    "oauth2": (
        ("client_id", "client_secret", "token_url"),
        ("refresh_token", "client_auth", "scope", "token_refresh_endpoint"),
    ),
    "bearer": (("token",), ()),
    "api_key": (("api_key",), ("name", "location")),
    "none": ((), ()),
}

PAGINATOR_OPTIONS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "offset": {
        "limit": int,
        "offset": int,
        "offset_param": str,
        "limit_param": str,
        "total_path": (str, type(None)),
        "maximum_offset": (int, type(None)),
    },
    "page_number": {
        "base_page": int,
        "page": int,
        "page_param": str,
        "limit": (int, type(None)),
        "limit_param": (str, type(None)),
        "total_path": (str, type(None)),
        "maximum_page": (int, type(None)),
    },
    "single_page": {},
}

ENDPOINT_KEYS = {"path", "method", "data_selector", "params", "paginator", "error_handler",
                 "incremental", "headers"}
RESOURCE_KEYS = {"name", "endpoint", "primary_key", "write_disposition", "schema", "selected",
                 "table_name"}
ERROR_HANDLER_KEYS = {"retry_on_status_codes", "max_retries", "backoff_factor", "backoff"}
INCREMENTAL_KEYS = {"cursor_path", "start_param", "initial_value"}
STREAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class PaginatorSpec:
    """A paginator's configuration; `new()` starts a fresh walk."""

    type: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_path(self) -> str | None:
        default = None if self.type == "single_page" else "total"
        value = self.options.get("total_path", default)
        return str(value) if value else None

    def new(self) -> Paginator:
        o = self.options
        if self.type == "offset":
            return OffsetPaginator(
                limit=o.get("limit", 100),
                offset=o.get("offset", 0),
                offset_param=o.get("offset_param", "offset"),
                limit_param=o.get("limit_param", "limit"),
                maximum_offset=o.get("maximum_offset"),
            )
        if self.type == "page_number":
            base = o.get("base_page", 1)
            return PageNumberPaginator(
                page=o.get("page", base),
                base_page=base,
                page_param=o.get("page_param", "page"),
                limit=o.get("limit"),
                limit_param=o.get("limit_param", "per_page" if o.get("limit") else None),
                maximum_page=o.get("maximum_page"),
            )
        return SinglePagePaginator()


@dataclass(frozen=True)
class IncrementalSpec:
    cursor_path: str
    start_param: str | None = None
    initial_value: Any = None


@dataclass(frozen=True)
class ResourceSpec:
    """Everything that differs between two streams."""

    name: str
    path: str
    data_selector: str
    paginator: PaginatorSpec
    retry: RetryPolicy
    primary_key: tuple[str, ...]
    write_disposition: WriteDisposition
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    incremental: IncrementalSpec | None = None
    schema: Mapping[str, Any] | None = None
    builtin: BuiltinResource | None = None

    @property
    def replication_key(self) -> str | None:
        return self.incremental.cursor_path if self.incremental else None


class ConfigErrors(Exception):
    """Every problem found in a config, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`, recursing into mappings; a paginator of another type
    replaces the default one whole instead of mixing options of two types."""
    merged = copy.deepcopy(dict(base))
    for key, raw in override.items():
        old, value = merged.get(key), raw
        if key == "paginator":
            old, value = _paginator_mapping(old), _paginator_mapping(raw)
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


def _paginator_mapping(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


def parse_datetime(value: str) -> datetime:
    """ISO 8601 / RFC 3339, with `Z` accepted."""
    return datetime.fromisoformat(value.strip().replace("z", "Z"))


LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or str(host).startswith("127."))


def validate_base_url(value: Any, setting: str, *, allow_insecure: bool = False) -> str | None:
    """An error line for a URL setting, or None when it is usable.

    Plain http would send credentials in clear text: only loopback (local tests) or an
    explicit `allow_insecure_http` may use it."""
    if not isinstance(value, str) or not value.strip():
        return f"{setting}: required, e.g. https://api.example.com"
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return f"{setting}: {value!r} is not an absolute http(s) URL (e.g. https://api.example.com)"
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        return (
            f"{setting}: plain http would send credentials unencrypted; use https, or set "
            "allow_insecure_http: true if you really must"
        )
    return None


def validate_client(config: Mapping[str, Any], *, for_sync: bool = True) -> list[str]:
    """Problems in `client` (base URL, auth, error handler) and top-level settings.

    Discovery of built-in resources needs neither the API nor credentials, so with
    `for_sync=False` a missing base URL or credential is not an error (a wrong one is)."""
    errors: list[str] = []
    client = config.get("client") or ({} if not for_sync else None)
    if not isinstance(client, Mapping):
        return ["client: required object with base_url and auth"]
    insecure = config.get("allow_insecure_http") is True
    if (for_sync or client.get("base_url")) and (
        e := validate_base_url(client.get("base_url"), "client.base_url", allow_insecure=insecure)
    ) is not None:
        errors.append(e)
    auth = client.get("auth")
    if auth is None:
        auth = {"type": "none"}
    if not isinstance(auth, Mapping):
        errors.append("client.auth: must be an object with a type")
    else:
        errors += [
            e
            for e in validate_auth(auth, allow_insecure=insecure)
            if for_sync or "required for auth type" not in e
        ]
    ca_bundle = config.get("ca_bundle")
    if ca_bundle and not Path(str(ca_bundle)).is_file():
        errors.append(f"ca_bundle: {ca_bundle!r} is not a readable file of PEM certificates")
    if "error_handler" in client:
        errors += validate_error_handler(client["error_handler"], "client.error_handler")
    start_date = config.get("start_date")
    if start_date not in (None, ""):
        try:
            parse_datetime(str(start_date))
        except ValueError:
            errors.append(
                f"start_date: {start_date!r} is not an ISO 8601 date-time "
                "(e.g. 2024-01-01T00:00:00Z)"
            )
    for key in ("request_timeout", "max_concurrent_requests", "max_requests_per_second",
                "max_pages_per_stream"):
        value = config.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or value <= 0
        ):
            errors.append(f"{key}: must be a positive number, got {value!r}")
    return errors


def validate_auth(auth: Mapping[str, Any], *, allow_insecure: bool = False) -> list[str]:
    kind = auth.get("type")
    if kind not in AUTH_FIELDS:
        return [
            f"client.auth.type: unknown auth type {kind!r}; use one of "
            + ", ".join(sorted(AUTH_FIELDS))
        ]
    required, optional = AUTH_FIELDS[kind]
    errors = [
        f"client.auth.{name}: required for auth type {kind!r}"
        for name in required
        if not _present(auth, name, kind)
    ]
    known = {"type", *required, *optional}
    errors += [
        f"client.auth.{name}: not a setting of auth type {kind!r} (known: {', '.join(sorted(known))})"
        for name in auth
        if name not in known and auth[name] not in (None, "")
    ]
    if kind == "oauth2":
        if auth.get("client_auth", "body") not in {"body", "basic"}:
            errors.append("client.auth.client_auth: must be 'body' or 'basic'")
        url = auth.get("token_url") or auth.get("token_refresh_endpoint")
        if url and (
            e := validate_base_url(url, "client.auth.token_url", allow_insecure=allow_insecure)
        ) is not None:
            errors.append(e)
    if kind == "api_key" and auth.get("location", "header") not in {"header", "query"}:
        errors.append("client.auth.location: must be 'header' or 'query'")
    return errors


def _present(auth: Mapping[str, Any], name: str, kind: str) -> bool:
    if name == "token_url" and kind == "oauth2":
        return bool(auth.get("token_url") or auth.get("token_refresh_endpoint"))
    value = auth.get(name)
    return isinstance(value, str) and bool(value.strip())


def validate_error_handler(value: Any, where: str) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{where}: must be an object"]
    errors = [f"{where}.{k}: unknown option (known: {', '.join(sorted(ERROR_HANDLER_KEYS))})"
              for k in value if k not in ERROR_HANDLER_KEYS]
    codes = value.get("retry_on_status_codes")
    if codes is not None and (
        not isinstance(codes, list)
        or not all(isinstance(c, int) and 100 <= c <= 599 for c in codes)
    ):
        errors.append(f"{where}.retry_on_status_codes: must be a list of HTTP status codes")
    retries = value.get("max_retries")
    if retries is not None and (not isinstance(retries, int) or isinstance(retries, bool)
                                or retries < 0):
        errors.append(f"{where}.max_retries: must be a whole number >= 0")
    factor = value.get("backoff_factor")
    if factor is not None and (not isinstance(factor, int | float) or factor < 0):
        errors.append(f"{where}.backoff_factor: must be a number >= 0")
    if value.get("backoff", "exponential") not in {"exponential", "constant"}:
        errors.append(f"{where}.backoff: must be 'exponential' or 'constant'")
    return errors


def resolve_resources(config: Mapping[str, Any], *, for_sync: bool = True) -> list[ResourceSpec]:
    """Every configured resource as a spec; raises `ConfigErrors` listing all problems."""
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
        spec, entry_errors = _resolve_one(entry, where, defaults, client_errors)
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
    builtin = find_builtin(name, endpoint_path)
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
    selector = endpoint.get("data_selector", "data")
    if not isinstance(selector, str) or not selector:
        errors.append(f"{where}.endpoint.data_selector: must be a path such as 'data' or '$.data[*]'")
        selector = "data"
    params = endpoint.get("params") or {}
    if not isinstance(params, Mapping):
        errors.append(f"{where}.endpoint.params: must be an object of query parameters")
        params = {}
    headers = endpoint.get("headers") or {}
    if not isinstance(headers, Mapping):
        errors.append(f"{where}.endpoint.headers: must be an object")
        headers = {}

    paginator, paginator_errors = _paginator(endpoint.get("paginator"), f"{where}.endpoint.paginator")
    errors += paginator_errors
    handler = endpoint.get("error_handler") or {}
    handler_errors = validate_error_handler(handler, f"{where}.endpoint.error_handler")
    errors += handler_errors
    retry = RetryPolicy() if handler_errors else RetryPolicy.from_config(handler)

    incremental, incremental_errors = _incremental(endpoint.get("incremental"), where)
    errors += incremental_errors

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
    known = schema["properties"] if schema else builtin.schema["properties"] if builtin else None
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
        ),
        [],
    )


def _paginator(value: Any, where: str) -> tuple[PaginatorSpec, list[str]]:
    if value is None:
        return PaginatorSpec("single_page"), []
    value = _paginator_mapping(value)
    if not isinstance(value, Mapping):
        return PaginatorSpec("single_page"), [f"{where}: must be an object with a type"]
    kind = value.get("type")
    if kind not in PAGINATOR_OPTIONS:
        return PaginatorSpec("single_page"), [
            f"{where}.type: unknown paginator type {kind!r}; use one of "
            + ", ".join(sorted(PAGINATOR_OPTIONS))
        ]
    options = {k: v for k, v in value.items() if k != "type"}
    allowed = PAGINATOR_OPTIONS[kind]
    errors: list[str] = []
    for key, option in options.items():
        if key not in allowed:
            errors.append(
                f"{where}.{key}: not an option of the {kind} paginator "
                f"(known: {', '.join(sorted(allowed)) or 'none'})"
            )
        elif not isinstance(option, allowed[key]) or isinstance(option, bool):
            errors.append(f"{where}.{key}: wrong type {type(option).__name__}")
    limit = options.get("limit")
    if isinstance(limit, int) and limit <= 0:
        errors.append(f"{where}.limit: must be positive")
    return PaginatorSpec(kind, options), errors


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

"""Validation of `client` (base URL, headers, auth, default paginator, error handler) and
of the top-level settings: every key is known, refused with advice, or an error."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk.helpers.capabilities import BATCH_CONFIG, FLATTENING_CONFIG, STREAM_MAPS_CONFIG

from tap_analytics.config.auth import validate_auth
from tap_analytics.config.keys import (
    CLIENT_KEYS,
    CLIENT_REFUSED,
    ERROR_HANDLER_KEYS,
    unknown_key_errors,
)
from tap_analytics.config.paginators import paginator_spec
from tap_analytics.config.urls import validate_base_url
from tap_analytics.instants import parse_datetime
from tap_analytics.settings import CONFIG_SCHEMA

#: The top level: dlt's three keys and the tap's settings (`settings.py`), and the SDK's
#: built-in settings (stream maps, flattening, BATCH). Meltano passes nothing else: its
#: `meltano invoke --dump=config` holds exactly the settings that have a value.
#: Header names whose values are credentials (an `Authorization` in `client.headers` is
#: a common dlt config): their values are redacted like the secrets of `client.auth`.
SECRET_HEADER_PARTS = ("auth", "key", "token", "secret", "cookie", "password", "signature")

TOP_LEVEL_KEYS = frozenset(CONFIG_SCHEMA["properties"]).union(
    *(schema["properties"] for schema in (STREAM_MAPS_CONFIG, FLATTENING_CONFIG, BATCH_CONFIG))
)


def validate_client(config: Mapping[str, Any], *, for_sync: bool = True) -> list[str]:
    """Problems in `client` (base URL, auth, error handler) and top-level settings.

    Discovery of built-in resources needs neither the API nor credentials, so with
    `for_sync=False` a missing base URL or credential is not an error (a wrong one is)."""
    errors = unknown_key_errors(config, TOP_LEVEL_KEYS, "")
    client = config.get("client") or ({} if not for_sync else None)
    if not isinstance(client, Mapping):
        return [*errors, "client: required object with base_url and auth"]
    errors += unknown_key_errors(client, CLIENT_KEYS, "client", refused=CLIENT_REFUSED)
    insecure = config.get("allow_insecure_http") is True
    if (for_sync or client.get("base_url")) and (
        e := validate_base_url(client.get("base_url"), "client.base_url", allow_insecure=insecure)
    ) is not None:
        errors.append(e)
    auth = client.get("auth")
    if auth is None:
        auth = {"type": "none"}
    errors += [  # a type name alone (dlt's secrets shorthand) gets its own line there
        e
        for e in validate_auth(auth, allow_insecure=insecure)
        if for_sync or "required for auth type" not in e
    ]
    ca_bundle = config.get("ca_bundle")
    if ca_bundle and not Path(str(ca_bundle)).is_file():
        errors.append(f"ca_bundle: {ca_bundle!r} is not a readable file of PEM certificates")
    if "error_handler" in client:
        errors += validate_error_handler(client["error_handler"], "client.error_handler")
    errors += client_headers(client)[1]
    if client.get("paginator") is not None:
        errors += paginator_spec(client["paginator"], "client.paginator")[1]
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


def client_headers(client: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """`client.headers`, sent with every request (an endpoint's own `headers` win)."""
    return headers_of(client.get("headers"), "client.headers")


def headers_of(value: Any, where: str) -> tuple[dict[str, str], list[str]]:
    """A `headers` mapping as strings; numbers are sent as their text, as requests would
    refuse them."""
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [f"{where}: must be an object of header names and values"]
    headers: dict[str, str] = {}
    errors: list[str] = []
    for name, item in value.items():
        if isinstance(item, str) or (isinstance(item, int | float) and not isinstance(item, bool)):
            headers[str(name)] = str(item)
        else:
            errors.append(f"{where}.{name}: must be a string (got {type(item).__name__})")
    return headers, errors


def header_secrets(config: Mapping[str, Any]) -> list[str]:
    """The values of credential-like headers anywhere in the config (`client.headers`,
    `resource_defaults` and every resource's `endpoint.headers`), and the credential of
    a `<scheme> <credential>` value, for redaction."""
    client = config.get("client")
    sources: list[Any] = [client.get("headers") if isinstance(client, Mapping) else None]
    defaults = config.get("resource_defaults")
    resources = config.get("resources")
    for holder in [defaults, *(resources if isinstance(resources, list) else [])]:
        endpoint = holder.get("endpoint") if isinstance(holder, Mapping) else None
        sources.append(endpoint.get("headers") if isinstance(endpoint, Mapping) else None)
    values: list[str] = []
    for headers in sources:
        if not isinstance(headers, Mapping):
            continue
        for name, value in headers.items():
            if isinstance(value, str) and any(p in str(name).lower() for p in SECRET_HEADER_PARTS):
                values += [value, value.split()[-1]] if value.split() else [value]
    return values


def validate_error_handler(value: Any, where: str) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{where}: must be an object"]
    errors = unknown_key_errors(value, ERROR_HANDLER_KEYS, where)
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

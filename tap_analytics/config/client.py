"""Validation of `client` (base URL, auth, error handler) and the top-level settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tap_analytics.auth import AUTH_TYPES
from tap_analytics.instants import parse_datetime

ERROR_HANDLER_KEYS = {"retry_on_status_codes", "max_retries", "backoff_factor", "backoff"}


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
    if kind not in AUTH_TYPES:
        return [
            f"client.auth.type: unknown auth type {kind!r}; use one of "
            + ", ".join(sorted(AUTH_TYPES))
        ]
    required, optional = AUTH_TYPES[kind].REQUIRED, AUTH_TYPES[kind].OPTIONAL
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

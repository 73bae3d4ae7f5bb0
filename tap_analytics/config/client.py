"""Validation of `client` (base URL, auth, error handler) and the top-level settings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tap_analytics.config.auth import validate_auth
from tap_analytics.config.urls import validate_base_url
from tap_analytics.instants import parse_datetime

ERROR_HANDLER_KEYS = {"retry_on_status_codes", "max_retries", "backoff_factor", "backoff"}


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

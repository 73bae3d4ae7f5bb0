"""Validation of `client.auth` and `endpoint.auth` against the authenticator registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tap_analytics.auth import AUTH_TYPES
from tap_analytics.config.urls import validate_base_url


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


def endpoint_auth(
    endpoint: Mapping[str, Any], where: str, *, allow_insecure: bool = False
) -> tuple[bool, Mapping[str, Any] | None, list[str]]:
    """A resource's own `endpoint.auth`: (overrides client.auth?, the auth, errors)."""
    if "auth" not in endpoint:
        return False, None, []
    return False, None, [f"{where}.endpoint.auth: per-resource auth is not supported yet"]

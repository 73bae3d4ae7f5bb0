"""The authenticator family and its registry: an auth type is one class and one entry here.

Each class names its `client.auth.type`, the settings it requires and accepts (config
validation reads them), which of them are secrets (redacted everywhere), and how it is
built from a validated mapping. One authenticator serves every stream of a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from singer_sdk.authenticators import APIAuthenticatorBase

from tap_analytics.auth.oauth2 import OAuth2Authenticator
from tap_analytics.auth.setup import AuthSetup
from tap_analytics.auth.static import APIKeyAuth, BearerAuth, NoAuth
from tap_analytics.auth.token_store import RefreshTokenStore


class AuthType(Protocol):
    """What the registry needs of an authenticator class."""

    type_name: ClassVar[str]
    REQUIRED: ClassVar[tuple[str, ...]]
    OPTIONAL: ClassVar[tuple[str, ...]]
    SECRETS: ClassVar[tuple[str, ...]]

    @classmethod
    def from_config(
        cls, auth: Mapping[str, Any], setup: AuthSetup
    ) -> APIAuthenticatorBase | None: ...


AUTH_TYPES: dict[str, type[AuthType]] = {
    cls.type_name: cls for cls in (OAuth2Authenticator, BearerAuth, APIKeyAuth, NoAuth)
}


def build_authenticator(
    auth: Mapping[str, Any], setup: AuthSetup | None = None
) -> APIAuthenticatorBase | None:
    """The authenticator for a validated `client.auth` mapping (None: no auth)."""
    kind = auth.get("type") or "none"
    if kind not in AUTH_TYPES:
        msg = f"unknown client.auth.type {kind!r}"
        raise ValueError(msg)
    return AUTH_TYPES[kind].from_config(auth, setup or AuthSetup())


def secrets_of(auth: Mapping[str, Any]) -> list[str]:
    """The secret values in an auth mapping, for redaction: every type's secret fields."""
    names = {name for cls in AUTH_TYPES.values() for name in cls.SECRETS}
    return [str(auth[key]) for key in sorted(names) if auth.get(key)]


__all__ = [
    "AUTH_TYPES",
    "AuthSetup",
    "OAuth2Authenticator",
    "RefreshTokenStore",
    "build_authenticator",
    "secrets_of",
]

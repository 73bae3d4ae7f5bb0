"""The authenticator family and its registry: an auth type is one class and one entry here.

Each class names its `auth.type`, the settings it requires and accepts (config
validation reads them), which of them are secrets (redacted everywhere), and how it is
built from a validated mapping. The run builds each distinct auth once (`RunContext`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Protocol

from singer_sdk.authenticators import APIAuthenticatorBase

from tap_analytics.auth.client_credentials import OAuth2ClientCredentials
from tap_analytics.auth.oauth2 import OAuth2Authenticator
from tap_analytics.auth.redirects import redirect_risk
from tap_analytics.auth.setup import AuthSetup
from tap_analytics.auth.static import APIKeyAuth, BearerAuth, HttpBasicAuth, NoAuth
from tap_analytics.auth.token_store import RefreshTokenStore
from tap_analytics.errors import SECRET_PARAM_NAMES


class AuthType(Protocol):
    """What the registry needs of an authenticator class."""

    type_name: ClassVar[str]
    REQUIRED: ClassVar[tuple[str, ...]]
    OPTIONAL: ClassVar[tuple[str, ...]]
    SECRETS: ClassVar[tuple[str, ...]]
    #: alias -> the setting it stands for; choices of a setting; settings that are URLs;
    #: settings whose value may be the empty string.
    ALIASES: ClassVar[Mapping[str, str]]
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]]
    URLS: ClassVar[tuple[str, ...]]
    MAY_BE_EMPTY: ClassVar[tuple[str, ...]]

    @classmethod
    def from_config(
        cls, auth: Mapping[str, Any], setup: AuthSetup
    ) -> APIAuthenticatorBase | None: ...

    @classmethod
    def hint(cls, auth: Mapping[str, Any], where: str) -> str:
        """The settings to check when the API refuses the credentials."""


AUTH_TYPES: dict[str, type[AuthType]] = {
    cls.type_name: cls
    for cls in (
        OAuth2Authenticator, OAuth2ClientCredentials, BearerAuth, APIKeyAuth, HttpBasicAuth,
        NoAuth,
    )
}

#: dlt's `create_auth`: a mapping without `type` is a bearer token.
DEFAULT_TYPE = "bearer"


def auth_type(auth: Mapping[str, Any]) -> Any:
    """The type an auth mapping names: dlt's bearer when it names none; `none` when it
    is empty (no setting at all)."""
    kind = auth.get("type")
    if kind is None:
        return DEFAULT_TYPE if any(k != "type" for k in auth) else "none"
    return kind


def build_authenticator(
    auth: Mapping[str, Any] | None, setup: AuthSetup | None = None
) -> APIAuthenticatorBase | None:
    """The authenticator for a validated auth mapping (None: no auth)."""
    if auth is None:
        return None
    kind = auth_type(auth)
    if kind not in AUTH_TYPES:
        msg = f"unknown auth type {kind!r}"
        raise ValueError(msg)
    return AUTH_TYPES[kind].from_config(auth, setup or AuthSetup())


def refresh_token_of(auth: Any) -> str | None:
    """The refresh token an OAuth2 auth mapping configures (its token cache's lineage)."""
    if not isinstance(auth, Mapping):
        return None
    cls = AUTH_TYPES.get(auth_type(auth))
    if cls is None or not issubclass(cls, OAuth2Authenticator):
        return None
    return cls.configured_refresh_token(auth)


def credential_hint(auth: Any, where: str) -> str:
    """The settings a user should check after a 401/403, for the auth at `where`."""
    if not isinstance(auth, Mapping) or auth_type(auth) not in AUTH_TYPES:
        return NoAuth.hint({}, where)
    return AUTH_TYPES[auth_type(auth)].hint(auth, where)


#: Every secret setting of every type.
SECRET_SETTINGS = frozenset(name for cls in AUTH_TYPES.values() for name in cls.SECRETS)


def secrets_of(auth: Any) -> list[str]:
    """The secret values in an auth mapping, for redaction: every type's secret fields,
    and the secret-named fields of a token request's extra form data."""
    if not isinstance(auth, Mapping):
        return []
    values = [auth[key] for key in sorted(SECRET_SETTINGS) if auth.get(key)]
    extra = auth.get("access_token_request_data")
    if isinstance(extra, Mapping):
        values += [v for k, v in extra.items() if str(k).lower() in SECRET_PARAM_NAMES and v]
    return [str(v) for v in values if isinstance(v, str | int)]


def secret_params_of(auth: Any) -> list[str]:
    """Query parameters that carry a credential of this auth (an API key in the query)."""
    if not isinstance(auth, Mapping) or auth_type(auth) != "api_key":
        return []
    if auth.get("location") not in ("query", "param"):
        return []
    return [str(auth.get("name") or APIKeyAuth.DEFAULT_NAME)]


def auths_in(config: Mapping[str, Any]) -> Iterator[Any]:
    """Every auth a config holds: `client.auth`, `resource_defaults.endpoint.auth` and each
    resource's `endpoint.auth` (whatever their shape: validation judges them)."""
    client = config.get("client")
    if isinstance(client, Mapping):
        yield client.get("auth")
    defaults = config.get("resource_defaults")
    entries = [defaults] if isinstance(defaults, Mapping) else []
    resources = config.get("resources")
    entries += [r for r in resources if isinstance(r, Mapping)] if isinstance(resources, list) else []
    for entry in entries:
        endpoint = entry.get("endpoint")
        if isinstance(endpoint, Mapping):
            yield endpoint.get("auth")


__all__ = [
    "AUTH_TYPES",
    "DEFAULT_TYPE",
    "SECRET_SETTINGS",
    "AuthSetup",
    "AuthType",
    "OAuth2Authenticator",
    "OAuth2ClientCredentials",
    "RefreshTokenStore",
    "auth_type",
    "auths_in",
    "build_authenticator",
    "credential_hint",
    "redirect_risk",
    "refresh_token_of",
    "secret_params_of",
    "secrets_of",
]

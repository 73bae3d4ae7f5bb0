"""Credentials that stay the same for the whole run: a bearer token, an API key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from singer_sdk.authenticators import APIKeyAuthenticator, BearerTokenAuthenticator

from tap_analytics.auth.setup import AuthSetup


class BearerAuth(BearerTokenAuthenticator):
    """`Authorization: Bearer <token>` on every request (the SDK's own authenticator)."""

    type_name: ClassVar[str] = "bearer"
    REQUIRED: ClassVar[tuple[str, ...]] = ("token",)
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    SECRETS: ClassVar[tuple[str, ...]] = ("token",)

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> BearerAuth:
        return cls(token=auth["token"])


class APIKeyAuth(APIKeyAuthenticator):
    """An API key in a header or a query parameter (the SDK's own authenticator)."""

    type_name: ClassVar[str] = "api_key"
    REQUIRED: ClassVar[tuple[str, ...]] = ("api_key",)
    OPTIONAL: ClassVar[tuple[str, ...]] = ("name", "location")
    SECRETS: ClassVar[tuple[str, ...]] = ("api_key",)

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> APIKeyAuth:
        return cls(
            key=auth.get("name") or "api_key",
            value=auth["api_key"],
            location="params" if auth.get("location") == "query" else "header",
        )


class NoAuth:
    """`type: none`, or no `auth` at all: requests go out without credentials."""

    type_name: ClassVar[str] = "none"
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    SECRETS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> None:
        return None

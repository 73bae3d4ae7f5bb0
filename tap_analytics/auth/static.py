"""Credentials that stay the same for the whole run: bearer token, API key, HTTP Basic.

Each adds its credential to a prepared request and touches nothing else: the SDK's own
authenticators re-encode the whole query string on every request (and drop parameters
with an empty value on the way), so these write the header, append the query
parameter or extend the Cookie header themselves, as dlt's do.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_analytics.auth.setup import AuthSetup


class StaticAuth(APIAuthenticatorBase):
    """What every static credential declares besides its settings: no aliases, choices
    or URLs unless it says so."""

    type_name: ClassVar[str]
    REQUIRED: ClassVar[tuple[str, ...]]
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    SECRETS: ClassVar[tuple[str, ...]] = ()
    ALIASES: ClassVar[Mapping[str, str]] = {}
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    URLS: ClassVar[tuple[str, ...]] = ()
    #: Settings that may be the empty string (dlt accepts an empty Basic password).
    MAY_BE_EMPTY: ClassVar[tuple[str, ...]] = ()
    #: The settings to check when the API refuses the credential ({where}: their place).
    HINT: ClassVar[str] = "{where}"

    @classmethod
    def hint(cls, auth: Mapping[str, Any], where: str) -> str:
        return cls.HINT.format(where=where)

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__()
        self.auth_headers = dict(headers)

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.auth_headers)
        return request


class BearerAuth(StaticAuth):
    """`Authorization: Bearer <token>`; dlt's default type, so `{"token": ...}` alone is one."""

    type_name: ClassVar[str] = "bearer"
    REQUIRED: ClassVar[tuple[str, ...]] = ("token",)
    SECRETS: ClassVar[tuple[str, ...]] = ("token",)
    HINT: ClassVar[str] = "{where}.token"

    def __init__(self, token: str) -> None:
        super().__init__({"Authorization": f"Bearer {token}"})

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> BearerAuth:
        return cls(auth["token"])


class HttpBasicAuth(StaticAuth):
    """HTTP Basic (RFC 7617) with `username` and `password`, UTF-8, as dlt sends it."""

    type_name: ClassVar[str] = "http_basic"
    REQUIRED: ClassVar[tuple[str, ...]] = ("username", "password")
    SECRETS: ClassVar[tuple[str, ...]] = ("password",)
    MAY_BE_EMPTY: ClassVar[tuple[str, ...]] = ("username", "password")
    HINT: ClassVar[str] = "{where}.username/password"

    def __init__(self, username: str, password: str) -> None:
        pair = base64.b64encode(f"{username}:{password}".encode()).decode()
        super().__init__({"Authorization": f"Basic {pair}"})
        self.encoded = pair

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> HttpBasicAuth:
        return cls(auth["username"], auth["password"])


class APIKeyAuth(StaticAuth):
    """An API key under `name` in a header, the query (`query` or dlt's `param`) or a
    cookie. dlt's defaults: name `Authorization`, location `header`."""

    type_name: ClassVar[str] = "api_key"
    REQUIRED: ClassVar[tuple[str, ...]] = ("api_key",)
    OPTIONAL: ClassVar[tuple[str, ...]] = ("name", "location")
    SECRETS: ClassVar[tuple[str, ...]] = ("api_key",)
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "location": ("header", "query", "param", "cookie"),
    }
    DEFAULT_NAME: ClassVar[str] = "Authorization"
    DEFAULT_LOCATION: ClassVar[str] = "header"

    @classmethod
    def hint(cls, auth: Mapping[str, Any], where: str) -> str:
        location = auth.get("location") or cls.DEFAULT_LOCATION
        name = auth.get("name") or cls.DEFAULT_NAME
        return f"{where}.api_key (sent as {location} {name!r}, see {where}.name/location)"

    def __init__(self, name: str, api_key: str, location: str = DEFAULT_LOCATION) -> None:
        super().__init__({name: api_key} if location == "header" else {})
        self.name, self.location = name, location
        self._query = urlencode({name: api_key}) if location in ("query", "param") else ""
        self._cookie = f"{name}={api_key}" if location == "cookie" else ""

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> APIKeyAuth:
        return cls(
            auth.get("name") or cls.DEFAULT_NAME,
            auth["api_key"],
            auth.get("location") or cls.DEFAULT_LOCATION,
        )

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = super().authenticate_request(request)
        if self._query and request.url:
            joiner = "&" if urlsplit(request.url).query else "?"
            request.url = f"{request.url}{joiner}{self._query}"
        if self._cookie:
            existing = request.headers.get("Cookie")
            request.headers["Cookie"] = f"{existing}; {self._cookie}" if existing else self._cookie
        return request


class NoAuth:
    """`type: none`, or no `auth` at all: requests go out without credentials."""

    type_name: ClassVar[str] = "none"
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    OPTIONAL: ClassVar[tuple[str, ...]] = ()
    SECRETS: ClassVar[tuple[str, ...]] = ()
    ALIASES: ClassVar[Mapping[str, str]] = {}
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    URLS: ClassVar[tuple[str, ...]] = ()
    MAY_BE_EMPTY: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def hint(cls, auth: Mapping[str, Any], where: str) -> str:
        return f"{where} (the API requires credentials)"

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> None:
        return None

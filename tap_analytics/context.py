"""What every stream of one run shares: the HTTP session, the authenticators, the rate gate.

The tap builds one `RunContext` per run and hands it to each stream, so streams never
import the tap, and one token per distinct auth setting, one connection pool and one
rate-limit budget serve them all. Members are built on first use: discovering built-in
resources needs none of them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from singer_sdk.authenticators import APIAuthenticatorBase

from tap_analytics.auth import AuthSetup, RefreshTokenStore, build_authenticator, refresh_token_of
from tap_analytics.config import ResourceSpec
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.headstart import HeadStarts
from tap_analytics.retry import RetryPolicy
from tap_analytics.throttle import RateGate

#: Requests in flight per run unless `max_concurrent_requests` says otherwise.
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_SECONDS = 60.0


class RunContext:
    """The run-wide resources of one tap run, built lazily from its config."""

    def __init__(self, config: Mapping[str, Any], *, token_cache_path: Path | None = None) -> None:
        self.config = config
        self.token_cache_path = token_cache_path
        self._built: dict[str, APIAuthenticatorBase | None] = {}
        self._by_resource: dict[str, APIAuthenticatorBase | None] = {}
        self._build_lock = threading.Lock()

    @property
    def concurrency(self) -> int:
        return int(self.config.get("max_concurrent_requests") or DEFAULT_CONCURRENCY)

    @property
    def request_timeout(self) -> float:
        return float(self.config.get("request_timeout") or DEFAULT_TIMEOUT_SECONDS)

    @property
    def client(self) -> Mapping[str, Any]:
        client = self.config.get("client")
        return client if isinstance(client, Mapping) else {}

    @cached_property
    def base_url(self) -> str:
        value = self.client.get("base_url")
        if not value:
            msg = "client.base_url: required to reach the API (e.g. https://api.example.com)"
            raise TapAnalyticsError(msg)
        return str(value).strip().rstrip("/")

    @cached_property
    def session(self) -> requests.Session:
        """One connection pool for every stream of the run, sized to the concurrency."""
        session = requests.Session()
        # Read proxy and CA settings from the environment once, not on every request
        # (requests re-reads the whole environment per send: ~0.7 ms a request).
        session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        session.verify = (
            self.config.get("ca_bundle")
            or os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or True
        )
        session.trust_env = False
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=4, pool_maxsize=self.concurrency + 2
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def rate_gate(self) -> RateGate:
        """The run's shared rate-limit budget (see throttle.py)."""
        return RateGate(
            max_concurrency=self.concurrency,
            max_requests_per_second=self.config.get("max_requests_per_second"),
        )

    @cached_property
    def head_starts(self) -> HeadStarts:
        """The first pages of streams still to come, requested early (see headstart.py)."""
        return HeadStarts()

    @cached_property
    def authenticator(self) -> APIAuthenticatorBase | None:
        """The authenticator of `client.auth`, shared by every stream without an
        `endpoint.auth` of its own (one token, one refresh)."""
        return self._authenticator(self.client.get("auth"), "client.auth")

    def authenticator_for(self, spec: ResourceSpec) -> APIAuthenticatorBase | None:
        """The authenticator of one resource: the run's, unless its `endpoint.auth`
        overrides it. Resources with equal auth settings share one authenticator."""
        if not spec.auth_override:
            return self.authenticator
        by_resource = self._by_resource  # asked once per request: kept cheap
        if spec.name not in by_resource:
            by_resource[spec.name] = self._authenticator(
                spec.auth, f"resources.{spec.name}.endpoint.auth"
            )
        return by_resource[spec.name]

    def _authenticator(self, auth: Any, where: str) -> APIAuthenticatorBase | None:
        """Built once per distinct auth setting; thread-safe (streams ask from workers)."""
        key = json.dumps(auth, sort_keys=True, default=str)
        with self._build_lock:
            if key not in self._built:
                self._built[key] = self._build(auth, where)
            return self._built[key]

    def _build(self, auth: Any, where: str) -> APIAuthenticatorBase | None:
        if not isinstance(auth, Mapping):
            return None
        store = None
        refresh_token = refresh_token_of(auth)
        if refresh_token and self.token_cache_path is not None:
            store = RefreshTokenStore(
                self.token_cache_path,
                client_id=str(auth.get("client_id")),
                configured=str(refresh_token),
            )
        setup = AuthSetup(
            timeout=self.request_timeout,
            session=self.session,
            token_store=store,
            retry_policy=RetryPolicy.from_config(self.client.get("error_handler") or {}),
            where=where,
        )
        return build_authenticator(auth, setup)


"""TapAnalytics: the settings, the resource specs and the stream list."""

from __future__ import annotations

import copy
import logging
import os
import signal
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import click
import requests
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.exceptions import ConfigValidationError

from tap_analytics.auth import RefreshTokenStore, build_authenticator, secrets_of
from tap_analytics.client import DEFAULT_CONCURRENCY, AnalyticsStream
from tap_analytics.errors import SECRETS, TapAnalyticsError, install_secret_filter, redact
from tap_analytics.output import SingerOutput
from tap_analytics.retry import RetryPolicy
from tap_analytics.schema_inference import infer_schema
from tap_analytics.spec import ConfigErrors, ResourceSpec, resolve_resources
from tap_analytics.throttle import RateGate

ERROR_HANDLER = th.ObjectType(
    th.Property(
        "retry_on_status_codes",
        th.ArrayType(th.IntegerType),
        description="HTTP statuses that are retried (default 429, 500, 502, 503, 504).",
    ),
    th.Property("max_retries", th.IntegerType, description="Retries before giving up (default 3)."),
    th.Property(
        "backoff_factor",
        th.NumberType,
        description="Seconds: the first wait of an exponential backoff (factor·2^(n-1): 2, 4, 8 s "
        "for 2), or every wait of a constant one. A Retry-After header wins.",
    ),
    th.Property(
        "backoff",
        th.StringType(allowed_values=["exponential", "constant"]),
        description="Backoff shape (default exponential).",
    ),
)

TOKEN_CACHE_FILE = "tap-analytics-token-cache.json"  # noqa: S105 (a file name)

RESOURCE_ITEM = th.CustomType({"anyOf": [{"type": "string"}, {"type": "object"}]})

RESOURCE_OPTIONS = (
    "Each entry is a built-in resource name (e.g. \"events\") or an object with: "
    "name; endpoint.path; endpoint.data_selector (dotted path or JSONPath to the records, "
    "default data); endpoint.params (extra query parameters); endpoint.paginator "
    "({type: offset, limit, offset_param, limit_param, total_path, maximum_offset} or "
    "{type: page_number, page_param, base_page, limit_param, limit, total_path (pages), "
    "maximum_page} or {type: single_page}); endpoint.error_handler (retry_on_status_codes, "
    "max_retries, backoff_factor, backoff); endpoint.incremental ({cursor_path, "
    "start_param, initial_value}: the replication key, the query parameter that sends the "
    "bookmark, the first value); primary_key (field or list, default id); "
    "write_disposition (merge, append or replace); schema (JSON schema; inferred from the "
    "first page when a non-built-in resource has none)."
)


class TapAnalytics(Tap):
    """Singer tap for analytics REST APIs described in dlt's rest_api_source shape."""

    name = "tap-analytics"
    package_name = "tap-analytics"
    message_writer_class = SingerOutput

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client",
            th.ObjectType(
                th.Property(
                    "base_url",
                    th.StringType,
                    required=True,
                    description="API root, e.g. https://api.example.com; resource paths are "
                    "appended to it.",
                ),
                th.Property(
                    "auth",
                    th.ObjectType(
                        th.Property(
                            "type",
                            th.StringType,
                            description="oauth2 (client credentials, or refresh-token grant "
                            "when refresh_token is set), bearer, api_key or none.",
                        ),
                        th.Property("client_id", th.StringType, description="OAuth2 client ID."),
                        th.Property(
                            "client_secret",
                            th.StringType,
                            secret=True,
                            description="Secret. OAuth2 client secret.",
                        ),
                        th.Property(
                            "token_url",
                            th.StringType,
                            description="OAuth2 token endpoint (alias: token_refresh_endpoint).",
                        ),
                        th.Property(
                            "token_refresh_endpoint",
                            th.StringType,
                            description="Alias of token_url, as seed 002 names it.",
                        ),
                        th.Property(
                            "refresh_token",
                            th.StringType,
                            secret=True,
                            description="Secret. OAuth2 refresh token: selects the refresh-token grant; "
                            "a token rotated by the server replaces it, kept in token_cache_path.",
                        ),
                        th.Property(
                            "client_auth",
                            th.StringType(allowed_values=["body", "basic"]),
                            description="How the OAuth2 client authenticates to the token "
                            "endpoint: body (client_id and client_secret in the form) or basic "
                            "(HTTP Basic). Unset: the form body, then HTTP Basic once if the "
                            "server refuses it (invalid_client).",
                        ),
                        th.Property("scope", th.StringType, description="OAuth2 scope, if any."),
                        th.Property(
                            "token", th.StringType, secret=True, description="Secret. Bearer token."
                        ),
                        th.Property(
                            "name",
                            th.StringType,
                            description="API key header or query parameter name "
                            "(default api_key).",
                        ),
                        th.Property(
                            "api_key", th.StringType, secret=True, description="Secret. API key."
                        ),
                        th.Property(
                            "location",
                            th.StringType(allowed_values=["header", "query"]),
                            description="Where the API key goes (default header).",
                        ),
                    ),
                    description="How to authenticate; one authenticator serves every stream.",
                ),
                th.Property(
                    "error_handler",
                    ERROR_HANDLER,
                    description="Retry policy for every resource (a resource's own wins).",
                ),
            ),
            required=True,
            description="The API: base URL, authentication, retry policy.",
        ),
        th.Property(
            "resource_defaults",
            th.ObjectType(additional_properties=True),
            description="Merged deeply under every resource entry (same options as a resource: "
            "primary_key, write_disposition, endpoint.paginator, endpoint.error_handler, ...).",
        ),
        th.Property(
            "resources",
            th.ArrayType(RESOURCE_ITEM),
            required=True,
            description="The resources to sync. " + RESOURCE_OPTIONS,
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest replication-key value synced by incremental resources "
            "without a bookmark.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60,
            description="Seconds to wait for a response before retrying (default 60).",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType,
            default=8,
            description="Pages of one stream fetched in parallel (1 = strictly sequential). "
            "Records still come out in server order.",
        ),
        th.Property(
            "speculative_paging",
            th.BooleanType,
            default=False,
            description="Fetch pages ahead even when the API announces no total. Faster, but "
            "may request up to max_concurrent_requests pages past the end of the data "
            "(with a total, pages are fetched ahead without any waste).",
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            description="Cap on the request rate of the whole run (default: no cap; a 429/420 "
            "still slows the run down).",
        ),
        th.Property(
            "max_pages_per_stream",
            th.IntegerType,
            default=1_000_000,
            description="Safety stop: a stream still paging after this many pages fails "
            "(a server that never signals the end).",
        ),
        th.Property(
            "token_cache_path",
            th.StringType,
            description="File keeping the newest OAuth2 refresh token when the API rotates "
            "it (default: .meltano/tap-analytics/ under Meltano, else beside --state or "
            "--config). Holds a secret: written with mode 0600.",
        ),
        th.Property(
            "allow_insecure_http",
            th.BooleanType,
            default=False,
            description="Allow plain http:// base and token URLs other than loopback "
            "(credentials would travel unencrypted).",
        ),
        th.Property(
            "ca_bundle",
            th.StringType,
            description="PEM file of CA certificates for a private CA (TLS verification "
            "is always on).",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            description="User-Agent header sent to the API.",
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        install_secret_filter()
        # Discovery skips the SDK's validation; the resources are checked always (without
        # requiring credentials or the API, which discovery of built-ins does not need).
        try:
            _ = self.resource_specs
        except ConfigErrors as exc:
            raise ConfigValidationError("Config validation failed", errors=exc.errors) from None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's schema check plus ours, every problem one line, before a sync."""
        schema_errors = super()._validate_config(raise_errors=False)
        self._register_secrets()
        try:
            resolve_resources(self.config, for_sync=True)
        except ConfigErrors as exc:
            # Ours name the setting and the fix; the SDK's schema messages would only
            # repeat some of them less clearly.
            errors = exc.errors
        else:
            errors = schema_errors
        if errors and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        return errors

    def _register_secrets(self) -> None:
        auth = (self.config.get("client") or {}).get("auth") or {}
        SECRETS.add(*secrets_of(auth))
        if auth.get("type") == "api_key" and auth.get("location") == "query":
            SECRETS.add_param_name(auth.get("name") or "api_key")

    @cached_property
    def resource_specs(self) -> list[ResourceSpec]:
        self._register_secrets()
        return resolve_resources(self.config, for_sync=False)

    @property
    def base_url(self) -> str:
        value = (self.config.get("client") or {}).get("base_url")
        if not value:
            msg = "client.base_url: required to reach the API (e.g. https://api.example.com)"
            raise TapAnalyticsError(msg)
        return str(value).strip().rstrip("/")

    @cached_property
    def http_session(self) -> requests.Session:
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
        size = int(self.config.get("max_concurrent_requests") or DEFAULT_CONCURRENCY)
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=size + 2)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    @cached_property
    def rate_gate(self) -> RateGate:
        """The run's shared rate-limit budget (see throttle.py)."""
        return RateGate(
            max_concurrency=int(self.config.get("max_concurrent_requests") or DEFAULT_CONCURRENCY),
            max_requests_per_second=self.config.get("max_requests_per_second"),
        )

    @cached_property
    def authenticator(self) -> APIAuthenticatorBase | None:
        """One authenticator per run, shared by all streams (one token, one refresh)."""
        auth = dict((self.config.get("client") or {}).get("auth") or {})
        if auth.get("type") == "oauth2" and not auth.get("token_url"):
            auth["token_url"] = auth.get("token_refresh_endpoint")
        store = None
        if auth.get("type") == "oauth2" and auth.get("refresh_token"):
            path = self.token_cache_path
            if path is not None:
                store = RefreshTokenStore(
                    path,
                    token_url=str(auth["token_url"]),
                    client_id=str(auth.get("client_id")),
                    configured=str(auth["refresh_token"]),
                )
        client = self.config.get("client") or {}
        return build_authenticator(
            auth,
            timeout=float(self.config.get("request_timeout") or 60),
            session=self.http_session,
            token_store=store,
            retry_policy=RetryPolicy.from_config(client.get("error_handler") or {}),
        )

    @property
    def token_cache_path(self) -> Path | None:
        """Where rotated refresh tokens are kept: the setting, else beside the state
        (Meltano's project, or the --state / --config file of a plain CLI run)."""
        configured = self.config.get("token_cache_path")
        if configured:
            return Path(str(configured)).expanduser()
        if project := os.environ.get("MELTANO_PROJECT_ROOT"):
            return Path(project) / ".meltano" / "tap-analytics" / TOKEN_CACHE_FILE
        for given in (TapAnalytics._cli_state_path, TapAnalytics._cli_config_path):
            if given:
                return Path(given).resolve().parent / TOKEN_CACHE_FILE
        return None

    # --- command line -----------------------------------------------------------------

    _cli_state_path: str | None = None
    _cli_config_path: str | None = None

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Remember the config file's place: rotated tokens are kept beside it."""
        files = [v for v in value if v != "ENV"]
        TapAnalytics._cli_config_path = files[-1] if files else None
        return super().cb_config(ctx, param, value)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:
        state = kwargs.get("state")
        TapAnalytics._cli_state_path = getattr(state, "name", None)
        super().invoke(*args, **kwargs)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """On SIGTERM/SIGINT: emit the STATE reached (it names the page to resume at),
        then exit non-zero -- an interrupted sync is not a successful one. If the signal
        interrupted a write to stdout (a slow target), nothing more is written: part of a
        line may be out, and the STATE emitted before this page still lets the next run
        resume."""
        name = signal.Signals(signum).name
        writer = self.message_writer
        try:
            if isinstance(writer, SingerOutput) and writer.mid_write:
                self.logger.error(
                    "Interrupted by %s while writing output: the last STATE written stands", name
                )
            else:
                self._state_writer.write_state(self.state)
                sys.stdout.flush()
                self.logger.error(
                    "Interrupted by %s: the last STATE lets the next run resume where this "
                    "one stopped",
                    name,
                )
        finally:
            os._exit(128 + signum)

    def discover_streams(self) -> list[AnalyticsStream]:
        return [AnalyticsStream(self, spec, self._schema_for(spec)) for spec in self.resource_specs]

    def _schema_for(self, spec: ResourceSpec) -> dict[str, Any]:
        if spec.schema is not None:
            return copy.deepcopy(dict(spec.schema))
        if spec.builtin is not None:
            return copy.deepcopy(spec.builtin.schema)
        return infer_schema(self, spec)


    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with failures reported as one secret-free line."""
        command = super().get_singer_command()
        install_secret_filter()
        command.excepthook = _one_line_excepthook(command.excepthook)  # type: ignore[attr-defined]
        # --discover runs while the arguments are parsed, before the command installs
        # its hook: install it now so discovery errors are one line too.
        sys.excepthook = command.excepthook  # type: ignore[attr-defined]
        command.params.append(
            click.Option(
                ["--log-level"],
                type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
                expose_value=False,
                is_eager=True,
                callback=_set_log_level,
                help="Log level (debug also shows tracebacks). Default: info, or "
                "TAP_ANALYTICS_LOGLEVEL.",
            )
        )
        return command


def _set_log_level(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        logging.getLogger().setLevel(value.upper())


def _one_line_excepthook(default: Callable[..., None]) -> Callable[..., None]:
    """A user error is one line; a traceback only when the log level is DEBUG."""

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt) or logging.getLogger().isEnabledFor(
            logging.DEBUG
        ):
            default(exc_type, exc, tb)
            return
        message = redact(str(exc.args[0]) if exc.args else exc_type.__name__)
        if not isinstance(exc, TapAnalyticsError):
            message = (
                f"unexpected {exc_type.__name__}: {message} (set TAP_ANALYTICS_LOGLEVEL=DEBUG "
                "for the traceback)"
            )
        logging.getLogger("tap-analytics").error("%s", message.replace("\n", " "))

    return excepthook

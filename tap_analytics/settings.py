"""The tap's settings as a JSON schema: what `--about`, Meltano and validation show users."""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

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

RESOURCE_ITEM = th.CustomType({"anyOf": [{"type": "string"}, {"type": "object"}]})
#: A replication value bounding a run: a date-time (ISO 8601) or a number.
WINDOW_BOUND = th.CustomType({"type": ["string", "number"]})

RESOURCE_OPTIONS = (
    "Each entry is a name (\"posts\": the endpoint posts, or the built-in resource of that "
    "name, e.g. \"events\") or an object with: name; table_name (the Singer stream; names "
    "become dlt's snake_case table names, user-events -> user_events); selected (false: "
    "deselected in the discovered catalog); endpoint (a path, or an object with: path -- "
    "relative, or an absolute URL, {name} placeholders filled from params; "
    "data_selector (dotted path or JSONPath to the records, default data); params (extra "
    "query parameters); headers; json or data (a request body, with method POST); auth; "
    "paginator (dlt's types: offset {limit, offset_param, limit_param, total_path, "
    "maximum_offset}, page_number {page_param, base_page, limit_param, limit, total_path, "
    "maximum_page}, json_link, header_link, cursor, header_cursor, json_response, "
    "single_page, auto; none set: detected from the first response); response_actions; "
    "error_handler (retry_on_status_codes, max_retries, backoff_factor, backoff); "
    "incremental (dlt's: cursor_path -- the "
    "replication key, a field or a nested path such as meta.updated_at; start_param and "
    "end_param, the query parameters sending the range; initial_value, end_value; "
    "range_start, range_end (closed/open); lag; on_cursor_value_missing (raise, include, "
    "exclude); row_order (asc, desc); and window, an ISO 8601 duration such as P30D or a "
    "number, to sync the range in windows)); primary_key (field or list, default id); "
    "write_disposition (merge, append or replace); schema (JSON schema; inferred from the "
    "first page when a non-built-in resource has none); include_from_parent. A resource "
    "whose path, params, json or headers name {resources.<parent>.<field>} (or a params "
    "entry {type: resolve, resource, field}) is read once per record of its parent. "
    "Unknown keys are errors."
)


CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
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
                        "when refresh_token is set), oauth2_client_credentials (dlt's), "
                        "bearer (also when type is omitted, as in dlt), api_key, http_basic "
                        "or none.",
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
                        description="OAuth2 token endpoint (alias: token_refresh_endpoint). "
                        "A redirect is followed only on the same host (307/308); one to "
                        "another host or down to http stops the run.",
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
                        "access_token_url",
                        th.StringType,
                        description="Token endpoint of oauth2_client_credentials (dlt's "
                        "name); redirects as for token_url.",
                    ),
                    th.Property(
                        "access_token_request_data",
                        th.ObjectType(additional_properties=True),
                        description="Extra form fields of the oauth2_client_credentials "
                        "token request (scope, audience, ...); they win over the defaults.",
                    ),
                    th.Property(
                        "default_token_expiration",
                        th.IntegerType,
                        description="Seconds an oauth2_client_credentials token lives when "
                        "the token response has no expires_in (default 3600).",
                    ),
                    th.Property(
                        "access_token",
                        th.StringType,
                        secret=True,
                        description="Secret. An access token oauth2_client_credentials uses "
                        "until the API refuses it; then it requests a new one.",
                    ),
                    th.Property(
                        "token", th.StringType, secret=True, description="Secret. Bearer token."
                    ),
                    th.Property(
                        "username", th.StringType, description="HTTP Basic user name (http_basic)."
                    ),
                    th.Property(
                        "password",
                        th.StringType,
                        secret=True,
                        description="Secret. HTTP Basic password (http_basic).",
                    ),
                    th.Property(
                        "name",
                        th.StringType,
                        description="API key header, query parameter or cookie name "
                        "(default Authorization, as in dlt).",
                    ),
                    th.Property(
                        "api_key", th.StringType, secret=True, description="Secret. API key."
                    ),
                    th.Property(
                        "location",
                        th.StringType(allowed_values=["header", "query", "param", "cookie"]),
                        description="Where the API key goes: header (default), query (or "
                        "param, dlt's alias) or cookie.",
                    ),
                ),
                description="How to authenticate (dlt's client.auth); a resource's "
                "endpoint.auth overrides it (null: no credentials). One authenticator per "
                "distinct auth serves the whole run.",
            ),
            th.Property(
                "error_handler",
                ERROR_HANDLER,
                description="Retry policy for every resource (a resource's own wins).",
            ),
        ),
        required=True,
        description="The API: base URL, authentication, retry policy; also, as in dlt, "
        "headers (sent with every request, an endpoint's own win) and paginator (every "
        "resource's default).",
    ),
    th.Property(
        "resource_defaults",
        th.ObjectType(additional_properties=True),
        description="Defaults under every resource entry, combined as dlt combines them (an "
        "entry's key replaces the default's; endpoint keys one by one, params and json one "
        "level deep). Same options as a resource, without name.",
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
        "window_start",
        WINDOW_BOUND,
        description="Restrict this run to replication values >= this (a date-time, or a number "
        "for numeric cursors) for every incremental resource: one window of a backfill that "
        "several processes share, each with its own state id.",
    ),
    th.Property(
        "window_end",
        WINDOW_BOUND,
        description="Restrict this run to replication values < this, for every incremental "
        "resource (see window_start).",
    ),
    th.Property(
        "max_concurrent_windows",
        th.IntegerType,
        default=1,
        description="Windows of one stream (endpoint.incremental.window) fetched at once; each "
        "waits whole in memory for its turn, and a killed run resumes at its window. 1: one at "
        "a time, resumable at the page.",
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
        description="Requests in flight at once in the whole run: a stream's pages, backfill "
        "windows, the children of different parents, the next streams' first pages while a "
        "stream ends (1 = strictly sequential). Records still come out in server order, one "
        "stream after another.",
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
        "batch_file_max_megabytes",
        th.NumberType,
        default=100,
        description="With batch_config: a new BATCH file after this many megabytes of "
        "records (uncompressed), or after batch_config.batch_size records, whichever "
        "comes first.",
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

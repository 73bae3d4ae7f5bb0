"""The configuration examples of dlt's rest_api basic.md (the REST API source page) as data.

See `configs` for the conventions (secrets as "<secret:x>", built-in instances as their dict form,
fragments kept as fragments). `source` gives the doc's own headings.
"""

from __future__ import annotations

from .example_model import BASIC, Example, Skipped

_TOKEN = "<secret:your_api_token>"
_SINCE = {"type": "incremental", "cursor_path": "updated_at", "initial_value": "2024-01-25T11:21:28Z"}
_ISSUES_PARAMS = {"sort": "updated", "direction": "desc", "state": "open", "since": _SINCE}
_COMMENTS_OF_ISSUE = {"path": "issues/{resources.issues.number}/comments"}
_INCREMENTAL_CREATED = {"cursor_path": "created_at", "initial_value": "2024-01-25T00:00:00Z"}
_GRAPHQL = """
            query Artist {{
                artist(id: "{resources.artist_list.id}") {{
                    id
                    name
                }}
            }}
        """

BASIC_EXAMPLES: list[Example] = [
    # ------------------------------------------------------------------ basic.md
    Example(
        "blog_quick_example",
        f"{BASIC} > Quick example (the blog API)",
        "source",
        {
            "client": {
                "base_url": "https://api.example.com/",
                "auth": {"token": _TOKEN},
                "paginator": {"type": "json_link", "next_url_path": "paging.next"},
            },
            "resources": [
                "posts",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "posts/{resources.posts.id}/comments",
                        "params": {"sort": "created_at"},
                    },
                },
            ],
        },
        (
            "auth:bearer_shorthand",
            "paginator:json_link",
            "paginator@client",
            "shorthand:resource_str",
            "placeholder:resources@path",
            "params:static",
        ),
    ),
    Example(
        "github_source",
        f"{BASIC} > Source configuration > Quick example",
        "source",
        {
            "client": {
                "base_url": "https://api.github.com/repos/dlt-hub/dlt/",
                "auth": {"token": "<secret:github_token>"},
            },
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"params": {"per_page": 100}},
            },
            "resources": [
                {"name": "issues", "endpoint": {"path": "issues", "params": _ISSUES_PARAMS}},
                {"name": "issue_comments", "endpoint": _COMMENTS_OF_ISSUE, "include_from_parent": ["id"]},
            ],
        },
        (
            "auth:bearer_shorthand",
            "resource_defaults",
            "primary_key",
            "write_disposition",
            "params:static",
            "incremental:param",
            "placeholder:resources@path",
            "include_from_parent",
            "paginator:auto",
        ),
        notes="`github_token` is the source function's secret argument.",
    ),
    Example(
        "resource_defaults",
        f"{BASIC} > Configuration structure > resource_defaults (optional)",
        "source",
        {
            "client": {},
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"params": {"per_page": 100}},
            },
            "resources": [
                "resource1",
                {
                    "name": "resource2_name",
                    "write_disposition": "append",
                    "endpoint": {"params": {"param1": "value1"}},
                },
            ],
        },
        (
            "resource_defaults",
            "primary_key",
            "write_disposition",
            "shorthand:resource_str",
            "endpoint:no_path",
            "params:merge",
        ),
        notes="client elided in the doc. resource2_name's params merge with the defaults' per_page.",
    ),
    Example(
        "resource_auth_override",
        f"{BASIC} > Resource configuration (example)",
        "source",
        {
            "client": {"auth": {"type": "bearer", "token": _TOKEN}},
            "resources": [
                "resource-using-bearer-auth",
                {
                    "name": "my-resource-with-special-auth",
                    "write_disposition": "merge",
                    "table_name": "my_custom_table",
                    "endpoint": {
                        "auth": {
                            "type": "http_basic",
                            "username": "user",
                            "password": "<secret:your_basic_auth_password>",
                        }
                    },
                },
            ],
        },
        (
            "auth:bearer",
            "auth:http_basic@endpoint",
            "write_disposition",
            "table_name",
            "shorthand:resource_str",
            "endpoint:no_path",
            "name:dashes",
        ),
        notes="the doc's endpoint auth is HttpBasicAuth('user', secret); its base_url is elided.",
    ),
    Example(
        "endpoint_quick_example",
        f"{BASIC} > Endpoint configuration",
        "endpoint",
        {"path": "issues", "method": "GET", "params": _ISSUES_PARAMS, "data_selector": "results"},
        ("method", "params:static", "incremental:param", "data_selector", "paginator:auto"),
        resource_name="issues",
    ),
    Example(
        "json_link_next_url_path",
        f"{BASIC} > Pagination > Example",
        "endpoint",
        {"path": "posts", "paginator": {"type": "json_link", "next_url_path": "pagination.next"}},
        ("paginator:json_link",),
        notes="the doc's JSONLinkPaginator(next_url_path=...) variant is the same paginator.",
        resource_name="posts",
    ),
    Example(
        "json_link_escaped_path",
        f"{BASIC} > Pagination > JSONPath escaping for special characters",
        "endpoint",
        {"path": "users", "paginator": {"type": "json_link", "next_url_path": "['@odata.nextLink']"}},
        ("paginator:json_link", "jsonpath:brackets"),
        resource_name="users",
    ),
    Example(
        "single_entity_override",
        f"{BASIC} > Pagination > Single entity endpoint detection",
        "resource",
        {
            "name": "user_details",
            "endpoint": {
                "path": "user/{resources.users.id}/comments",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
        },
        ("placeholder:resources@path", "paginator:json_link", "single_entity"),
        context=("users",),
    ),
    Example(
        "data_selector_key",
        f"{BASIC} > Data selection",
        "endpoint",
        {"path": "posts", "data_selector": "posts"},
        ("data_selector", "paginator:auto"),
        resource_name="posts",
    ),
    Example(
        "data_selector_nested",
        f"{BASIC} > Data selection (nested)",
        "endpoint",
        {"path": "posts", "data_selector": "results.posts"},
        ("data_selector", "paginator:auto"),
        resource_name="posts",
    ),
    Example(
        "auth_bearer",
        f"{BASIC} > Authentication > Quick example",
        "auth",
        {"type": "bearer", "token": _TOKEN},
        ("auth:bearer",),
        notes="the doc's BearerTokenAuth(token) variant is the same authenticator.",
    ),
    Example(
        "auth_bearer_shorthand",
        f"{BASIC} > Authentication (token shortcut)",
        "auth",
        {"token": _TOKEN},
        ("auth:bearer_shorthand",),
    ),
    Example(
        "resolve_via_path",
        f"{BASIC} > Define resource relationships > Via request path",
        "resources",
        {
            "resources": [
                {"name": "issues", "endpoint": {"path": "issues"}},
                {"name": "issue_comments", "endpoint": _COMMENTS_OF_ISSUE, "include_from_parent": ["id"]},
            ]
        },
        ("placeholder:resources@path", "include_from_parent"),
    ),
    Example(
        "resolve_via_query",
        f"{BASIC} > Define resource relationships > Via query string parameters",
        "resources",
        {
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "endpoint": {"path": "comments", "params": {"post_id": "{resources.posts.id}"}},
                },
            ]
        },
        ("placeholder:resources@params", "shorthand:resource_str"),
    ),
    Example(
        "resolve_via_json_body",
        f"{BASIC} > Define resource relationships > Via JSON body",
        "resources",
        {
            "resources": [
                "posts",
                {
                    "name": "post_details",
                    "endpoint": {
                        "path": "search",
                        "method": "POST",
                        "json": {"filters": {"id": "{resources.posts.id}"}, "order": "desc", "limit": 5},
                    },
                },
            ]
        },
        ("placeholder:resources@json", "method:post", "body:json", "shorthand:resource_str"),
    ),
    Example(
        "escaped_braces_json",
        f"{BASIC} > Via JSON body > Escaping curly braces (GraphQL)",
        "endpoint",
        {"json": {"query": _GRAPHQL}},
        ("escape_braces", "placeholder:resources@json", "body:json", "endpoint:no_path"),
        context=("artist_list",),
        resource_name="artist",
    ),
    Example(
        "escaped_braces_params",
        f"{BASIC} > Via JSON body > Escaping curly braces (query string)",
        "endpoint",
        {"params": {"search": "{{'filters': [{{'id': 42}}]}}"}},
        ("escape_braces", "params:static"),
        resource_name="items",
    ),
    Example(
        "resolve_legacy",
        f"{BASIC} > Legacy syntax: resolve field in parameter configuration",
        "resources",
        {
            "resources": [
                {"name": "issues", "endpoint": {"path": "issues"}},
                {
                    "name": "issue_comments",
                    "endpoint": {
                        "path": "issues/{issue_number}/comments",
                        "params": {
                            "issue_number": {"type": "resolve", "resource": "issues", "field": "number"}
                        },
                    },
                    "include_from_parent": ["id"],
                },
            ]
        },
        ("resolve", "include_from_parent"),
    ),
    Example(
        "resolve_multiple_params",
        f"{BASIC} > Resolving multiple path parameters from a parent resource",
        "resources",
        {
            "resources": [
                "groups",
                {
                    "name": "users",
                    "endpoint": {
                        "path": "groups/{group_id}/users",
                        "params": {"group_id": {"type": "resolve", "resource": "groups", "field": "id"}},
                    },
                },
                {
                    "name": "user_details",
                    "endpoint": {
                        "path": "groups/{group_id}/users/{user_id}/details",
                        "params": {
                            "group_id": {"type": "resolve", "resource": "users", "field": "group_id"},
                            "user_id": {"type": "resolve", "resource": "users", "field": "id"},
                        },
                    },
                },
            ]
        },
        ("resolve", "resolve:multiple", "resolve:grandchild", "shorthand:resource_str"),
    ),
    Example(
        "include_from_parent",
        f"{BASIC} > Include fields from the parent resource",
        "resource",
        {
            "name": "issue_comments",
            "endpoint": _COMMENTS_OF_ISSUE,
            "include_from_parent": ["id", "title", "created_at"],
        },
        ("include_from_parent", "placeholder:resources@path"),
        notes="the doc elides the endpoint (`...`); it is the section's issue_comments endpoint.",
        context=({"name": "issues", "endpoint": {"path": "issues"}},),
    ),
    Example(
        "parallelized_dependent",
        f"{BASIC} > Parallelize dependent resource fetching",
        "resource",
        {
            "name": "issue_comments",
            "parallelized": True,
            "endpoint": _COMMENTS_OF_ISSUE,
            "include_from_parent": ["id"],
        },
        ("parallelized", "placeholder:resources@path", "include_from_parent"),
        context=({"name": "issues", "endpoint": {"path": "issues"}},),
    ),
    Example(
        "incremental_placeholder_params",
        f"{BASIC} > Incremental loading > Using placeholders",
        "endpoint",
        {
            "path": "posts",
            "data_selector": "results",
            "params": {"created_since": "{incremental.start_value}"},
            "incremental": _INCREMENTAL_CREATED,
        },
        ("incremental:endpoint", "placeholder:incremental@params", "data_selector"),
        resource_name="posts",
    ),
    Example(
        "incremental_placeholder_json",
        f"{BASIC} > Incremental loading > In JSON body (for POST requests)",
        "endpoint",
        {
            "path": "posts/search",
            "method": "POST",
            "json": {
                "filters": {"fromDate": "{incremental.start_value}", "toDate": "2024-03-25"},
                "limit": 1000,
            },
            "incremental": _INCREMENTAL_CREATED,
        },
        ("incremental:endpoint", "placeholder:incremental@json", "method:post", "body:json"),
        resource_name="posts",
    ),
    Example(
        "incremental_placeholder_path",
        f"{BASIC} > Incremental loading > In path parameters",
        "endpoint",
        {
            "path": "posts/since/{incremental.start_value}/list",
            "incremental": {"cursor_path": "created_at", "initial_value": "2024-01-25"},
        },
        ("incremental:endpoint", "placeholder:incremental@path"),
        resource_name="posts",
    ),
    Example(
        "incremental_placeholder_headers",
        f"{BASIC} > Incremental loading > In request headers",
        "endpoint",
        {
            "path": "posts",
            "headers": {"X-Since-Timestamp": "{incremental.start_value}"},
            "incremental": _INCREMENTAL_CREATED,
        },
        ("incremental:endpoint", "placeholder:incremental@headers", "headers:endpoint"),
        resource_name="posts",
    ),
    Example(
        "incremental_legacy_params",
        f"{BASIC} > Legacy method: Incremental loading in params (DEPRECATED)",
        "endpoint",
        {
            "path": "posts",
            "data_selector": "results",
            "params": {
                "created_since": {
                    "type": "incremental",
                    "cursor_path": "created_at",
                    "initial_value": "2024-01-25",
                }
            },
        },
        ("incremental:param", "data_selector"),
        resource_name="posts",
    ),
    Example(
        "incremental_start_param",
        f"{BASIC} > Incremental loading using the incremental field (DEPRECATED)",
        "endpoint",
        {
            "path": "posts",
            "data_selector": "results",
            "incremental": {
                "start_param": "created_since",
                "cursor_path": "created_at",
                "initial_value": "2024-01-25",
            },
        },
        ("incremental:start_param", "data_selector"),
        resource_name="posts",
    ),
]

BASIC_SKIPPED: list[Skipped] = [
    Skipped("custom_paginator_registered", f"{BASIC} > Custom paginators", "registers a Python class"),
    Skipped(
        "custom_auth_registered", f"{BASIC} > Authentication (register_auth)", "registers a Python class"
    ),
    Skipped(
        "repositories_resource",
        f"{BASIC} > Define a resource which is not a REST endpoint",
        "a @dlt.resource generator as a parent",
    ),
    Skipped(
        "processing_steps",
        f"{BASIC} > Processing steps (all five examples)",
        "filter/map/yield_map take functions",
    ),
    Skipped(
        "incremental_full",
        f"{BASIC} > Incremental loading using the incremental field (full keys)",
        "`convert: my_callable`; without it, it is valid_incremental_start_end",
    ),
    Skipped("incremental_convert", f"{BASIC} > Convert the incremental value (both examples)", "a lambda"),
]

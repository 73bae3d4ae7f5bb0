"""The configuration examples of dlt's rest_api advanced.md (RESTClient and advanced configuration).

See `configs` for the conventions. advanced.md's paginator and auth examples construct RESTClient
helpers with keyword arguments, which are exactly the keys of the dict form
(`config_setup.create_paginator` and `create_auth` pass the dict's keys as those arguments).
"""

from __future__ import annotations

from .example_model import ADVANCED, Example, Skipped

ADVANCED_EXAMPLES: list[Example] = [
    Example(
        "parallelized_dependent_posts",
        f"{ADVANCED} > Per-resource parallelization for dependent resources",
        "source",
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "parallelized": True,
                    "endpoint": {"path": "posts/{resources.posts.id}/comments"},
                },
            ],
        },
        ("parallelized", "placeholder:resources@path", "shorthand:resource_str"),
    ),
    Example(
        "client_headers",
        f"{ADVANCED} > Headers configuration > Client-level headers",
        "source",
        {
            "client": {
                "base_url": "https://api.example.com",
                "headers": {"User-Agent": "MyApp/1.0", "Accept": "application/json", "X-API-Version": "v2"},
            },
            "resources": ["posts", "comments"],
        },
        ("headers:client", "shorthand:resource_str"),
    ),
    Example(
        "endpoint_headers",
        f"{ADVANCED} > Headers configuration > Endpoint-level headers",
        "source",
        {
            "client": {"base_url": "https://api.example.com", "headers": {"User-Agent": "MyApp/1.0"}},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "headers": {
                            "Content-Type": "application/vnd.api+json",
                            "X-Custom-Header": "posts-specific-value",
                        },
                    },
                }
            ],
        },
        ("headers:client", "headers:endpoint"),
    ),
    Example(
        "headers_resource_placeholders",
        f"{ADVANCED} > Dynamic headers > Example: headers with resource data",
        "source",
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                "posts",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "posts/{resources.posts.id}/comments",
                        "headers": {
                            "X-Post-ID": "{resources.posts.id}",
                            "X-Post-Title": "{resources.posts.title}",
                        },
                    },
                },
            ],
        },
        ("placeholder:resources@headers", "placeholder:resources@path", "headers:endpoint"),
    ),
    Example(
        "headers_incremental_placeholder",
        f"{ADVANCED} > Dynamic headers > Example: headers with incremental values",
        "source",
        {
            "client": {"base_url": "https://api.example.com"},
            "resources": [
                {
                    "name": "events",
                    "endpoint": {
                        "path": "events",
                        "headers": {"X-Since-Timestamp": "{incremental.start_value}"},
                        "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z"},
                    },
                }
            ],
        },
        ("placeholder:incremental@headers", "incremental:endpoint", "headers:endpoint"),
    ),
    Example(
        "response_actions_ignore",
        f"{ADVANCED} > Response actions > Example A",
        "endpoint",
        {
            "path": "issues",
            "response_actions": [
                {"status_code": 404, "action": "ignore"},
                {"content": "Not found", "action": "ignore"},
                {"status_code": 200, "content": "some text", "action": "ignore"},
            ],
        },
        ("response_actions", "paginator:auto"),
        resource_name="issues",
    ),
    # RESTClient paginator and auth examples: the same keyword arguments as the dict form.
    Example(
        "offset_total",
        f"{ADVANCED} > OffsetPaginator",
        "paginator",
        {"type": "offset", "limit": 100, "total_path": "total"},
        ("paginator:offset",),
    ),
    Example(
        "offset_no_total",
        f"{ADVANCED} > OffsetPaginator (no total)",
        "paginator",
        {"type": "offset", "limit": 100, "total_path": None},
        ("paginator:offset", "stop:empty_page"),
    ),
    Example(
        "offset_maximum",
        f"{ADVANCED} > OffsetPaginator (maximum_offset)",
        "paginator",
        {"type": "offset", "limit": 10, "maximum_offset": 20, "total_path": None},
        ("paginator:offset", "stop:maximum"),
    ),
    Example(
        "offset_has_more",
        f"{ADVANCED} > OffsetPaginator (has_more_path)",
        "paginator",
        {"type": "offset", "limit": 10, "total_path": None, "has_more_path": "has_more"},
        ("paginator:offset", "stop:has_more"),
    ),
    Example(
        "page_number_total_pages",
        f"{ADVANCED} > PageNumberPaginator",
        "paginator",
        {"type": "page_number", "total_path": "total_pages"},
        ("paginator:page_number", "base_page:0"),
    ),
    Example(
        "page_number_no_total",
        f"{ADVANCED} > PageNumberPaginator (no total)",
        "paginator",
        {"type": "page_number", "total_path": None},
        ("paginator:page_number", "stop:empty_page"),
    ),
    Example(
        "page_number_maximum",
        f"{ADVANCED} > PageNumberPaginator (maximum_page)",
        "paginator",
        {"type": "page_number", "maximum_page": 2, "total_path": None},
        ("paginator:page_number", "stop:maximum"),
    ),
    Example(
        "page_number_has_more",
        f"{ADVANCED} > PageNumberPaginator (has_more_path)",
        "paginator",
        {"type": "page_number", "total_path": None, "has_more_path": "has_more"},
        ("paginator:page_number", "stop:has_more"),
    ),
    Example(
        "cursor_query",
        f"{ADVANCED} > JSONResponseCursorPaginator",
        "paginator",
        {"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"},
        ("paginator:cursor",),
    ),
    Example(
        "cursor_body",
        f"{ADVANCED} > JSONResponseCursorPaginator (request body)",
        "paginator",
        {"type": "cursor", "cursor_path": "nextPageToken", "cursor_body_path": "nextPageToken"},
        ("paginator:cursor", "cursor:body", "method:post", "body:json"),
        notes="used with paginate('/search', method='POST', json={'query': 'example'}).",
        resource_name="search",
        extra={"method": "POST", "json": {"query": "example"}},
    ),
    Example(
        "cursor_body_nested",
        f"{ADVANCED} > JSONResponseCursorPaginator (nested body path)",
        "paginator",
        {"type": "cursor", "cursor_path": "meta.nextToken", "cursor_body_path": "pagination.cursor"},
        ("paginator:cursor", "cursor:body_nested", "method:post", "body:json"),
        resource_name="search",
        extra={"method": "POST", "json": {"query": "example"}},
    ),
    Example(
        "header_cursor_key",
        f"{ADVANCED} > HeaderCursorPaginator",
        "paginator",
        {"type": "header_cursor", "cursor_key": "NextPageToken"},
        ("paginator:header_cursor",),
    ),
    Example(
        "api_key_header",
        f"{ADVANCED} > API key authentication",
        "auth",
        {"type": "api_key", "name": "X-API-Key", "api_key": "your_api_key_here", "location": "header"},
        ("auth:api_key",),
        notes="the doc's APIKeyAuth(name=..., api_key=..., location='header').",
    ),
    Example(
        "http_basic",
        f"{ADVANCED} > HTTP basic authentication",
        "auth",
        {"type": "http_basic", "username": "your_username", "password": "your_password"},
        ("auth:http_basic",),
        notes="the doc's HttpBasicAuth(username=..., password=...).",
    ),
]

ADVANCED_SKIPPED: list[Skipped] = [
    Skipped(
        "response_actions_callables",
        f"{ADVANCED} > Response actions > Examples B and C",
        "actions are functions",
    ),
    Skipped(
        "session_timeouts", f"{ADVANCED} > Setup timeouts and retry strategies", "a requests.Session object"
    ),
    Skipped("oauth2_zoom", f"{ADVANCED} > OAuth 2.0 authorization", "a subclass of OAuth2ClientCredentials"),
    Skipped(
        "custom_auth_class",
        f"{ADVANCED} > Implementing custom authentication",
        "a subclass of AuthConfigBase",
    ),
]

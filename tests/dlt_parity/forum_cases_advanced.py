"""advanced.md's examples (configs_advanced) mapped onto the forum API; see `forum_cases`.

The last two cases are forum-only: keys basic.md's paginator table lists (offset/limit and page
number in the JSON body) but no example shows, built on the nearest example. The page_number
examples come twice: as written (where the tap's default base_page differs from dlt's) and with
`base_page: 0` written out (where the tap must load what dlt loads). See `forum_cases_basic` for
the forum facts the mappings rely on.
"""

from __future__ import annotations

from typing import Any

from .forum_model import BASIC_AUTH, B, ForumCase, auth_case, endpoint_case, paginator_case

_IGNORE = [
    {"status_code": 404, "action": "ignore"},
    {"content": "Not found", "action": "ignore"},
    {"status_code": 200, "content": "some text", "action": "ignore"},
]

_ALL_POSTS = tuple(range(1, 231))


def _page_number_cases(
    name: str, paginator: dict[str, Any], *, dlt_ids: tuple[int, ...], tap_ids: tuple[int, ...], notes: str
) -> tuple[ForumCase, ForumCase]:
    """An example on the 0-based page0 style, which leaves `base_page` to dlt's default 0: the
    tap's default 1 starts at the second page (pinned), and with `base_page: 0` written out the
    tap loads what dlt loads (the `<name>_base_page_0` case)."""
    as_written = paginator_case(
        name,
        "page0/posts",
        paginator,
        expect="tap_differs",
        differs="base_page_1",
        differs_on="posts",
        dlt_ids=dlt_ids,
        tap_ids=tap_ids,
        notes=notes + " The tap's base_page defaults to 1: it never asks page 0.",
    )
    explicit = paginator_case(
        f"{name}_base_page_0",
        "page0/posts",
        {**paginator, "base_page": 0},
        example=name,
        shape_changes=("resources[0].endpoint.paginator.base_page",),
        notes=notes + " base_page 0 written out: the tap reads it as dlt does.",
    )
    return as_written, explicit


ADVANCED_CASES: list[ForumCase] = [
    ForumCase(
        "parallelized_dependent_posts",
        "parallelized_dependent_posts",
        {
            "client": {"base_url": f"{B}/single"},
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "parallelized": True,
                    "endpoint": {"path": f"{B}/posts/{{resources.posts.id}}/comments"},
                },
            ],
        },
        ("posts", "post_comments"),
        posts=40,
        ordered=False,
    ),
    ForumCase(
        "client_headers",
        "client_headers",
        {
            "client": {
                "base_url": B,
                "headers": {"User-Agent": "MyApp/1.0", "Accept": "application/json", "X-API-Version": "v2"},
            },
            "resources": ["users", {"name": "comments", "endpoint": "posts/1/comments"}],
        },
        ("users",),
        sent_headers={"User-Agent": "MyApp/1.0", "Accept": "application/json", "X-API-Version": "v2"},
        shape_changes=("resources[1]=str", "resources[1].name", "resources[1].endpoint"),
        notes="the forum has one bare listing (users); post 1 may have no comments: only users compare.",
    ),
    ForumCase(
        "client_headers_braces",
        "client_headers",
        {
            "client": {
                "base_url": B,
                "headers": {"User-Agent": "MyApp/1.0", "Accept": "application/json", "X-Filter": '{"v": 2}'},
            },
            "resources": ["users", {"name": "comments", "endpoint": "posts/1/comments"}],
        },
        ("users",),
        sent_headers={"X-Filter": '{"v": 2}'},
        shape_changes=("resources[1]=str", "resources[1].name", "resources[1].endpoint"),
        notes="client headers are sent as written (dlt expands no placeholder there): braces included.",
    ),
    ForumCase(
        "endpoint_headers",
        "endpoint_headers",
        {
            "client": {"base_url": B, "headers": {"User-Agent": "MyApp/1.0"}},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "single/posts",
                        "headers": {
                            "Content-Type": "application/vnd.api+json",
                            "X-Custom-Header": "posts-specific-value",
                        },
                    },
                }
            ],
        },
        ("posts",),
        sent_headers={
            "User-Agent": "MyApp/1.0",
            "Content-Type": "application/vnd.api+json",
            "X-Custom-Header": "posts-specific-value",
        },
    ),
    ForumCase(
        "headers_resource_placeholders",
        "headers_resource_placeholders",
        {
            "client": {"base_url": f"{B}/single"},
            "resources": [
                "posts",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": f"{B}/posts/{{resources.posts.id}}/comments",
                        "headers": {
                            "X-Post-ID": "{resources.posts.id}",
                            "X-Post-Title": "{resources.posts.title}",
                        },
                    },
                },
            ],
        },
        ("posts", "comments"),
        posts=40,
    ),
    ForumCase(
        "headers_incremental_placeholder",
        "headers_incremental_placeholder",
        {
            "client": {"base_url": B},
            "resources": [
                {
                    "name": "events",
                    "endpoint": {
                        "path": "single/posts",
                        "headers": {"X-Since-Timestamp": "{incremental.start_value}"},
                        "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z"},
                    },
                }
            ],
        },
        ("events",),
        sent_headers={"X-Since-Timestamp": "2024-01-01T00:00:00Z"},
    ),
    endpoint_case(
        "response_actions_ignore",
        {
            "path": "page/posts",
            "paginator": {"type": "page_number", "base_page": 1, "total_path": None},
            "response_actions": _IGNORE,
        },
        resource="issues",
        shape_changes=(
            "resources[0].endpoint.paginator",
            "resources[0].endpoint.paginator.type",
            "resources[0].endpoint.paginator.base_page",
            "resources[0].endpoint.paginator.total_path",
        ),
        notes="a page_number walk without a total ends on the forum's 404 past the last page, which the "
        "first action ignores (GitHub's Link paging, auto-detected in the example, never 404s).",
    ),
    paginator_case("offset_total", "offset/posts", {"type": "offset", "limit": 100, "total_path": "total"}),
    paginator_case(
        "offset_no_total",
        "offset/posts",
        {"type": "offset", "limit": 100, "total_path": None},
        notes="no total: dlt stops on the first empty page (offset 300).",
    ),
    paginator_case(
        "offset_maximum",
        "offset/posts",
        {"type": "offset", "limit": 10, "maximum_offset": 20, "total_path": None},
    ),
    paginator_case(
        "offset_has_more",
        "offset/posts",
        {"type": "offset", "limit": 10, "total_path": None, "has_more_path": "has_more"},
    ),
    *_page_number_cases(
        "page_number_total_pages",
        {"type": "page_number", "total_path": "total_pages"},
        dlt_ids=_ALL_POSTS,
        tap_ids=_ALL_POSTS[25:],
        notes="dlt's default base_page 0 fits the 0-based page0 style.",
    ),
    *_page_number_cases(
        "page_number_no_total",
        {"type": "page_number", "total_path": None},
        dlt_ids=_ALL_POSTS,
        tap_ids=_ALL_POSTS[25:],
        notes="no total: both end on the first empty page (page 10).",
    ),
    *_page_number_cases(
        "page_number_maximum",
        {"type": "page_number", "maximum_page": 2, "total_path": None},
        dlt_ids=_ALL_POSTS[:50],
        tap_ids=_ALL_POSTS[25:50],
        notes="maximum_page is exclusive: pages 0 and 1 for dlt, page 1 for the tap's default base.",
    ),
    paginator_case(
        "cursor_query",
        "cursor/posts",
        {"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"},
    ),
    paginator_case(
        "cursor_body",
        "search/posts",
        {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "cursor"},
        extra={"method": "POST", "json": {"query": "example", "limit": 50}},
        notes="`limit` in the body selects the search's cursor form from the first request on.",
    ),
    paginator_case(
        "header_cursor_key", "header_cursor/posts", {"type": "header_cursor", "cursor_key": "next"}
    ),
    auth_case(
        "api_key_header",
        {"type": "api_key", "name": "X-API-Key", "api_key": "{forum.api_key}", "location": "header"},
        "api_key_header",
    ),
    auth_case(
        "api_key_query",
        {"type": "api_key", "name": "api_key", "api_key": "{forum.api_key}", "location": "query"},
        "api_key_query",
        example="api_key_header",
        notes="location 'query' (basic.md's auth table) of the same example: the key goes in the URL.",
    ),
    auth_case("http_basic", BASIC_AUTH, "basic"),
    # Forum-only cases for keys the docs list in a table but show in no example.
    paginator_case(
        "offset_body_paths",
        "search/posts",
        {
            "type": "offset",
            "limit": 50,
            "offset_body_path": "paging.offset",
            "limit_body_path": "paging.limit",
            "total_path": "total",
        },
        extra={"method": "POST", "json": {"paging": {}}},
        example="offset_total",
        shape_changes=(
            "resources[0].endpoint.method",
            "resources[0].endpoint.json",
            "resources[0].endpoint.paginator.offset_body_path",
            "resources[0].endpoint.paginator.limit_body_path",
        ),
        notes="basic.md's paginator table: offset/limit in the JSON body (the search's paging form).",
    ),
    paginator_case(
        "page_body_path",
        "search/posts",
        {"type": "page_number", "base_page": 1, "page_body_path": "page", "total_path": None},
        extra={"method": "POST", "json": {"per_page": 50}},
        example="page_number_no_total",
        shape_changes=(
            "resources[0].endpoint.method",
            "resources[0].endpoint.json",
            "resources[0].endpoint.paginator.base_page",
            "resources[0].endpoint.paginator.page_body_path",
        ),
        notes="basic.md's paginator table: the page number in the JSON body; ends on an empty page.",
    ),
]

# Forum-only cases for how dlt layers client < resource_defaults < resource: every endpoint key is
# replaced whole (params and json merged one level), a paginator included.
_DEFAULTS_PAGINATOR = ("type", "limit", "maximum_offset", "total_path")
ADVANCED_CASES += [
    ForumCase(
        "defaults_paginator_replaced",
        "offset_total",
        {
            "client": {"base_url": B},
            "resource_defaults": {
                "endpoint": {
                    "paginator": {"type": "offset", "limit": 10, "maximum_offset": 20, "total_path": None}
                }
            },
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "offset/posts",
                        "paginator": {"type": "offset", "limit": 100, "total_path": "total"},
                    },
                }
            ],
        },
        ("posts",),
        shape_changes=(
            "resource_defaults",
            "resource_defaults.endpoint",
            "resource_defaults.endpoint.paginator",
            *(f"resource_defaults.endpoint.paginator.{key}" for key in _DEFAULTS_PAGINATOR),
        ),
        notes="the resource's paginator replaces the default one whole: no maximum_offset of 20.",
    ),
    ForumCase(
        "client_paginator_replaced",
        "valid_json_link_str",
        {
            "client": {"base_url": B, "paginator": {"type": "json_link", "next_url_path": "links.next"}},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "json_link/posts",
                        "params": {"page_size": 100},
                        "paginator": "json_link",
                    },
                }
            ],
        },
        ("posts",),
        shape_changes=("client.paginator", "client.paginator.type", "client.paginator.next_url_path"),
        notes="the endpoint's `json_link` is dlt's json_link with its defaults (next_url_path `next`), "
        "not the client's links.next.",
    ),
    ForumCase(
        "defaults_headers_replaced",
        "endpoint_headers",
        {
            "client": {"base_url": B, "headers": {"User-Agent": "MyApp/1.0"}},
            "resource_defaults": {"endpoint": {"headers": {"X-Default-Header": "every-resource"}}},
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "single/posts",
                        "headers": {
                            "Content-Type": "application/vnd.api+json",
                            "X-Custom-Header": "posts-specific-value",
                        },
                    },
                }
            ],
        },
        ("posts",),
        sent_headers={"User-Agent": "MyApp/1.0", "X-Custom-Header": "posts-specific-value"},
        unsent_headers=("X-Default-Header",),
        shape_changes=(
            "resource_defaults",
            "resource_defaults.endpoint",
            "resource_defaults.endpoint.headers",
        ),
        notes="endpoint headers replace resource_defaults' (the client's are merged under both).",
    ),
]

ADVANCED_NOT_MAPPED: dict[str, str] = {
    "page_number_has_more": "no forum page-number listing reports has_more (offset and next_cursor do)",
    "cursor_body_nested": "the forum's search reads its cursor at the body's top level only",
}

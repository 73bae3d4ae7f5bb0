"""basic.md's examples (configs_basic) mapped onto the forum API; see `forum_cases` for the rules.

Forum facts the mappings rely on (contract and sandbox): listings under /forum/<style>/posts,
`sort` must be `id` or `updated_at` on posts listings (anything else is a 400), other unknown
query parameters and body keys are ignored, posts are created from 2024-03-01 on (so dlt's
`initial_value`s of January 2024 select every post), and a string resource is its own path,
hence base URLs like "{base_url}/single" where an example lists "posts" as a string.
"""

from __future__ import annotations

from .forum_model import (
    BASIC_AUTH,
    BOUNDARY_REPEATS,
    TOKEN_AUTH,
    B,
    ForumCase,
    auth_case,
    endpoint_case,
    paginator_case,
)

_SINCE = {"type": "incremental", "cursor_path": "updated_at", "initial_value": "2024-01-25T11:21:28Z"}
_ISSUES_PARAMS = {"sort": "updated_at", "direction": "desc", "state": "open", "updated_since": _SINCE}
_UPDATED_FROM_JAN25 = {"cursor_path": "updated_at", "initial_value": "2024-01-25T00:00:00Z"}
_ISSUES = {"name": "issues", "endpoint": {"path": "single/posts"}}
_COMMENTS_OF_ISSUE = {"path": "posts/{resources.issues.id}/comments"}
_GRAPHQL = """
            query Artist {{
                artist(id: "{resources.users.id}") {{
                    id
                    name
                }}
            }}
        """

BASIC_CASES: list[ForumCase] = [
    ForumCase(
        "blog_quick_example",
        "blog_quick_example",
        {
            "client": {
                "base_url": f"{B}/json_link",
                "auth": TOKEN_AUTH,
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            "resources": [
                "posts",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": f"{B}/posts/{{resources.posts.id}}/comments",
                        "params": {"sort": "created_at"},
                    },
                },
            ],
        },
        ("posts", "comments"),
        forum_auth="bearer",
        posts=40,
        unordered=("comments",),
        notes="DRF's next link is top-level `next`; comments (no `next`) end after one page. dlt "
        "interleaves the comments of the two post pages: compared as sets.",
    ),
    ForumCase(
        "github_source",
        "github_source",
        {
            "client": {"base_url": f"{B}/header_link", "auth": TOKEN_AUTH},
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"params": {"per_page": 100}},
            },
            "resources": [
                {"name": "issues", "endpoint": {"path": "posts", "params": _ISSUES_PARAMS}},
                {
                    "name": "issue_comments",
                    "endpoint": {"path": f"{B}/posts/{{resources.issues.id}}/comments"},
                    "include_from_parent": ["id"],
                },
            ],
        },
        ("issues", "issue_comments"),
        forum_auth="bearer",
        posts=130,
        unordered=("issue_comments",),
        notes="GitHub's Link-header paging, auto-detected as dlt does; `since` is the forum's updated_since. "
        "dlt interleaves the comments of the two issue pages: compared as sets.",
    ),
    ForumCase(
        "resource_defaults",
        "resource_defaults",
        {
            "client": {"base_url": B},
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"params": {"per_page": 100}},
            },
            "resources": [
                "users",
                {
                    "name": "resource2_name",
                    "write_disposition": "append",
                    "endpoint": {"path": "offset/posts", "params": {"param1": "value1"}},
                },
            ],
        },
        ("users", "resource2_name"),
        shape_changes=("resources[1].endpoint.path",),
        sent_query={"per_page": "100"},
        expect="tap_differs",
        differs="unread_paging_fails",
        differs_on="resource2_name",
        dlt_ids=tuple(range(1, 26)),
        tap_failure=r"shows paging \(`total` is 230 for 25 records; `has_more` is True\) but no "
        r"paginator rule matches it",
        notes="no paginator: dlt detects none on the offset style and loads its first page only (25 "
        "of 230, with a warning); the tap refuses that page. users (synced first) is the same.",
    ),
    ForumCase(
        "resource_auth_override",
        "resource_auth_override",
        {
            "client": {"base_url": B, "auth": {"type": "bearer", "token": "{forum.token}"}},
            "resources": [
                "users",
                {
                    "name": "my-resource-with-special-auth",
                    "write_disposition": "merge",
                    "table_name": "my_custom_table",
                    "endpoint": {"path": "users", "auth": BASIC_AUTH},
                },
            ],
        },
        ("users",),
        forum_auth="bearer",
        expect="both_fail",
        failure="401 Client Error",
        shape_changes=("resources[1].endpoint.path",),
        notes="the forum takes one auth mode: the endpoint's basic auth must replace the client's bearer "
        "token and so be refused; a tap that kept the bearer token would load the resource.",
    ),
    endpoint_case(
        "endpoint_quick_example",
        {"path": "json_link/posts", "method": "GET", "params": _ISSUES_PARAMS, "data_selector": "results"},
        resource="issues",
    ),
    paginator_case(
        "json_link_next_url_path",
        "json_link_relative/posts",
        {"type": "json_link", "next_url_path": "links.next"},
        notes="a relative next link, joined to the request URL by dlt.",
    ),
    paginator_case(
        "json_link_escaped_path",
        "odata/posts",
        {"type": "json_link", "next_url_path": "['@odata.nextLink']"},
        resource="users",
    ),
    ForumCase(
        "single_entity_override",
        "single_entity_override",
        {
            "client": {"base_url": B},
            "resources": [
                "users",
                {
                    "name": "user_details",
                    "endpoint": {
                        "path": "users/{resources.users.id}",
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                    },
                },
            ],
        },
        ("users", "user_details"),
        notes="a single-entity path with an explicit paginator: dlt keeps the paginator, selects '$'.",
    ),
    ForumCase(
        "single_entity_static",
        "single_entity_override",
        {
            "client": {"base_url": B},
            "resources": [
                "users",
                {
                    "name": "user_details",
                    "endpoint": {
                        "path": "posts/{post_id}",
                        "params": {"post_id": 7},
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                    },
                },
            ],
        },
        ("users", "user_details"),
        shape_changes=("resources[1].endpoint.params",),
        notes="the example without its parent (a static path param): a post, which holds lists "
        "(tags), is one record because a single-entity path selects '$' unless data_selector is set.",
    ),
    endpoint_case(
        "data_selector_key",
        {"path": "cursor/posts", "data_selector": "items"},
        notes="no paginator: dlt auto-detects a cursor at cursors.next (param `cursor`).",
    ),
    endpoint_case("data_selector_nested", {"path": "wrapped_single/posts", "data_selector": "data.posts"}),
    auth_case("auth_bearer", {"type": "bearer", "token": "{forum.token}"}, "bearer"),
    auth_case("auth_bearer_shorthand", TOKEN_AUTH, "bearer"),
    ForumCase(
        "resolve_via_path",
        "resolve_via_path",
        {
            "client": {"base_url": B},
            "resources": [
                _ISSUES,
                {"name": "issue_comments", "endpoint": _COMMENTS_OF_ISSUE, "include_from_parent": ["id"]},
            ],
        },
        ("issues", "issue_comments"),
        posts=40,
    ),
    ForumCase(
        "resolve_via_query",
        "resolve_via_query",
        {
            "client": {"base_url": B},
            "resources": [
                "users",
                {
                    "name": "post_comments",
                    "endpoint": {
                        "path": "offset/posts",
                        "params": {"id_after": "{resources.users.id}"},
                        "paginator": "single_page",
                    },
                },
            ],
        },
        ("users", "post_comments"),
        shape_changes=("resources[1].endpoint.paginator",),
        notes="the forum has no child listing by query param; id_after=<user id> is one, its first "
        "page each (`single_page` said outright: without it the tap refuses the unread paging, "
        "see unread_paging_fails).",
    ),
    ForumCase(
        "resolve_via_json_body",
        "resolve_via_json_body",
        {
            "client": {"base_url": f"{B}/single"},
            "resources": [
                "posts",
                {
                    "name": "post_details",
                    "endpoint": {
                        "path": f"{B}/search/posts",
                        "method": "POST",
                        "json": {
                            "filter": {"tags": "{resources.posts.tags}"},
                            "order": "desc",
                            "per_page": 5,
                        },
                        "paginator": "single_page",
                    },
                },
            ],
        },
        ("posts", "post_details"),
        posts=40,
        shape_changes=("resources[1].endpoint.paginator",),
        notes="first page each, `single_page` said outright (see resolve_via_query). "
        "A lone placeholder in a JSON body keeps the parent value's type: tags stay a list. "
        "`limit` is the forum's `per_page` (with `limit` alone the body is the cursor form).",
    ),
    ForumCase(
        "escaped_braces_json",
        "escaped_braces_json",
        {
            "client": {"base_url": B},
            "resources": [
                "users",
                {"name": "artist", "endpoint": {"path": "single/posts", "json": {"query": _GRAPHQL}}},
            ],
        },
        ("users", "artist"),
        posts=40,
        shape_changes=("resources[1].endpoint.path",),
        notes="GET with a JSON body the forum ignores: compares records only (bodies are not logged).",
    ),
    endpoint_case(
        "escaped_braces_params",
        {"path": "offset/posts", "params": {"search": "{{'filters': [{{'id': 42}}]}}"}},
        sent_query={"search": "{'filters': [{'id': 42}]}"},
        shape_changes=("resources[0].endpoint.path",),
        expect="tap_differs",
        differs="unread_paging_fails",
        differs_on="posts",
        dlt_ids=tuple(range(1, 26)),
        tap_failure=r"no paginator rule matches it",
        notes="the braces reach the query on both sides (sent_query); without a paginator dlt reads "
        "the offset style's first page only, the tap refuses it.",
    ),
    ForumCase(
        "resolve_legacy",
        "resolve_legacy",
        {
            "client": {"base_url": B},
            "resources": [
                _ISSUES,
                {
                    "name": "issue_comments",
                    "endpoint": {
                        "path": "posts/{issue_number}/comments",
                        "params": {"issue_number": {"type": "resolve", "resource": "issues", "field": "id"}},
                    },
                    "include_from_parent": ["id"],
                },
            ],
        },
        ("issues", "issue_comments"),
        posts=40,
    ),
    ForumCase(
        "resolve_multiple_params",
        "resolve_multiple_params",
        {
            "client": {"base_url": f"{B}/single"},
            "resources": [
                "posts",
                {
                    "name": "users",
                    "endpoint": {
                        "path": f"{B}/posts/{{group_id}}/comments",
                        "params": {"group_id": {"type": "resolve", "resource": "posts", "field": "id"}},
                    },
                },
                {
                    "name": "user_details",
                    "endpoint": {
                        "path": f"{B}/posts/{{group_id}}/comments/{{user_id}}/reactions",
                        "params": {
                            "group_id": {"type": "resolve", "resource": "users", "field": "post_id"},
                            "user_id": {"type": "resolve", "resource": "users", "field": "id"},
                        },
                    },
                },
            ],
        },
        ("posts", "users", "user_details"),
        posts=30,
        unordered=("user_details",),
        notes="groups/users/details are posts/comments/reactions: a grandchild with two resolved params. "
        "dlt interleaves the reactions of different comment pages: compared as sets.",
    ),
    ForumCase(
        "include_from_parent",
        "include_from_parent",
        {
            "client": {"base_url": B},
            "resources": [
                _ISSUES,
                {
                    "name": "issue_comments",
                    "endpoint": _COMMENTS_OF_ISSUE,
                    "include_from_parent": ["id", "title", "created_at"],
                },
            ],
        },
        ("issues", "issue_comments"),
        posts=40,
    ),
    ForumCase(
        "parallelized_dependent",
        "parallelized_dependent",
        {
            "client": {"base_url": B},
            "resources": [
                _ISSUES,
                {
                    "name": "issue_comments",
                    "parallelized": True,
                    "endpoint": _COMMENTS_OF_ISSUE,
                    "include_from_parent": ["id"],
                },
            ],
        },
        ("issues", "issue_comments"),
        posts=40,
        ordered=False,
        notes="parallel children arrive in any order: compared as sets (comment ids are unique).",
    ),
    endpoint_case(
        "incremental_placeholder_params",
        {
            "path": "json_link/posts",
            "data_selector": "results",
            "params": {"updated_since": "{incremental.start_value}"},
            "incremental": _UPDATED_FROM_JAN25,
        },
        second_run=True,
        boundary_repeats=BOUNDARY_REPEATS,
    ),
    endpoint_case(
        "incremental_placeholder_json",
        {
            "path": "search/posts",
            "method": "POST",
            "json": {
                "filter": {"updated_since": "{incremental.start_value}", "updated_until": "2024-03-04"},
                "per_page": 1000,
            },
            "incremental": _UPDATED_FROM_JAN25,
        },
        notes="fromDate/toDate are the forum's filter.updated_since/updated_until; `limit` its `per_page`. "
        "The forum caps a page at 100 records, so toDate is a date inside the data (the posts of "
        "Mar 1-3, fewer than 100): the example's one page holds every record, as it does for the API "
        "it was written for (with all 230 posts dlt would load the first 100 only, the tap refuse).",
    ),
    endpoint_case(
        "incremental_placeholder_path",
        {
            "path": "posts_by_user/{incremental.start_value}",
            "incremental": {"cursor_path": "user_id", "initial_value": 3},
        },
        notes="the forum's only path with a value is a user id: the cursor is user_id (a number). "
        "The placeholder ends the path, so dlt treats it as a single entity ('$', one page).",
    ),
    endpoint_case(
        "incremental_placeholder_headers",
        {
            "path": "single/posts",
            "headers": {"X-Since-Timestamp": "{incremental.start_value}"},
            "incremental": _UPDATED_FROM_JAN25,
        },
        sent_headers={"X-Since-Timestamp": "2024-01-25T00:00:00Z"},
    ),
    endpoint_case(
        "incremental_legacy_params",
        {
            "path": "json_link/posts",
            "data_selector": "results",
            "params": {
                "updated_since": {
                    "type": "incremental",
                    "cursor_path": "updated_at",
                    "initial_value": "2024-01-25",
                }
            },
        },
        second_run=True,
        boundary_repeats=BOUNDARY_REPEATS,
    ),
    endpoint_case(
        "incremental_start_param",
        {
            "path": "json_link/posts",
            "data_selector": "results",
            "incremental": {
                "start_param": "updated_since",
                "cursor_path": "updated_at",
                "initial_value": "2024-01-25",
            },
        },
        second_run=True,
        boundary_repeats=BOUNDARY_REPEATS,
    ),
]

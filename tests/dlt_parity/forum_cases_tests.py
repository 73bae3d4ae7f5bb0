"""dlt's test configurations (configs_tests) mapped onto the forum API; see `forum_cases`."""

from __future__ import annotations

from .forum_model import BASIC_AUTH, BOUNDARY_REPEATS, TOKEN_AUTH, B, ForumCase, auth_case, paginator_case

_COMMENTS = {"name": "post_comments", "endpoint": {"path": f"{B}/posts/{{resources.posts.id}}/comments"}}
_SINCE = {"type": "incremental", "cursor_path": "updated_at", "initial_value": "2024-01-25T11:21:28Z"}
_RESOLVE_POST = {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}}
_SINGLE = {"base_url": f"{B}/single"}
_LIMIT_1000 = {"endpoint": {"params": {"limit": 1000}}}
#: The comment count of posts 1..40 (the forum's deterministic data): dlt's `total` per listing.
_COMMENT_TOTALS = (3, 0, 4, 3, 4, 0, 0, 2, 3, 0, 0, 2, 3, 4, 2, 1, 2, 2, 2, 0,
                   2, 0, 2, 2, 1, 2, 4, 0, 4, 4, 2, 3, 3, 3, 4, 0, 3, 3, 4, 1)


def _posts(name: str, endpoint: dict, **kw: object) -> ForumCase:
    """One resource `posts` under the bare base URL."""
    config = {"client": {"base_url": B}, "resources": [{"name": "posts", "endpoint": endpoint}]}
    return ForumCase(name, name, config, ("posts",), **kw)  # type: ignore[arg-type]


TEST_CASES: list[ForumCase] = [
    ForumCase(
        "valid_resolve_field",
        "valid_resolve_field",
        {
            "client": _SINGLE,
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "endpoint": {"path": f"{B}/posts/{{post_id}}/comments", "params": _RESOLVE_POST},
                },
            ],
        },
        ("posts", "post_comments"),
        posts=40,
    ),
    ForumCase(
        "valid_resource_reference",
        "valid_resource_reference",
        {"client": _SINGLE, "resources": ["posts", _COMMENTS]},
        ("posts", "post_comments"),
        posts=40,
    ),
    ForumCase(
        "valid_endpoint_str",
        "valid_endpoint_str",
        {
            "client": _SINGLE,
            "resources": [
                "posts",
                {"name": "post_comments", "endpoint": f"{B}/posts/{{resources.posts.id}}/comments"},
            ],
        },
        ("posts", "post_comments"),
        posts=40,
    ),
    ForumCase(
        "valid_endpoint_str_static",
        "valid_endpoint_str",
        {
            "client": _SINGLE,
            "resources": ["posts", {"name": "post_comments", "endpoint": f"{B}/posts/3/comments"}],
        },
        ("posts", "post_comments"),
        posts=40,
        notes="the example with the parent's id written in: an endpoint given as an absolute URL string.",
    ),
    _posts(
        "valid_json_link_str",
        {"path": "json_link/posts", "params": {"page_size": 100}, "paginator": "json_link"},
        notes="`limit` is DRF's `page_size`.",
    ),
    _posts("valid_single_page", {"path": "offset/posts", "params": {"limit": 1}, "paginator": "single_page"}),
    ForumCase(
        "valid_bearer",
        "valid_bearer",
        {
            "client": {"base_url": B, "auth": {"type": "bearer", "token": "{forum.token}"}},
            "resources": ["users"],
        },
        ("users",),
        forum_auth="bearer",
    ),
    ForumCase(
        "valid_bearer_shorthand",
        "valid_bearer_shorthand",
        {"client": {"base_url": B, "auth": TOKEN_AUTH}, "resources": ["users"]},
        ("users",),
        forum_auth="bearer",
    ),
    ForumCase(
        "valid_header_link_basic",
        "valid_header_link_basic",
        {
            "client": {"base_url": f"{B}/header_link", "paginator": "header_link", "auth": BASIC_AUTH},
            "resources": ["posts"],
        },
        ("posts",),
        forum_auth="basic",
        notes="`users` is `posts` under header_link, so the Link header pages.",
    ),
    _posts(
        "valid_incremental_param",
        {
            "path": "json_link/posts",
            "paginator": "json_link",
            "params": {"page_size": 100, "updated_since": _SINCE},
        },
        second_run=True,
        boundary_repeats=BOUNDARY_REPEATS,
    ),
    _posts(
        "valid_incremental_start_end",
        {
            "path": "json_link/posts",
            "params": {"page_size": 100},
            "paginator": "json_link",
            "incremental": {
                "start_param": "updated_since",
                "end_param": "updated_until",
                "cursor_path": "updated_at",
                "initial_value": "2024-01-25T11:21:28Z",
            },
        },
        second_run=True,
        boundary_repeats=BOUNDARY_REPEATS,
        notes="no end_value: dlt sends no updated_until (a None param is dropped).",
    ),
    ForumCase(
        "valid_client_headers_names",
        "valid_client_headers_names",
        {
            "client": {"base_url": B, "headers": {"X-Test-Header": "test42"}},
            "resources": [
                "users",
                {"name": "users_2", "endpoint": "users"},
                {"name": "users_list", "endpoint": "users"},
            ],
        },
        ("users", "users_2", "users_list"),
        sent_headers={"X-Test-Header": "test42"},
        shape_changes=("resources[1].endpoint",),
        notes="the forum has one bare listing, so users_2 names its endpoint (dlt: path = name).",
    ),
    ForumCase(
        "valid_static_path_params",
        "valid_static_path_params",
        {
            "client": {"base_url": B},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {"path": "{org}/{repo}", "params": {"org": "single", "repo": "posts"}},
                },
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "{org}/{id}/{repo}",
                        "params": {
                            "org": "posts",
                            "repo": "comments",
                            "id": {"type": "resolve", "resource": "issues", "field": "id"},
                        },
                    },
                },
            ],
        },
        ("issues", "comments"),
        posts=40,
        expect="tap_differs",
        differs="primary_key_id",
        differs_on="comments",
        key="total",
        dlt_ids=_COMMENT_TOTALS,
        tap_failure=r"stream comments: a record from \S+/posts/1/comments has no 'id' \(its primary key\)",
        notes="static params bound into the path by dlt before the resolved one. dlt judges a single "
        "entity on the path as written: `{org}/{id}/{repo}` ends in a placeholder, so each post's "
        "comment listing ({data, total}) is one record, without the tap's default key `id` (see "
        "valid_static_path_params_static, which runs today).",
    ),
    ForumCase(
        "valid_static_path_params_static",
        "valid_static_path_params",
        {
            "client": {"base_url": B},
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {"path": "{org}/{repo}", "params": {"org": "single", "repo": "posts"}},
                },
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "{org}/{id}/{repo}",
                        "params": {"org": "posts", "repo": "comments", "id": 3},
                    },
                },
            ],
        },
        ("issues", "comments"),
        posts=40,
        shape_changes=(
            "resources[1].endpoint.params.*.type",
            "resources[1].endpoint.params.*.resource",
            "resources[1].endpoint.params.*.field",
        ),
        expect="tap_differs",
        differs="primary_key_id",
        differs_on="comments",
        key="total",
        dlt_ids=(4,),
        tap_failure=r"stream comments: a record from \S+/posts/3/comments has no 'id' \(its primary key\)",
        notes="the example with the parent's id written in. dlt judges a single entity on the path as "
        "written, before binding: `{org}/{id}/{repo}` ends in a placeholder, so comments select '$' "
        "and dlt loads the listing's body ({data, total: 4}) as one record. The tap reads it the same "
        "way, and that record has no `id`, the tap's default primary key; issues are the same.",
    ),
    ForumCase(
        "valid_endpoint_basic",
        "valid_endpoint_basic",
        {
            "client": {"base_url": B},
            "resources": [{"name": "issues", "endpoint": {"path": "users", "auth": BASIC_AUTH}}],
        },
        ("issues",),
        forum_auth="basic",
    ),
    paginator_case("ptype_auto", "json_link/posts", {"type": "auto"}, notes="detected as DRF's `next` link."),
    paginator_case("ptype_single_page", "single/posts", {"type": "single_page"}),
    paginator_case(
        "ptype_page_number",
        "page/posts",
        {"type": "page_number", "page": 10, "base_page": 1, "total_path": "total_pages"},
        notes="starts at page 10 of 10: the last 5 posts.",
    ),
    paginator_case("ptype_offset", "offset/posts", {"type": "offset", "limit": 100, "maximum_offset": 1000}),
    paginator_case(
        "ptype_header_link", "header_link/posts", {"type": "header_link", "links_next_key": "next"}
    ),
    paginator_case(
        "ptype_header_cursor",
        "header_cursor/posts",
        {"type": "header_cursor", "cursor_key": "next", "cursor_param": "cursor"},
    ),
    paginator_case(
        "ptype_json_link", "json_link_relative/posts", {"type": "json_link", "next_url_path": "links.next"}
    ),
    paginator_case("ptype_cursor", "cursor/posts", {"type": "cursor", "cursor_param": "cursor"}),
    paginator_case(
        "auto_page_number_quirk",
        "page/posts",
        {"type": "auto"},
        example="ptype_auto",
        expect="dlt_quirk",
        dlt_ids=(*range(1, 26), *range(1, 226)),
        notes="dlt's detector finds total_pages and builds PageNumberPaginator(base_page=0) after the "
        "first (1-based) page: it asks page=1 again, then 2..9, and never the last page (230 posts "
        "load as 250 rows). Measured with dlt 1.31 against a stand-in of the page style.",
    ),
    auth_case("atype_bearer", {"type": "bearer", "token": "{forum.token}"}, "bearer"),
    auth_case(
        "atype_api_key_cookie",
        {"type": "api_key", "location": "cookie", "name": "session_key", "api_key": "{forum.api_key}"},
        "api_key_cookie",
        expect="dlt_fails",
        failure="NotImplementedError",
        shape_changes=("client.auth.name", "client.auth.api_key"),
        notes="dlt's APIKeyAuth raises NotImplementedError for location 'cookie'.",
    ),
    auth_case(
        "atype_http_basic",
        {"type": "http_basic", "username": "{forum.username}", "password": "{forum.password}"},
        "basic",
        shape_changes=("client.auth.password",),
    ),
    auth_case(
        "atype_oauth2",
        {
            "type": "oauth2_client_credentials",
            "access_token_url": f"{B}/oauth/token",
            "access_token_request_data": {"foo": "bar"},
            "default_token_expiration": 60,
            "client_id": "{forum.client_id}",
            "client_secret": "{forum.client_secret}",
        },
        "oauth2",
        shape_changes=("client.auth.client_id", "client.auth.client_secret"),
    ),
    _posts(
        "pokemon_config_provider",
        {
            "path": "offset/posts",
            "paginator": "single_page",
            "data_selector": "data",
            "params": {"limit": 1000},
        },
    ),
    ForumCase(
        "pokemon_source",
        "pokemon_source",
        {
            "client": {"base_url": B},
            "resource_defaults": _LIMIT_1000,
            "resources": [
                {"name": "pokemon_list", "endpoint": "json_link/posts"},
                "users",
                {"name": "location", "endpoint": "cursor/posts"},
            ],
        },
        ("pokemon_list", "users", "location"),
        shape_changes=("resources[2]=str", "resources[2].name", "resources[2].endpoint"),
        notes="berry/location are users and the cursor style (the forum has one bare listing). "
        "PokeAPI's lists page as DRF does (count/next/previous/results), so pokemon_list is the "
        "json_link style, detected by both (`limit` is not its page size: 10 pages of 25).",
    ),
    ForumCase(
        "pokemon_dependent",
        "pokemon_dependent",
        {
            "client": {"base_url": B},
            "resource_defaults": _LIMIT_1000,
            "resources": [
                {
                    "name": "pokemon_list",
                    "selected": False,
                    "endpoint": {
                        "path": "offset/posts",
                        "paginator": "single_page",
                        "data_selector": "data",
                        "params": {"limit": 2},
                    },
                },
                {
                    "name": "pokemon",
                    "endpoint": {
                        "path": "posts/{name}",
                        "params": {"name": {"type": "resolve", "resource": "pokemon_list", "field": "id"}},
                    },
                },
            ],
        },
        ("pokemon",),
        notes="pokemon_list is not selected: neither side may emit it.",
    ),
]

TEST_NOT_MAPPED: dict[str, str] = {
    "post_form_and_raw_data": "no forum endpoint takes a form or raw body and answers data",
}

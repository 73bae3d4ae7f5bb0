"""The configurations of dlt's rest_api tests as data: source_configs.py and test_rest_api_source.py.

`valid_<n>` is VALID_CONFIGS[n] of source_configs.py; `ptype_<type>` and `atype_<type>` are its
PAGINATOR_TYPE_CONFIGS and AUTH_TYPE_CONFIGS fragments (which leave some arguments out on purpose
"to test if they are set correctly" / "to inject them from config"). See `configs` for the
conventions.
"""

from __future__ import annotations

from .example_model import SOURCE_CONFIGS, TEST_SOURCE, Example, Skipped

_API = {"base_url": "https://api.example.com"}
_GITHUB = {"base_url": "https://github.com/api/v2"}
_POKE = {"base_url": "https://pokeapi.apps.dlthub.com/api/v2/"}
_COMMENTS = {"name": "post_comments", "endpoint": {"path": "posts/{resources.posts.id}/comments"}}
_RESOLVE_POST = {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}}


def _valid(n: int) -> str:
    return f"{SOURCE_CONFIGS} VALID_CONFIGS[{n}]"


TEST_EXAMPLES: list[Example] = [
    Example(
        "valid_resolve_field",
        _valid(0),
        "source",
        {
            "client": _API,
            "resources": [
                "posts",
                {
                    "name": "post_comments",
                    "endpoint": {"path": "posts/{post_id}/comments", "params": _RESOLVE_POST},
                },
            ],
        },
        ("resolve", "shorthand:resource_str"),
    ),
    Example(
        "valid_resource_reference",
        _valid(1),
        "source",
        {"client": _API, "resources": ["posts", _COMMENTS]},
        ("placeholder:resources@path", "shorthand:resource_str"),
    ),
    Example(
        "valid_endpoint_str",
        _valid(2),
        "source",
        {
            "client": _API,
            "resources": [
                "posts",
                {"name": "post_comments", "endpoint": "posts/{resources.posts.id}/comments"},
            ],
        },
        ("shorthand:endpoint_str", "placeholder:resources@path", "shorthand:resource_str"),
    ),
    Example(
        "valid_json_link_str",
        _valid(3),
        "source",
        {
            "client": _API,
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {"path": "posts", "params": {"limit": 100}, "paginator": "json_link"},
                }
            ],
        },
        ("paginator:json_link", "shorthand:paginator_str", "params:static"),
    ),
    Example(
        "valid_single_page",
        _valid(4),
        "source",
        {
            "client": _API,
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {"path": "posts", "params": {"limit": 1}, "paginator": "single_page"},
                }
            ],
        },
        ("paginator:single_page", "shorthand:paginator_str", "params:static"),
        notes="dlt writes SinglePagePaginator(); 'single_page' maps to that class.",
    ),
    Example(
        "valid_bearer",
        _valid(5),
        "source",
        {
            "client": {"base_url": "https://example.com", "auth": {"type": "bearer", "token": "X"}},
            "resources": ["users"],
        },
        ("auth:bearer", "shorthand:resource_str"),
    ),
    Example(
        "valid_bearer_shorthand",
        _valid(6),
        "source",
        {"client": {"base_url": "https://example.com", "auth": {"token": "X"}}, "resources": ["users"]},
        ("auth:bearer_shorthand", "shorthand:resource_str"),
    ),
    Example(
        "valid_header_link_basic",
        _valid(8),
        "source",
        {
            "client": {
                "base_url": "https://example.com",
                "paginator": "header_link",
                "auth": {"type": "http_basic", "username": "my-secret", "password": ""},
            },
            "resources": ["users"],
        },
        (
            "paginator:header_link",
            "paginator@client",
            "shorthand:paginator_str",
            "auth:http_basic",
            "shorthand:resource_str",
        ),
        notes="dlt writes HttpBasicAuth('my-secret', ''): an empty password.",
    ),
    Example(
        "valid_incremental_param",
        _valid(9),
        "source",
        {
            "client": _API,
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "paginator": "json_link",
                        "params": {
                            "limit": 100,
                            "since": {
                                "type": "incremental",
                                "cursor_path": "updated_at",
                                "initial_value": "2024-01-25T11:21:28Z",
                            },
                        },
                    },
                }
            ],
        },
        ("incremental:param", "paginator:json_link", "params:static"),
    ),
    Example(
        "valid_incremental_start_end",
        _valid(10),
        "source",
        {
            "client": _API,
            "resources": [
                {
                    "name": "posts",
                    "endpoint": {
                        "path": "posts",
                        "params": {"limit": 100},
                        "paginator": "json_link",
                        "incremental": {
                            "start_param": "since",
                            "end_param": "until",
                            "cursor_path": "updated_at",
                            "initial_value": "2024-01-25T11:21:28Z",
                        },
                    },
                }
            ],
        },
        ("incremental:start_param", "incremental:end_param", "paginator:json_link"),
    ),
    Example(
        "valid_client_headers_names",
        _valid(11),
        "source",
        {
            "client": {**_API, "headers": {"X-Test-Header": "test42"}},
            "resources": ["users", {"name": "users_2"}, {"name": "users_list", "endpoint": "users_list"}],
        },
        ("headers:client", "shorthand:resource_str", "endpoint:no_path", "shorthand:endpoint_str"),
    ),
    Example(
        "valid_static_path_params",
        _valid(13),
        "source",
        {
            "client": _GITHUB,
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {"path": "{org}/{repo}/issues/", "params": {"org": "dlt-hub", "repo": "dlt"}},
                },
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "{org}/{repo}/issues/{id}/comments",
                        "params": {
                            "org": "dlt-hub",
                            "repo": "dlt",
                            "id": {"type": "resolve", "resource": "issues", "field": "id"},
                        },
                    },
                },
            ],
        },
        ("path:static_params", "resolve"),
    ),
    Example(
        "valid_endpoint_basic",
        _valid(16),
        "source",
        {
            "client": _GITHUB,
            "resources": [
                {
                    "name": "issues",
                    "endpoint": {
                        "path": "user/repos",
                        "auth": {"type": "http_basic", "username": "", "password": "BASIC_AUTH_TOKEN"},
                    },
                }
            ],
        },
        ("auth:http_basic@endpoint",),
        notes="dlt writes HttpBasicAuth('', 'BASIC_AUTH_TOKEN'): an empty username.",
    ),
    # PAGINATOR_TYPE_CONFIGS
    Example(
        "ptype_auto",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[0]",
        "paginator",
        {"type": "auto"},
        ("paginator:auto",),
    ),
    Example(
        "ptype_single_page",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[1]",
        "paginator",
        {"type": "single_page"},
        ("paginator:single_page",),
    ),
    Example(
        "ptype_page_number",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[2]",
        "paginator",
        {"type": "page_number", "page": 10, "base_page": 1, "total_path": "response.pages"},
        ("paginator:page_number", "base_page:1", "page:start"),
    ),
    Example(
        "ptype_offset",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[3]",
        "paginator",
        {"type": "offset", "limit": 100, "maximum_offset": 1000},
        ("paginator:offset", "stop:maximum"),
    ),
    Example(
        "ptype_header_link",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[4]",
        "paginator",
        {"type": "header_link", "links_next_key": "next_page"},
        ("paginator:header_link",),
    ),
    Example(
        "ptype_header_cursor",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[5]",
        "paginator",
        {"type": "header_cursor", "cursor_key": "X-Next-Cursor", "cursor_param": "cursor"},
        ("paginator:header_cursor",),
    ),
    Example(
        "ptype_json_link",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[6]",
        "paginator",
        {"type": "json_link", "next_url_path": "response.nex_page_link"},
        ("paginator:json_link",),
    ),
    Example(
        "ptype_cursor",
        f"{SOURCE_CONFIGS} PAGINATOR_TYPE_CONFIGS[7]",
        "paginator",
        {"type": "cursor", "cursor_param": "cursor"},
        ("paginator:cursor",),
    ),
    # AUTH_TYPE_CONFIGS
    Example(
        "atype_bearer",
        f"{SOURCE_CONFIGS} AUTH_TYPE_CONFIGS[0]",
        "auth",
        {"type": "bearer", "token": "token"},
        ("auth:bearer",),
    ),
    Example(
        "atype_api_key_cookie",
        f"{SOURCE_CONFIGS} AUTH_TYPE_CONFIGS[1]",
        "auth",
        {"type": "api_key", "location": "cookie"},
        ("auth:api_key", "api_key:cookie"),
        missing_secrets=("api_key",),
    ),
    Example(
        "atype_http_basic",
        f"{SOURCE_CONFIGS} AUTH_TYPE_CONFIGS[2]",
        "auth",
        {"type": "http_basic", "username": "username"},
        ("auth:http_basic",),
        missing_secrets=("password",),
    ),
    Example(
        "atype_oauth2",
        f"{SOURCE_CONFIGS} AUTH_TYPE_CONFIGS[3]",
        "auth",
        {
            "type": "oauth2_client_credentials",
            "access_token_url": "https://example.com/oauth/token",
            "access_token_request_data": {"foo": "bar"},
            "default_token_expiration": 60,
        },
        ("auth:oauth2_client_credentials",),
        missing_secrets=("client_id", "client_secret"),
    ),
    # test_rest_api_source.py
    Example(
        "pokemon_config_provider",
        f"{TEST_SOURCE} test_rest_api_config_provider",
        "source",
        {
            "client": _POKE,
            "resources": [
                {
                    "name": "pokemon_list",
                    "endpoint": {
                        "path": "pokemon",
                        "paginator": "single_page",
                        "data_selector": "results",
                        "params": {"limit": 1000},
                    },
                }
            ],
        },
        ("paginator:single_page", "data_selector", "params:static"),
        notes="dlt writes SinglePagePaginator() and sets client/resources through dlt.config.",
    ),
    Example(
        "pokemon_source",
        f"{TEST_SOURCE} test_rest_api_source",
        "source",
        {
            "client": _POKE,
            "resource_defaults": {"endpoint": {"params": {"limit": 1000}}},
            "resources": [{"name": "pokemon_list", "endpoint": "pokemon"}, "berry", "location"],
        },
        ("resource_defaults", "shorthand:endpoint_str", "shorthand:resource_str", "paginator:auto"),
    ),
    Example(
        "pokemon_dependent",
        f"{TEST_SOURCE} test_dependent_resource",
        "source",
        {
            "client": _POKE,
            "resource_defaults": {"endpoint": {"params": {"limit": 1000}}},
            "resources": [
                {
                    "name": "pokemon_list",
                    "selected": False,
                    "endpoint": {
                        "path": "pokemon",
                        "paginator": "single_page",
                        "data_selector": "results",
                        "params": {"limit": 2},
                    },
                },
                {
                    "name": "pokemon",
                    "endpoint": {
                        "path": "pokemon/{name}",
                        "params": {"name": {"type": "resolve", "resource": "pokemon_list", "field": "name"}},
                    },
                },
            ],
        },
        ("selected", "resolve", "single_entity", "resource_defaults", "paginator:single_page"),
        notes="dlt writes SinglePagePaginator().",
    ),
    Example(
        "post_form_and_raw_data",
        f"{TEST_SOURCE} test_rest_api_source_with_data_parameter",
        "source",
        {
            "client": {"base_url": "https://httpbingo.org"},
            "resources": [
                {
                    "name": "post_form_test",
                    "endpoint": {
                        "path": "post",
                        "method": "POST",
                        "paginator": "single_page",
                        "data_selector": "$",
                        "data": {"field1": "value1", "field2": "value2", "field3": "test data"},
                    },
                },
                {
                    "name": "post_raw_test",
                    "endpoint": {
                        "path": "post",
                        "method": "POST",
                        "data": "raw string data",
                        "paginator": "single_page",
                        "data_selector": "$",
                    },
                },
            ],
        },
        ("method:post", "body:data", "paginator:single_page", "data_selector"),
        notes="dlt writes SinglePagePaginator().",
    ),
]

TEST_SKIPPED: list[Skipped] = [
    Skipped(
        "valid_7",
        _valid(7),
        "CustomPaginator(), CustomOAuthAuth(), a lambda table_name, dlt.sources.incremental",
    ),
    Skipped("valid_12", _valid(12), "a lambda table_name"),
    Skipped("valid_14", _valid(14), "a @dlt.resource (repositories()) as parent"),
    Skipped("valid_15", _valid(15), "a @dlt.resource (repositories()) as parent"),
]

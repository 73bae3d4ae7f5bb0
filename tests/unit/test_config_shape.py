"""dlt's resource shorthands resolved into specs: a name alone, an endpoint string, names
with `-`, table_name, selected, client.headers and client.paginator, absolute URLs, path
placeholders and literal braces -- checked against dlt's own functions where it has one."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.sources.rest_api.config_setup import _bind_path_params, _make_endpoint_resource

from tap_analytics.config import ConfigErrors, ResourceSpec, resolve_resources, stream_name
from tap_analytics.streams import BUILTIN_STREAMS
from tap_analytics.templates import expand

CLIENT = {"base_url": "https://api.example.com", "auth": {"type": "bearer", "token": "tkn-unit-shape-7"}}


def config(*resources: Any, **top: Any) -> dict[str, Any]:
    return {"client": copy.deepcopy(CLIENT), "resources": list(resources), **top}


def specs_of(cfg: dict[str, Any]) -> dict[str, ResourceSpec]:
    return {s.name: s for s in resolve_resources(cfg, BUILTIN_STREAMS)}


def one(*resources: Any, **top: Any) -> ResourceSpec:
    (spec,) = specs_of(config(*resources, **top)).values()
    return spec


def errors_of(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources(cfg, BUILTIN_STREAMS)
    for line in caught.value.errors:
        assert "\n" not in line
    return caught.value.errors


def the_error(cfg: dict[str, Any], setting: str) -> str:
    errors = errors_of(cfg)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{setting}: "), errors
    return errors[0]


def dlt_endpoint(resource: Any) -> dict[str, Any]:
    """What dlt makes of one resource entry: its endpoint after the shorthands and the
    binding of path parameters."""
    made = _make_endpoint_resource(copy.deepcopy(resource), {})
    _bind_path_params(made)
    return dict(made["endpoint"])


# --- a resource given by name or path ------------------------------------------------------------


@pytest.mark.parametrize("entry", ["posts", {"name": "posts"}, {"name": "posts", "endpoint": {}}])
def test_a_name_alone_is_its_endpoint(entry: Any) -> None:
    spec = one(entry)
    assert (spec.name, spec.stream_name, spec.path, spec.builtin) == ("posts", "posts", "posts", None)
    assert spec.path == dlt_endpoint(entry)["path"]


def test_an_endpoint_string_is_its_path() -> None:
    entry = {"name": "posts", "endpoint": "v1/posts"}
    spec = one(entry)
    assert spec.path == "v1/posts" == dlt_endpoint(entry)["path"]
    assert spec.paginator.type == "auto"  # unset: detected from the first response, as dlt


def test_bare_names_beside_a_resource_of_the_configs_own_are_dlts_endpoints() -> None:
    """A dlt config naming `agents` and `posts` is written for its own API: `agents` is
    GET <base_url>/agents, not helpdesk's built-in (its schema would drop fields)."""
    specs = specs_of(config("agents", "posts"))
    assert (specs["agents"].builtin, specs["agents"].path) == (None, "agents")
    assert specs["posts"].builtin is None


def test_a_builtin_path_pins_the_api_for_the_bare_names_beside_it() -> None:
    specs = specs_of(config({"name": "tickets", "endpoint": {"path": "/tickets"}}, "agents", "posts"))
    assert specs["agents"].builtin is not None
    assert specs["agents"].builtin.api == "helpdesk"
    assert specs["agents"].path == "/agents"
    assert specs["posts"].builtin is None


# --- a name several APIs define -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resources", "api"),
    [
        (["organizations", "agents", "tickets"], "helpdesk"),  # the README's helpdesk example
        (["repositories", "organizations"], "devplatform"),
        (["events", "repositories"], "devplatform"),
        (["clients", "events"], "timetracking"),
        ([{"name": "events", "endpoint": {"path": "/v1/resource/events"}}, "labels"], "timetracking"),
        ([{"name": "organizations", "endpoint": {"path": "/organizations"}}, "organizations_copy"],
         "helpdesk"),
    ],
)
def test_a_shared_name_is_the_builtin_of_the_api_the_config_pins(
    resources: list[Any], api: str
) -> None:
    specs = specs_of(config(*resources))
    for name in {"events", "organizations"} & set(specs):
        builtin = specs[name].builtin
        assert builtin is not None
        assert builtin.api == api


def test_a_lone_bare_name_is_dlts_endpoint_even_where_builtins_have_it() -> None:
    """One name says nothing of the API: `{"name": "events"}` is GET <base_url>/events,
    as in dlt, never a guess between devplatform's and timetracking's built-ins."""
    for entry in ("events", {"name": "users"}):
        (spec,) = specs_of(config(entry)).values()
        assert spec.builtin is None
        assert spec.path == spec.name


def test_bare_names_of_two_apis_pin_none_and_are_all_endpoints() -> None:
    specs = specs_of(config("events", "repositories", "projects"))
    assert all(spec.builtin is None and spec.path == spec.name for spec in specs.values())


def test_a_shared_name_the_configs_api_lacks_is_that_apis_endpoint() -> None:
    # helpdesk has no `events`: it is GET <base_url>/events, never another API's built-in.
    spec = specs_of(config("agents", "events"))["events"]
    assert (spec.builtin, spec.path, spec.replication_key) == (None, "events", None)


# --- names and stream names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["posts", "user-events", "userEvents", "HTTPServer", "2fa log", "a__b", "trailing_", "v1/items",
     "Tickets", "my.table", "a+b*c@d|e"],
)
def test_stream_names_are_dlts_table_names(name: str) -> None:
    assert stream_name(name) == NamingConvention().normalize_identifier(name)


def test_a_name_with_a_dash_keeps_its_path_and_gets_a_sql_stream_name() -> None:
    spec = one({"name": "user-events"})
    assert (spec.name, spec.stream_name, spec.path) == ("user-events", "user_events", "user-events")


def test_table_name_is_the_stream_name() -> None:
    spec = one({"name": "posts", "table_name": "Blog-Posts"})
    assert (spec.name, spec.stream_name, spec.path) == ("posts", "blog_posts", "posts")


def test_two_resources_of_one_stream_name_are_an_error() -> None:
    line = the_error(config({"name": "user-events"}, {"name": "user_events"}), "resources[1] (user_events)")
    assert "'user_events'" in line
    assert "resources[0] (user-events)" in line
    assert "table_name" in line
    line = the_error(config("posts", {"name": "drafts", "table_name": "posts"}), "resources[1] (drafts)")
    assert "'posts'" in line


def test_selected_false_is_kept_on_the_spec() -> None:
    specs = specs_of(config({"name": "posts", "selected": False}, "comments"))
    assert specs["posts"].selected is False
    assert specs["comments"].selected is True


# --- client.headers and client.paginator -----------------------------------------------------------


def test_client_headers_are_merged_under_the_endpoints() -> None:
    cfg = config(
        {"name": "posts", "endpoint": {"headers": {"X-Team": "red", "X-Trace": 7}}},
        "comments",
        resource_defaults={"endpoint": {"headers": {"X-Source": "defaults", "X-Team": "green"}}},
    )
    cfg["client"]["headers"] = {"X-Team": "blue", "X-Client": "tap", "X-Version": 2}
    specs = specs_of(cfg)
    # dlt: the endpoint's headers replace resource_defaults' whole; the client's merge under both
    assert specs["posts"].headers == {"X-Team": "red", "X-Client": "tap", "X-Version": "2",
                                      "X-Trace": "7"}
    assert specs["comments"].headers == {"X-Team": "green", "X-Client": "tap", "X-Version": "2",
                                         "X-Source": "defaults"}


def test_client_paginator_is_every_resources_default() -> None:
    cfg = config("posts", {"name": "comments", "endpoint": {"paginator": {"type": "offset", "limit": 5}}})
    cfg["client"]["paginator"] = {"type": "page_number", "limit": 20}
    specs = specs_of(cfg)
    assert specs["posts"].paginator.type == "page_number"
    assert specs["posts"].paginator.options["limit"] == 20
    assert specs["comments"].paginator.type == "offset"
    assert dict(specs["comments"].paginator.options) == {"limit": 5}


def test_paginator_merge_order_builtin_client_defaults_entry() -> None:
    def limit(cfg: dict[str, Any]) -> Any:
        return specs_of(cfg)["agents"].paginator.options["limit"]

    cfg = config("agents", "tickets")
    assert limit(cfg) == 50  # the built-in
    cfg["client"]["paginator"] = {"type": "offset", "limit": 20}
    assert limit(cfg) == 20
    cfg["resource_defaults"] = {"endpoint": {"paginator": {"limit": 30}}}
    assert limit(cfg) == 30
    cfg["resources"] = [{"name": "agents", "endpoint": {"paginator": {"limit": 40}}}, "tickets"]
    assert limit(cfg) == 40


def test_a_bad_client_paginator_is_one_line_not_one_per_resource() -> None:
    cfg = config("posts", "comments")
    cfg["client"]["paginator"] = "invalid_paginator"  # dlt's INVALID_CONFIGS case
    line = the_error(cfg, "client.paginator.type")
    assert "invalid_paginator" in line


# --- paths: absolute URLs, placeholders, braces -----------------------------------------------------


def test_an_absolute_url_is_the_path() -> None:
    spec = one({"name": "posts", "endpoint": {"path": "https://other.example.com/v2/posts"}})
    assert spec.url_for("https://api.example.com/v1") == "https://other.example.com/v2/posts"
    assert one("posts").url_for("https://api.example.com/v1/") == "https://api.example.com/v1/posts"
    assert one({"name": "p", "endpoint": "/posts"}).url_for("https://a.example.com") == (
        "https://a.example.com/posts")


def test_an_absolute_url_must_be_one_credentials_may_go_to() -> None:
    cfg = config({"name": "posts", "endpoint": {"path": "http://other.example.com/posts"}})
    line = the_error(cfg, "resources[0] (posts).endpoint.path")
    assert "allow_insecure_http" in line
    spec = one({"name": "posts", "endpoint": {"path": "http://127.0.0.1:9/posts"}})
    assert spec.path == "http://127.0.0.1:9/posts"


def test_path_placeholders_are_filled_from_params_and_not_sent() -> None:
    entry = {"name": "issues", "endpoint": {"path": "{org}/{repo}/issues/",
                                            "params": {"org": "dlt-hub", "repo": "dlt", "state": "open",
                                                       "per": 5}}}
    spec = one(entry)
    theirs = dlt_endpoint(entry)
    assert spec.path == "dlt-hub/dlt/issues/" == theirs["path"]
    assert dict(spec.params) == {"state": "open", "per": 5} == theirs["params"]


def test_path_placeholders_may_come_from_resource_defaults() -> None:
    spec = one({"name": "issues", "endpoint": "{org}/issues"},
               resource_defaults={"endpoint": {"params": {"org": "acme", "limit": 10}}})
    assert (spec.path, dict(spec.params)) == ("acme/issues", {"limit": 10})


def test_doubled_braces_are_literal_braces() -> None:
    """The settings stay request templates; what is sent has single braces."""
    spec = one({"name": "w", "endpoint": {"path": "items/{{raw}}/{id}", "params": {"id": 3, "q": "{{x}}"},
                                          "headers": {"X-Filter": "{{a}}"}}})
    assert expand(spec.path, {}) == "items/{raw}/3"
    assert expand(dict(spec.params), {}) == {"q": "{x}"}
    assert expand(spec.headers["X-Filter"], {}) == "{a}"


def test_a_json_body_gets_literal_braces_too() -> None:
    spec = one({"name": "w", "endpoint": {"path": "search", "method": "POST",
                                          "json": {"query": "{{ viewer }}", "n": [1, "{{y}}"]}}})
    assert expand(spec.json, {}, preserve_type=True) == {"query": "{ viewer }", "n": [1, "{y}"]}


def test_a_last_segment_placeholder_is_a_single_object() -> None:
    entry = {"name": "me", "endpoint": {"path": "users/{id}", "params": {"id": 5}}}
    spec = one(entry)
    assert (spec.path, spec.paginator.type) == ("users/5", "single_page")
    assert dlt_endpoint(entry)["path"] == "users/5"


def test_an_unfilled_placeholder_is_an_error() -> None:
    line = the_error(config({"name": "issues", "endpoint": {"path": "{org}/{repo}/issues/"}}),
                     "resources[0] (issues).endpoint.path")
    assert "'org'" in line
    assert "endpoint.params" in line


@pytest.mark.parametrize(
    ("endpoint", "setting", "words"),
    [
        ({"path": "posts/{resources.posts.id}/comments"}, "endpoint.path", "'posts', which the config"),
        ({"path": "posts/{resources.posts}/comments"}, "endpoint.path",
         "{resources.<parent resource>.<field>}"),
        ({"path": "since/{incremental.start_value}"}, "endpoint.path", "needs endpoint.incremental"),
        ({"path": "posts/{post.id}"}, "endpoint.path", "{{"),
        ({"path": "posts/{id"}, "endpoint.path", "unmatched brace"),
        ({"path": "posts/{}"}, "endpoint.path", "names no parameter"),
        ({"path": "p", "params": {"since": "{incremental.start_value}"}}, "endpoint.params",
         "needs endpoint.incremental"),
        ({"path": "p", "params": {"q": "{x}"}}, "endpoint.params", "{{"),
        ({"path": "p", "headers": {"X-Id": "{resources.a.b}"}}, "endpoint.headers", "'a', which the config"),
        ({"path": "p", "method": "POST", "json": {"q": "{x}"}}, "endpoint.json", "{{"),
        ({"path": "p", "method": "POST", "data": "a={b"}, "endpoint.data", "unmatched brace"),
        ({"path": "posts/{post_id}/comments",
          "params": {"post_id": {"type": "resolve", "resource": "posts", "field": "id"}}},
         "endpoint.params.post_id", "'posts', which the config"),
        ({"path": "posts/comments",
          "params": {"post_id": {"type": "resolve", "resource": "w", "field": "id"}}},
         "endpoint.params.post_id", "must be bound in endpoint.path"),
        ({"path": "p", "params": {"x": {"a": 1}}}, "endpoint.params.x", "must be a value"),
    ],
)
def test_placeholders_the_tap_cannot_fill(endpoint: dict[str, Any], setting: str, words: str) -> None:
    errors = errors_of(config({"name": "w", "endpoint": endpoint}))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"resources[0] (w).{setting}")
    assert words in errors[0]


# --- dlt's incremental query parameter ---------------------------------------------------------------


def test_an_incremental_param_is_the_incremental_with_its_start_param() -> None:
    spec = one({"name": "posts", "endpoint": {"path": "posts", "params": {
        "limit": 100,
        "since": {"type": "incremental", "cursor_path": "updated_at",
                  "initial_value": "2024-01-25T11:21:28Z"},
    }}})
    assert dict(spec.params) == {"limit": 100}
    assert spec.incremental is not None
    assert (spec.incremental.cursor_path, spec.incremental.start_param, spec.incremental.initial_value) == (
        "updated_at", "since", "2024-01-25T11:21:28Z")


def test_an_incremental_param_replaces_a_builtins_incremental() -> None:
    spec = specs_of(config({"name": "users", "endpoint": {"params": {"since": {
        "type": "incremental", "cursor_path": "updated_at"}}}}, "clients"))["users"]
    assert spec.builtin is not None
    assert spec.incremental is not None
    assert spec.incremental.start_param == "since"


def test_an_incremental_param_and_an_incremental_are_one_too_many() -> None:
    entry = {"name": "posts", "endpoint": {
        "params": {"since": {"type": "incremental", "cursor_path": "updated_at"}},
        "incremental": {"cursor_path": "updated_at", "start_param": "from"}}}
    line = the_error(config(entry), "resources[0] (posts).endpoint.params")
    assert "keep one" in line
    entry = {"name": "posts", "endpoint": {"params": {
        "a": {"type": "incremental", "cursor_path": "u"}, "b": {"type": "incremental", "cursor_path": "u"}}}}
    the_error(config(entry), "resources[0] (posts).endpoint.params.b")

"""From config to ResourceSpec: precedence, built-ins, validation, the five seeds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tap_analytics.config import ConfigErrors, ResourceSpec, deep_merge
from tap_analytics.config import resolve_resources as resolve_config
from tap_analytics.retry import RetryPolicy
from tap_analytics.streams import BUILTIN_STREAMS

from .conftest import SEED_APIS, seed_config

CLIENT = {"base_url": "https://api.example.com", "auth": {"type": "bearer", "token": "tkn-unit-spec-1"}}


def resolve_resources(cfg: dict[str, Any], **options: Any) -> list[ResourceSpec]:
    """The config resolved against the tap's built-in resources, as the tap does."""
    return resolve_config(cfg, BUILTIN_STREAMS, **options)


def config(*resources: Any, **top: Any) -> dict[str, Any]:
    return {"client": copy.deepcopy(CLIENT), "resources": list(resources), **top}


def one(*resources: Any, **top: Any) -> ResourceSpec:
    specs = resolve_resources(config(*resources, **top))
    assert len(specs) == 1
    return specs[0]


def by_name(specs: list[ResourceSpec]) -> dict[str, ResourceSpec]:
    return {s.name: s for s in specs}


def errors_of(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources(cfg)
    errors = caught.value.errors
    assert errors
    for line in errors:
        assert "\n" not in line, "each error is one line"
    return errors


def single_error(cfg: dict[str, Any], setting: str) -> str:
    errors = errors_of(cfg)
    matching = [e for e in errors if setting in e]
    assert matching, f"no error names {setting!r}: {errors}"
    return matching[0]


# --- precedence ----------------------------------------------------------------------


def test_precedence_builtin_then_client_then_defaults_then_entry() -> None:
    # pages (seed 004) brings 420/429, constant 62 s, 3 retries.
    builtin_only = one_of(config("pages", "subscribers"))
    assert builtin_only.retry == RetryPolicy(
        retry_on_status_codes=frozenset({420, 429}), max_retries=3, backoff_factor=62,
        backoff="constant",
    )
    cfg = config("pages", "subscribers")
    cfg["client"]["error_handler"] = {"max_retries": 5}
    assert one_of(cfg).retry.max_retries == 5
    assert one_of(cfg).retry.retry_on_status_codes == frozenset({420, 429})  # deep merge

    cfg["resource_defaults"] = {"endpoint": {"error_handler": {"max_retries": 6, "backoff_factor": 10}}}
    spec = one_of(cfg)
    assert (spec.retry.max_retries, spec.retry.backoff_factor, spec.retry.backoff) == (6, 10, "constant")

    cfg["resources"] = [{"name": "pages", "endpoint": {"error_handler": {"max_retries": 1}}}, "subscribers"]
    spec = one_of(cfg)
    assert (spec.retry.max_retries, spec.retry.backoff_factor) == (1, 10)
    assert spec.path == "/v1/resource"


def one_of(cfg: dict[str, Any]) -> ResourceSpec:
    return resolve_resources(cfg)[0]


def test_resource_defaults_merge_deeply_under_each_entry() -> None:
    cfg = config(
        {"name": "things", "endpoint": {"path": "/things", "params": {"b": 2}}},
        {"name": "other", "endpoint": {"path": "/other", "params": {"a": 9}}, "primary_key": "uid"},
        resource_defaults={
            "primary_key": "id",
            "write_disposition": "append",
            "endpoint": {"params": {"a": 1}, "data_selector": "items",
                         "paginator": {"type": "offset", "limit": 25}},
        },
    )
    specs = by_name(resolve_resources(cfg))
    things, other = specs["things"], specs["other"]
    assert things.params == {"a": 1, "b": 2}
    assert other.params == {"a": 9}
    assert things.data_selector == "items"
    assert things.paginator.type == "offset"
    assert things.paginator.options == {"limit": 25}
    assert things.write_disposition == "append"
    assert things.primary_key == ("id",)
    assert other.primary_key == ("uid",)


def test_deep_merge_does_not_mutate_its_inputs() -> None:
    base = {"endpoint": {"params": {"a": 1}}}
    override = {"endpoint": {"params": {"b": 2}}}
    merged = deep_merge(base, override)
    assert merged == {"endpoint": {"params": {"a": 1, "b": 2}}}
    assert base == {"endpoint": {"params": {"a": 1}}}
    assert override == {"endpoint": {"params": {"b": 2}}}


def test_paginator_type_change_replaces_the_builtin_options() -> None:
    # timetracking events default: page_number with page_param/limit_param/limit
    spec = one({"name": "events", "endpoint": {"path": "/v1/resource/events",
                                               "paginator": {"type": "offset", "limit": 10}}})
    assert spec.paginator.type == "offset"
    assert dict(spec.paginator.options) == {"limit": 10}


def test_paginator_same_type_merges_options() -> None:
    spec = one_of(config({"name": "repositories", "endpoint": {"paginator": {"limit": 10}}}, "events"))
    assert spec.paginator.type == "offset"
    assert dict(spec.paginator.options) == {"limit": 10}
    spec = one({"name": "events", "endpoint": {"path": "/v1/resource/events",
                                               "paginator": {"limit": 7}}})
    assert spec.paginator.type == "page_number"
    assert spec.paginator.options["limit"] == 7
    assert spec.paginator.options["limit_param"] == "per_page"


def test_paginator_given_as_a_bare_type_name() -> None:
    spec = one({"name": "repositories", "endpoint": {"paginator": "single_page"}})
    assert spec.paginator.type == "single_page"
    assert dict(spec.paginator.options) == {}


# --- built-ins -------------------------------------------------------------------------


def test_bare_string_builtins_take_their_defaults() -> None:
    specs = by_name(resolve_resources(config("events", "repositories")))
    specs |= by_name(resolve_resources(config("agents", "tickets")))
    specs |= by_name(resolve_resources(config("projects", "clients")))
    events = specs["events"]
    assert (events.path, events.replication_key) == ("/v1/events", "timestamp")
    assert events.paginator.type == "offset"
    assert events.paginator.options["limit"] == 100
    assert events.data_selector == "data"
    assert events.primary_key == ("id",)
    assert events.write_disposition == "merge"
    assert events.retry == RetryPolicy()
    assert events.builtin is not None
    assert events.builtin.api == "devplatform"
    assert specs["repositories"].replication_key is None
    assert specs["agents"].path == "/agents"
    assert specs["agents"].paginator.options["limit"] == 50
    assert specs["projects"].paginator.options["limit"] == 1000
    assert specs["projects"].replication_key == "updated_at"


@pytest.mark.parametrize(
    ("name", "path", "api", "limit", "replication_key"),
    [
        ("organizations", "/v1/organizations", "devplatform", 100, None),
        ("organizations", "/organizations", "helpdesk", 50, None),
        ("events", "/v1/events", "devplatform", 100, "timestamp"),
        ("events", "/v1/resource/events", "timetracking", 100, "updated_at"),
    ],
)
def test_builtin_variant_is_chosen_by_path(
    name: str, path: str, api: str, limit: int, replication_key: str | None
) -> None:
    spec = one({"name": name, "endpoint": {"path": path}})
    assert spec.builtin is not None
    assert spec.builtin.api == api
    assert spec.paginator.options["limit"] == limit
    assert spec.replication_key == replication_key
    assert spec.builtin.builtin_schema()["properties"]["id"]


def test_builtin_variant_schemas_differ() -> None:
    dev = one({"name": "organizations", "endpoint": {"path": "/v1/organizations"}})
    helpdesk = one({"name": "organizations", "endpoint": {"path": "/organizations"}})
    assert dev.builtin is not None
    assert helpdesk.builtin is not None
    assert "companyName" in helpdesk.builtin.builtin_schema()["properties"]
    assert "companyName" not in dev.builtin.builtin_schema()["properties"]


def test_builtin_variant_is_found_without_a_leading_slash() -> None:
    # dlt accepts relative paths ("issues"); the timetracking variant must still be chosen.
    spec = one({"name": "events", "endpoint": {"path": "v1/resource/events"}})
    assert spec.builtin is not None
    assert spec.builtin.api == "timetracking"
    assert spec.replication_key == "updated_at"
    assert spec.paginator.type == "page_number"


def test_builtin_name_with_another_path_is_not_the_builtin() -> None:
    # The contract: only a name AND path match gets a built-in's schema and replication key.
    spec = one({"name": "events", "endpoint": {"path": "/v2/audit/events"}})
    assert spec.path == "/v2/audit/events"
    assert spec.builtin is None
    assert spec.replication_key is None


def test_inline_schema_replaces_the_builtin_schema() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"},
                                               "timestamp": {"type": "string", "format": "date-time"}}}
    spec = one({"name": "events", "endpoint": {"path": "/v1/events"}, "schema": schema})
    assert spec.schema == schema
    assert spec.builtin is None
    assert spec.replication_key == "timestamp"


def test_seed_004_retry_defaults_for_both_resources() -> None:
    specs = by_name(resolve_resources(config("pages", "subscribers")))
    for spec in specs.values():
        assert spec.retry.retry_on_status_codes == frozenset({420, 429})
        assert spec.retry.backoff == "constant"
        assert [spec.retry.wait(n) for n in (1, 2, 3)] == [62.0, 62.0, 62.0]
        assert spec.retry.max_retries == 3
    assert specs["pages"].replication_key == "updated_at"
    assert specs["subscribers"].replication_key is None


def test_constant_backoff_is_expressible_for_any_resource() -> None:
    spec = one({"name": "incidents", "endpoint": {
        "path": "/v1/incidents",
        "error_handler": {"retry_on_status_codes": [420, 429], "max_retries": 3,
                          "backoff_factor": 62, "backoff": "constant"}}})
    assert spec.retry.backoff == "constant"
    assert spec.retry.wait(3) == 62.0


def test_config_only_resource_with_incremental() -> None:
    spec = one({"name": "my_extra", "endpoint": {
        "path": "/v1/extra", "params": {"status": "all"},
        "incremental": {"cursor_path": "$.updated_at", "start_param": "updated_since",
                        "initial_value": "2024-01-01T00:00:00Z"}}})
    assert spec.builtin is None
    assert spec.schema is None
    assert spec.params == {"status": "all"}
    assert spec.replication_key == "updated_at"
    assert spec.incremental is not None
    assert spec.incremental.start_param == "updated_since"
    assert spec.incremental.initial_value == "2024-01-01T00:00:00Z"
    assert spec.paginator.type == "auto"  # no paginator: detected from the first response


def test_write_disposition_dlt_mapping_form() -> None:
    spec = one({"name": "repositories", "write_disposition": {"disposition": "replace"}})
    assert spec.write_disposition == "replace"


def test_primary_key_list() -> None:
    spec = one({"name": "x", "endpoint": {"path": "/x"}, "primary_key": ["a", "b"]})
    assert spec.primary_key == ("a", "b")


def test_token_refresh_endpoint_alias_is_accepted() -> None:
    cfg = config("tickets")
    cfg["client"]["auth"] = {"type": "oauth2", "client_id": "cid", "client_secret": "cs-unit-1",
                             "refresh_token": "rt-unit-1",
                             "token_refresh_endpoint": "https://api.example.com/oauth/token"}
    assert one_of(cfg).name == "tickets"


# --- validation: one line per problem, naming the setting ----------------------------------


def test_unknown_auth_type() -> None:
    cfg = config("repositories")
    cfg["client"]["auth"] = {"type": "digest"}
    line = single_error(cfg, "client.auth.type")
    assert "digest" in line


@pytest.mark.parametrize(
    ("auth", "missing"),
    [
        ({"type": "oauth2", "client_id": "a", "token_url": "https://x.example.com/t"}, "client_secret"),
        ({"type": "oauth2", "client_secret": "b-unit-1", "token_url": "https://x.example.com/t"},
         "client_id"),
        ({"type": "oauth2", "client_id": "a", "client_secret": "b-unit-1"}, "token_url"),
        ({"type": "bearer"}, "token"),
        ({"type": "bearer", "token": "  "}, "token"),
        ({"type": "api_key", "name": "api_key"}, "api_key"),
    ],
)
def test_missing_auth_fields(auth: dict[str, Any], missing: str) -> None:
    cfg = config("repositories")
    cfg["client"]["auth"] = auth
    line = single_error(cfg, f"client.auth.{missing}")
    assert "required" in line


def test_bad_auth_options() -> None:
    cfg = config("repositories")
    cfg["client"]["auth"] = {"type": "api_key", "api_key": "k-unit-1", "location": "body"}
    assert "header" in single_error(cfg, "client.auth.location")
    cfg["client"]["auth"] = {"type": "oauth2", "client_id": "a", "client_secret": "b-unit-1",
                             "token_url": "https://x.example.com/t", "client_auth": "jwt"}
    assert "basic" in single_error(cfg, "client.auth.client_auth")
    cfg["client"]["auth"] = {"type": "oauth2", "client_id": "a", "client_secret": "b-unit-1",
                             "token_url": "x.example.com/token"}
    assert "http" in single_error(cfg, "client.auth.token_url")


@pytest.mark.parametrize("base_url", ["api.example.com", "ftp://api.example.com", "", None, "https://"])
def test_base_url_must_be_absolute_http(base_url: Any) -> None:
    cfg = config("repositories")
    cfg["client"]["base_url"] = base_url
    assert "https://api.example.com" in single_error(cfg, "client.base_url")


def test_missing_client() -> None:
    assert any(e.startswith("client") for e in errors_of({"resources": ["events"]}))


@pytest.mark.parametrize("start_date", ["yesterday", "2024-13-01T00:00:00Z", "01/02/2024"])
def test_bad_start_date(start_date: str) -> None:
    assert start_date in single_error(config("repositories", start_date=start_date), "start_date")


def test_good_start_dates() -> None:
    for value in ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00+02:00", "2024-01-01"):
        assert one("repositories", start_date=value).name == "repositories"


@pytest.mark.parametrize("key", ["request_timeout", "max_concurrent_requests"])
@pytest.mark.parametrize("value", [0, -1, "fast", True])
def test_positive_number_settings(key: str, value: Any) -> None:
    single_error(config("repositories", **{key: value}), key)


def test_duplicate_names() -> None:
    line = single_error(config("events", {"name": "events", "endpoint": {"path": "/v1/events"}}),
                        "resources[1]")
    assert "events" in line
    assert "twice" in line


def test_bad_resource_names() -> None:
    for name in ("", "   ", None, 7):
        line = single_error(config({"name": name, "endpoint": {"path": "/x"}}), "resources[0].name")
        assert "required" in line
    errors_ = errors_of(config(42))
    assert any(e.startswith("resources[0]") for e in errors_)


def test_resources_required() -> None:
    cfg = config()
    assert any(e.startswith("resources") for e in errors_of(cfg))
    del cfg["resources"]
    assert any(e.startswith("resources") for e in errors_of(cfg))


@pytest.mark.parametrize(
    ("paginator", "setting"),
    [
        ({"type": "cursr"}, "paginator.type"),
        ({"type": "offset", "limit": 0}, "paginator.limit"),
        ({"type": "offset", "limit": "100"}, "paginator.limit"),
        ({"type": "offset", "page_param": "p"}, "paginator.page_param"),
        ({"type": "page_number", "offset_param": "o"}, "paginator.offset_param"),
        ({"type": "offset", "maximum_offset": True}, "paginator.maximum_offset"),
    ],
)
def test_bad_paginators(paginator: dict[str, Any], setting: str) -> None:
    cfg = config({"name": "widgets", "endpoint": {"path": "/w", "paginator": paginator}})
    single_error(cfg, f"resources[0] (widgets).endpoint.{setting}")


@pytest.mark.parametrize(
    ("handler", "setting"),
    [
        ({"retry_on_status_codes": "429"}, "retry_on_status_codes"),
        ({"retry_on_status_codes": [99]}, "retry_on_status_codes"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 2.5}, "max_retries"),
        ({"backoff_factor": -2}, "backoff_factor"),
        ({"backoff": "linear"}, "backoff"),
        ({"jitter": True}, "jitter"),
    ],
)
def test_bad_error_handlers(handler: dict[str, Any], setting: str) -> None:
    cfg = config({"name": "widgets", "endpoint": {"path": "/w", "error_handler": handler}})
    single_error(cfg, f"endpoint.error_handler.{setting}")
    cfg = config("repositories")
    cfg["client"]["error_handler"] = handler
    single_error(cfg, f"client.error_handler.{setting}")


@pytest.mark.parametrize(
    ("entry", "setting"),
    [
        ({"name": "w", "endpoint": {"path": "/w", "incremental": {"start_param": "since"}}},
         "incremental.cursor_path"),
        ({"name": "w", "endpoint": {"path": "/w", "incremental": {"cursor_path": "items[*].at"}}},
         "incremental.cursor_path"),
        ({"name": "w", "endpoint": {"path": "/w", "incremental": {"cursor_path": "u", "end": 1}}},
         "incremental.end"),
        ({"name": "w", "endpoint": {"path": "/w", "method": "DELETE"}}, "endpoint.method"),
        ({"name": "w", "endpoint": {"path": "/w", "params": ["a"]}}, "endpoint.params"),
        ({"name": "w", "endpoint": {"path": "/w", "data_selector": ""}}, "endpoint.data_selector"),
        ({"name": "w", "endpoint": {"path": "/w", "paht": "/x"}}, "endpoint.paht"),
        ({"name": "w", "endpoint": {"path": "/w"}, "primary_key": 5}, "primary_key"),
        ({"name": "w", "endpoint": {"path": "/w"}, "write_disposition": "upsert"}, "write_disposition"),
        ({"name": "w", "endpoint": {"path": "/w"}, "schema": {"type": "object"}}, "schema"),
        ({"name": "w", "endpoint": {"path": "/w"}, "colour": "red"}, "colour"),
    ],
)
def test_bad_resource_options(entry: dict[str, Any], setting: str) -> None:
    line = single_error(config(entry), setting)
    assert line.startswith("resources[0] (w)")


def test_cursor_path_missing_from_an_inline_schema_is_a_config_error() -> None:
    # Otherwise the SDK fails only at sync time with InvalidReplicationKeyException.
    entry = {"name": "w", "endpoint": {"path": "/w", "incremental": {"cursor_path": "modified"}},
             "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}
    line = single_error(config(entry), "endpoint.incremental.cursor_path")
    assert "modified" in line
    assert line.startswith("resources[0] (w)")


def test_all_problems_are_reported_at_once() -> None:
    cfg = config({"name": "widgets", "endpoint": {"paht": "/w"}}, "repositories", "repositories",
                 start_date="never")
    cfg["client"]["base_url"] = "api.example.com"
    errors_ = errors_of(cfg)
    assert len(errors_) == 4
    for setting in ("client.base_url", "start_date", "resources[0] (widgets).endpoint.paht",
                    "resources[2].name"):
        assert any(setting in e for e in errors_), setting


def test_secrets_are_not_echoed_in_validation_errors() -> None:
    cfg = config("repositories")
    cfg["client"]["auth"] = {"type": "oauth2", "client_id": "cid", "client_secret": "cs-VERY-secret-77",
                             "token_url": "not a url", "colour": "x"}
    joined = " ".join(errors_of(cfg))
    assert "cs-VERY-secret-77" not in joined


# --- the five seeds, as users would write them ---------------------------------------------


SEED_EXPECTATIONS: dict[str, dict[str, tuple[str, str, int, str | None]]] = {
    # name: (path, paginator type, limit, replication key)
    "devplatform": {
        "events": ("/v1/events", "offset", 100, "timestamp"),
        "organizations": ("/v1/organizations", "offset", 100, None),
        "repositories": ("/v1/repositories", "offset", 100, None),
    },
    "generic": {"resource_name": ("/v1/resource", "offset", 100, None)},
    "helpdesk": {
        "organizations": ("/organizations", "offset", 50, None),
        "agents": ("/agents", "offset", 50, None),
        "tickets": ("/tickets", "offset", 50, None),
    },
    "timetracking": {
        "events": ("/v1/resource/events", "page_number", 100, "updated_at"),
        "clients": ("/v1/resource/clients", "offset", 100, "updated_at"),
        "users": ("/v1/resource/users", "offset", 100, "updated_at"),
        "labels": ("/v1/resource/labels", "offset", 100, "updated_at"),
        "projects": ("/v1/resource/projects", "offset", 1000, "updated_at"),
    },
    "statuspage": {
        "pages": ("/v1/resource", "offset", 100, "updated_at"),
        "subscribers": ("/v1/resource/subscribers", "offset", 100, None),
    },
}

SEED_BUILTIN_API = {"devplatform": "devplatform", "generic": None, "helpdesk": "helpdesk",
                    "timetracking": "timetracking", "statuspage": "statuspage"}


@pytest.mark.parametrize("api", SEED_APIS)
def test_seed_config_resolves(api: str) -> None:
    specs = resolve_resources(seed_config(api))
    expected = SEED_EXPECTATIONS[api]
    assert [s.name for s in specs] == list(expected)
    for spec in specs:
        path, paginator, limit, replication_key = expected[spec.name]
        assert spec.path == path
        assert spec.paginator.type == paginator
        assert spec.paginator.options["limit"] == limit
        assert spec.replication_key == replication_key
        assert spec.data_selector == "data"
        assert spec.primary_key == ("id",)
        assert spec.write_disposition == "merge"
        builtin_api = SEED_BUILTIN_API[api]
        if builtin_api is None:
            assert spec.builtin is None
            assert spec.schema is None  # inferred at discovery
        else:
            assert spec.builtin is not None
            assert spec.builtin.api == builtin_api


@pytest.mark.parametrize("api", ["devplatform", "generic", "helpdesk", "timetracking"])
def test_seed_retry_policy_is_the_default(api: str) -> None:
    for spec in resolve_resources(seed_config(api)):
        assert spec.retry == RetryPolicy()
        assert [spec.retry.wait(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_seed_004_retry_policy_as_written_in_the_seed() -> None:
    # The seed's error_handler has no "backoff" key; its prose says a constant 62 s wait.
    for spec in resolve_resources(seed_config("statuspage")):
        assert spec.retry.retry_on_status_codes == frozenset({420, 429})
        assert spec.retry.max_retries == 3
        assert [spec.retry.wait(n) for n in (1, 2, 3)] == [62.0, 62.0, 62.0]


def test_seed_003_events_page_number_parameters() -> None:
    events = by_name(resolve_resources(seed_config("timetracking")))["events"]
    walk = events.paginator.new()
    assert walk.params() == {"page": 1, "per_page": 100}
    clients = by_name(resolve_resources(seed_config("timetracking")))["clients"]
    assert clients.paginator.new().params() == {"offset": 0, "limit": 100}

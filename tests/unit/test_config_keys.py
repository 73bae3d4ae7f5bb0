"""A strict config: every key at every level is acted on, refused with advice, or an
error naming the key and the closest known one -- one line each, no secret echoed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_analytics.config import ConfigErrors, ResourceSpec, resolve_resources, unknown_key_errors
from tap_analytics.config.keys import INCREMENTAL_REFUSED, RESOURCE_REFUSED
from tap_analytics.streams import BUILTIN_STREAMS

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tkn-unit-keys-SECRET-41"
CLIENT = {"base_url": "https://api.example.com", "auth": {"type": "bearer", "token": SECRET}}


def config(*resources: Any, **top: Any) -> dict[str, Any]:
    return {"client": copy.deepcopy(CLIENT), "resources": list(resources or ["agents"]), **top}


def resolve(cfg: dict[str, Any]) -> list[ResourceSpec]:
    return resolve_resources(cfg, BUILTIN_STREAMS)


def errors_of(cfg: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        resolve(cfg)
    errors = caught.value.errors
    for line in errors:
        assert "\n" not in line, "each error is one line"
        assert SECRET not in line
    return errors


def the_error(cfg: dict[str, Any], setting: str) -> str:
    """The one error line of `cfg`, which must name `setting` first."""
    errors = errors_of(cfg)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{setting}: "), errors
    return errors[0]


def endpoint(**options: Any) -> dict[str, Any]:
    return {"name": "w", "endpoint": {"path": "/w", **options}}


# --- typos: the key, and the known key it is closest to ----------------------------------------


@pytest.mark.parametrize(
    ("cfg", "setting", "closest"),
    [
        (config(max_concurent_requests=4), "max_concurent_requests", "max_concurrent_requests"),
        (config(resource_default={"primary_key": "id"}), "resource_default", "resource_defaults"),
        ({**config(), "client": {**CLIENT, "base_ulr": "https://x.example.com"}},
         "client.base_ulr", "base_url"),
        ({**config(), "client": {**CLIENT, "header": {"X-Team": "a"}}}, "client.header", "headers"),
        (config({"name": "w", "primry_key": "id"}), "resources[0] (w).primry_key", "primary_key"),
        (config({"name": "w", "tabel_name": "x"}), "resources[0] (w).tabel_name", "table_name"),
        (config(endpoint(paht="/x")), "resources[0] (w).endpoint.paht", "path"),
        (config(endpoint(data_selecter="data")), "resources[0] (w).endpoint.data_selecter",
         "data_selector"),
        (config(endpoint(incremental={"cursor_path": "updated_at", "start_parm": "since"})),
         "resources[0] (w).endpoint.incremental.start_parm", "start_param"),
        (config(endpoint(error_handler={"max_retry": 2})),
         "resources[0] (w).endpoint.error_handler.max_retry", "max_retries"),
        (config(resource_defaults={"write_dispositon": "merge"}),
         "resource_defaults.write_dispositon", "write_disposition"),
        (config(resource_defaults={"endpoint": {"parms": {"a": 1}}}),
         "resource_defaults.endpoint.parms", "params"),
    ],
)
def test_an_unknown_key_names_the_closest_known_one(
    cfg: dict[str, Any], setting: str, closest: str
) -> None:
    line = the_error(cfg, setting)
    assert f"did you mean {closest!r}?" in line


def test_a_key_close_to_nothing_lists_the_known_keys() -> None:
    line = the_error({**config(), "client": {**CLIENT, "zzz": 1}}, "client.zzz")
    assert "unknown setting" in line
    for known in ("auth", "base_url", "error_handler", "headers", "paginator"):
        assert known in line


def test_unknown_key_errors_at_the_top_level_have_no_prefix() -> None:
    assert unknown_key_errors({"strat_date": 1, "client": {}}, {"client", "start_date"}, "") == [
        "strat_date: unknown setting; did you mean 'start_date'?"
    ]
    assert unknown_key_errors({"a": 1}, {"a"}, "x") == []


def test_every_typo_of_a_config_is_reported_at_once() -> None:
    cfg = config(endpoint(paht="/x"), max_concurent_requests=4)
    cfg["client"]["base_ulr"] = "https://x.example.com"
    errors = errors_of(cfg)
    assert [e.split(":", 1)[0] for e in errors] == [
        "max_concurent_requests", "client.base_ulr", "resources[0] (w).endpoint.paht"]


# --- settings of the SDK and of Meltano stay accepted -------------------------------------------


def test_the_sdks_builtin_settings_are_accepted() -> None:
    cfg = config(
        stream_maps={"agents": {"__alias__": "people"}},
        stream_map_config={"salt": "x"},
        faker_config={"seed": 1},
        flattening_enabled=True,
        flattening_max_depth=2,
        flattening_max_key_length=60,
        flattening_separator="__",
        batch_config={"encoding": {"format": "jsonl", "compression": "gzip"},
                      "storage": {"root": "file://batches"}},
    )
    assert [s.name for s in resolve(cfg)] == ["agents"]


def test_every_setting_meltano_yml_declares_is_accepted() -> None:
    """Meltano passes the settings that have a value, and nothing else (checked with
    Meltano 4.4: `meltano invoke --dump=config` holds only those): each top-level name
    meltano.yml declares for the tap must be a key the config accepts."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-analytics")
    top_level = {setting["name"].split(".", 1)[0] for setting in tap["settings"]}
    assert {"client", "resources", "stream_maps", "batch_config"} <= top_level
    assert unknown_key_errors(dict.fromkeys(top_level), _accepted_top_level(), "") == []


def _accepted_top_level() -> frozenset[str]:
    from tap_analytics.config.client import TOP_LEVEL_KEYS  # noqa: PLC0415

    return TOP_LEVEL_KEYS


# --- dlt keys the tap does not act on: refused, saying what to use instead ----------------------


ADVICE = {
    "processing_steps": "stream_maps",
    "columns": "schema",
    "max_table_nesting": "flattening_max_depth",
    "nested_hints": "flattening_enabled",
    "merge_key": "primary_key",
    "schema_contract": "schema",
    "table_format": "target",
    "file_format": "target",
    "parent_table_name": "stream",
    "references": "target",
}


def test_every_refused_resource_key_has_advice() -> None:
    assert set(ADVICE) == set(RESOURCE_REFUSED)


@pytest.mark.parametrize("key", sorted(ADVICE))
def test_refused_resource_keys_say_what_to_use_instead(key: str) -> None:
    line = the_error(config({"name": "w", key: [{"filter": "x"}]}), f"resources[0] (w).{key}")
    assert "not supported" in line
    assert ADVICE[key] in line
    line = the_error(config(resource_defaults={key: 1}), f"resource_defaults.{key}")
    assert ADVICE[key] in line


@pytest.mark.parametrize("key", sorted(INCREMENTAL_REFUSED))
def test_refused_incremental_keys(key: str) -> None:
    cfg = config(endpoint(incremental={"cursor_path": "updated_at", key: "x"}))
    line = the_error(cfg, f"resources[0] (w).endpoint.incremental.{key}")
    assert "not supported" in line


def test_last_value_func_max_is_what_the_tap_does_and_min_is_refused() -> None:
    spec = resolve(config(endpoint(incremental={"cursor_path": "u", "last_value_func": "max"})))[0]
    assert spec.replication_key == "u"
    line = the_error(config(endpoint(incremental={"cursor_path": "u", "last_value_func": "min"})),
                     "resources[0] (w).endpoint.incremental.last_value_func")
    assert "'max'" in line


def test_client_session_is_refused() -> None:
    line = the_error({**config(), "client": {**CLIENT, "session": {}}}, "client.session")
    assert "ca_bundle" in line


@pytest.mark.parametrize(
    ("disposition", "accepted"),
    [
        ({"disposition": "merge", "strategy": "upsert"}, "merge"),
        ({"disposition": "merge", "strategy": "delete-insert"}, "merge"),
        ({"disposition": "replace", "strategy": "truncate-and-insert"}, "replace"),
        ({"disposition": "append"}, "append"),
        ({"disposition": "merge", "strategy": "scd2"}, None),
        ({"disposition": "merge", "strategy": "insert-only"}, None),
        ({"disposition": "replace", "strategy": "staging-optimized"}, None),
        ({"disposition": "append", "strategy": "upsert"}, None),
    ],
)
def test_write_disposition_strategies(disposition: dict[str, Any], accepted: str | None) -> None:
    cfg = config({"name": "w", "write_disposition": disposition})
    if accepted:
        assert resolve(cfg)[0].write_disposition == accepted
    else:
        line = the_error(cfg, "resources[0] (w).write_disposition.strategy")
        assert repr(disposition["strategy"]) in line
        assert "not supported" in line


def test_scd2_options_are_refused_one_line_each() -> None:
    cfg = config({"name": "w", "write_disposition": {
        "disposition": "merge", "strategy": "upsert", "validity_column_names": ["a", "b"]}})
    line = the_error(cfg, "resources[0] (w).write_disposition.validity_column_names")
    assert "not supported" in line


def test_resource_defaults_cannot_name_or_place_a_resource() -> None:
    errors = errors_of(config(resource_defaults={"name": "x", "endpoint": {"path": "/x"}}))
    assert [e.split(":", 1)[0] for e in errors] == [
        "resource_defaults.name", "resource_defaults.endpoint.path"]


# --- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "setting"),
    [
        ({"name": "w", "selected": "no"}, "resources[0] (w).selected"),
        ({"name": "w", "table_name": ""}, "resources[0] (w).table_name"),
        ({"name": "w", "table_name": 3}, "resources[0] (w).table_name"),
        ({"name": "w", "endpoint": 5}, "resources[0] (w).endpoint"),
        ({"name": "w", "endpoint": {"path": ""}}, "resources[0] (w).endpoint.path"),
        ({"name": "w", "endpoint": {"headers": {"X-A": ["x"]}}}, "resources[0] (w).endpoint.headers.X-A"),
        ({"name": "w", "endpoint": {"headers": "X-A: 1"}}, "resources[0] (w).endpoint.headers"),
    ],
)
def test_bad_values_of_the_resource_shape(entry: dict[str, Any], setting: str) -> None:
    the_error(config(entry), setting)


def test_bad_client_headers_do_not_echo_their_values() -> None:
    cfg = config()
    cfg["client"]["headers"] = {"Authorization": {"Bearer": SECRET}, "X-Ok": "fine"}
    line = the_error(cfg, "client.headers.Authorization")
    assert "must be a string" in line


def test_secrets_of_a_config_with_typos_are_not_echoed() -> None:
    cfg = config(endpoint(paht=SECRET))
    cfg["client"]["base_ulr"] = SECRET
    assert len(errors_of(cfg)) == 2  # errors_of asserts no line holds the secret

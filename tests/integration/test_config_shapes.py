"""dlt's resource shorthands against the sandbox, each run through the tap and through
dlt's own `rest_api_source` on the same config: the same requests' targets, the same
records.

The sandbox's statuspage API (API key in a header, offset paging with totals) serves
`/statuspage/v1/resource` and `/statuspage/v1/resource/subscribers`; with the base URL
at `/statuspage/v1` a resource named `resource` is the first by its name alone.
"""

from __future__ import annotations

import copy
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.tap import TapAnalytics

from .helpers import SyncResult, run_cli
from .helpers import run_tap as run_tap_on

RECORDS = 130
PAGES = "statuspage/pages"
SUBSCRIBERS = "statuspage/subscribers"


def base_config(srv: SandboxServer, *resources: Any, **client: Any) -> dict[str, Any]:
    """Resources of the statuspage API below its `/v1`, 40 a page by offset."""
    auth = {"type": "api_key", "name": "api_key", "api_key": srv.credentials["statuspage"]["api_key"],
            "location": "header"}
    return {
        "client": {"base_url": f"{srv.api_url('statuspage')}/v1", "auth": auth,
                   "paginator": {"type": "offset", "limit": 40}, **client},
        "resources": list(resources),
    }


def dlt_records(config: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What dlt's rest_api_source extracts for `config`, per selected resource (a pipeline
    extracts only those; nothing is loaded anywhere here)."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    from dlt.sources.rest_api import rest_api_source  # noqa: PLC0415 - a test-only dependency

    source = rest_api_source(copy.deepcopy(config))  # type: ignore[arg-type]
    return {name: [dict(r) for r in resource] for name, resource in source.selected_resources.items()}


def same_records(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    """The same records by id, equal on every field both emit (numbers as numbers)."""

    def norm(value: Any) -> Any:
        return float(value) if isinstance(value, Decimal | float) and not isinstance(value, bool) else value

    assert [r["id"] for r in ours] == [r["id"] for r in theirs]
    for mine, dlts in zip(ours, theirs, strict=True):
        common = set(mine) & set(dlts)
        assert common >= {"id", "created_at"}
        assert {k: norm(mine[k]) for k in common} == {k: norm(dlts[k]) for k in common}


def run_tap(config: dict[str, Any], **options: Any) -> SyncResult:
    """The tap on a copy of `config` (the SDK writes its defaults into the dict it gets)."""
    return run_tap_on(copy.deepcopy(config), **options)


def data_requests(srv: SandboxServer, key: str) -> list[dict[str, Any]]:
    return [e for e in srv.request_log if e["resource"] == key]


@pytest.fixture
def srv() -> Any:
    with SandboxServer(records=RECORDS) as server:
        yield server


def test_a_resource_named_alone_is_its_endpoint(srv: SandboxServer) -> None:
    config = base_config(srv, "resource")
    result = run_tap(config)
    assert result.ids("resource") == [r["id"] for r in srv.records(PAGES)]
    assert {e["path"] for e in data_requests(srv, PAGES)} == {"/statuspage/v1/resource"}
    srv.reset_log()
    same_records(result.records("resource"), dlt_records(config)["resource"])


def test_an_endpoint_string_and_a_name_with_a_dash(srv: SandboxServer) -> None:
    config = base_config(srv, {"name": "subscriber-list", "endpoint": "resource/subscribers"})
    result = run_tap(config)
    assert result.streams == {"subscriber_list"}
    assert result.ids("subscriber_list") == [r["id"] for r in srv.records(SUBSCRIBERS)]
    same_records(result.records("subscriber_list"), dlt_records(config)["subscriber-list"])


def test_an_absolute_url_as_the_path(srv: SandboxServer) -> None:
    url = f"{srv.api_url('statuspage')}/v1/resource/subscribers"
    config = base_config(srv, {"name": "subs", "endpoint": {"path": url}})
    config["client"]["base_url"] = f"{srv.api_url('statuspage')}/nothing-here"
    result = run_tap(config)
    assert len(result.records("subs")) == RECORDS
    assert {e["path"] for e in data_requests(srv, SUBSCRIBERS)} == {"/statuspage/v1/resource/subscribers"}
    same_records(result.records("subs"), dlt_records(config)["subs"])


def test_path_placeholders_are_filled_from_params_and_not_sent(srv: SandboxServer) -> None:
    # (a placeholder as the last segment would make it a single object, as in dlt)
    config = base_config(srv, {"name": "subs", "endpoint": {
        "path": "{section}/subscribers", "params": {"section": "resource", "lang": "en"}}})
    result = run_tap(config)
    assert len(result.records("subs")) == RECORDS
    requests = data_requests(srv, SUBSCRIBERS)
    assert {e["path"] for e in requests} == {"/statuspage/v1/resource/subscribers"}
    assert all(set(e["query"]) == {"lang", "offset", "limit"} for e in requests), requests[0]["query"]
    srv.reset_log()
    theirs = dlt_records(config)["subs"]
    assert all(set(e["query"]) == {"lang", "offset", "limit"} for e in data_requests(srv, SUBSCRIBERS))
    same_records(result.records("subs"), theirs)


def test_client_headers_reach_the_server_under_endpoint_headers(srv: SandboxServer) -> None:
    config = base_config(
        srv,
        "resource",
        {"name": "subs", "endpoint": {"path": "resource/subscribers", "headers": {"X-Team": "red"}}},
        headers={"X-Team": "blue", "X-Client": "tap-analytics-test"},
    )
    run_tap(config)
    pages, subs = data_requests(srv, PAGES), data_requests(srv, SUBSCRIBERS)
    assert pages
    assert subs
    assert {(e["headers"].get("X-Team"), e["headers"].get("X-Client")) for e in pages} == {
        ("blue", "tap-analytics-test")}
    assert {(e["headers"].get("X-Team"), e["headers"].get("X-Client")) for e in subs} == {
        ("red", "tap-analytics-test")}
    assert all(e["headers"].get("api_key") for e in pages + subs)  # the auth still applies
    srv.reset_log()
    dlt_records(config)
    assert {e["headers"].get("X-Team") for e in data_requests(srv, SUBSCRIBERS)} == {"red"}
    assert {e["headers"].get("X-Team") for e in data_requests(srv, PAGES)} == {"blue"}


def _catalog_entries(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    catalog = TapAnalytics(config=copy.deepcopy(config), parse_env_config=False).catalog_dict
    return {
        entry["tap_stream_id"]: next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        for entry in catalog["streams"]
    }


def test_table_name_and_selected_in_the_catalog_and_the_output(srv: SandboxServer) -> None:
    config = base_config(
        srv,
        {"name": "resource", "table_name": "Status-Pages"},
        {"name": "subs", "endpoint": "resource/subscribers", "selected": False},
    )
    entries = _catalog_entries(config)
    assert set(entries) == {"status_pages", "subs"}
    assert entries["status_pages"]["selected"] is True
    assert entries["subs"]["selected"] is False
    assert entries["subs"]["selected-by-default"] is False

    srv.reset_log()
    result = run_tap(config)  # no catalog: the discovered one
    assert result.streams == {"status_pages"}
    assert len(result.records("status_pages")) == RECORDS
    assert not result.of_type("SCHEMA", "subs")
    # only discovery's probe of its first page (its schema is inferred): no sync
    assert len(data_requests(srv, SUBSCRIBERS)) == 1

    # dlt: `subs` is not extracted, and `resource` loads into the table status_pages
    theirs = dlt_records(config)
    assert set(theirs) == {"resource"}
    same_records(result.records("status_pages"), theirs["resource"])
    assert dlt_table_name(config, "resource") == "status_pages"


def dlt_table_name(config: dict[str, Any], resource: str) -> str:
    """The table dlt loads `resource` into (its table_name, in dlt's default naming)."""
    from dlt.common.normalizers.naming.snake_case import NamingConvention  # noqa: PLC0415
    from dlt.sources.rest_api import rest_api_source  # noqa: PLC0415

    table = rest_api_source(copy.deepcopy(config)).resources[resource].table_name  # type: ignore[arg-type]
    return str(NamingConvention().normalize_table_identifier(str(table)))


def test_a_catalog_may_select_a_resource_the_config_deselects(srv: SandboxServer) -> None:
    config = base_config(srv, {"name": "subs", "endpoint": "resource/subscribers", "selected": False})
    catalog = TapAnalytics(config=copy.deepcopy(config), parse_env_config=False).catalog_dict
    for m in catalog["streams"][0]["metadata"]:
        if m["breadcrumb"] == []:
            m["metadata"]["selected"] = True
    result = run_tap(config, catalog=catalog)
    assert len(result.records("subs")) == RECORDS


def test_cli_test_mode_syncs_one_record_of_a_valid_config(srv: SandboxServer, tmp_path: Path) -> None:
    """`--test` shows validation lines for a bad config (unit tests) and still tests a good one."""
    result = run_cli(tmp_path, base_config(srv, "resource"), "--test")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(result.records("resource")) == 1

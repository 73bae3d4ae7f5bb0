"""Discovery (the real CLI), schema inference, catalog selection and the SDK's stream maps."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from singer_sdk.singerlib import Catalog

from sandbox import SandboxServer
from tap_analytics.tap import TapAnalytics

from .helpers import config_for, error_lines, run_cli, run_tap
from .seeds import APIS, REPLICATION_KEYS, STREAMS

BUILTIN_APIS = [api for api in APIS if api != "generic"]

#: Fields each seed names for its resources (the built-in schemas must have them).
SEED_FIELDS = {
    ("devplatform", "events"): {"id", "event_id", "timestamp", "event_type"},
    ("devplatform", "organizations"): {"id", "organization_id", "name", "created_at"},
    ("devplatform", "repositories"): {"id", "repository_id", "name", "created_at"},
    ("helpdesk", "organizations"): {"id", "companyName", "country", "currencyCode"},
    ("helpdesk", "agents"): {"id", "firstName", "lastName", "emailId"},
    ("helpdesk", "tickets"): {"id", "subject", "status", "createdTime"},
    ("timetracking", "events"): {"id", "name", "updated_at"},
    ("timetracking", "clients"): {"id", "name", "updated_at"},
    ("timetracking", "users"): {"id", "name", "updated_at"},
    ("timetracking", "labels"): {"id", "name", "updated_at"},
    ("timetracking", "projects"): {"id", "name", "updated_at"},
    ("statuspage", "pages"): {
        "id",
        "name",
        "activity_score",
        "allow_email_subscribers",
        "created_at",
        "updated_at",
    },
    ("statuspage", "subscribers"): {"id", "email", "created_at", "mode"},
}

SECRETS = ("client_secret", "refresh_token", "token", "api_key")


@pytest.fixture
def stopped_configs() -> dict[str, dict[str, Any]]:
    """Each seed's config pointing at a sandbox that has been stopped: no server listens."""
    srv = SandboxServer(records=1).start()
    configs = {api: config_for(srv, api) for api in APIS}
    srv.stop()
    return configs


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _discover_cli(tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    result = run_cli(tmp_path, config, "--discover")
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def _check_catalog(catalog: dict[str, Any], api: str) -> None:
    Catalog.from_dict(catalog)  # parses as a Singer catalog
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == {name for name, _, _, _ in STREAMS[api]}
    for name, entry in streams.items():
        jsonschema.Draft7Validator.check_schema(entry["schema"])
        props = entry["schema"]["properties"]
        assert entry["key_properties"] == ["id"], name
        assert "id" in props
        rk = REPLICATION_KEYS[api][name]
        assert entry.get("replication_key") == rk, f"{api}/{name}"
        assert entry.get("replication_method") == ("INCREMENTAL" if rk else "FULL_TABLE"), f"{api}/{name}"
        top = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
        assert top["table-key-properties"] == ["id"]
        if rk:
            assert top["valid-replication-keys"] == [rk]
            assert props[rk].get("format") == "date-time", f"{api}/{name}.{rk}"


@pytest.mark.parametrize("api", BUILTIN_APIS)
def test_discover_builtin_resources_without_a_server(
    tmp_path: Path, stopped_configs: dict[str, dict[str, Any]], api: str
) -> None:
    catalog = _discover_cli(tmp_path, stopped_configs[api])

    _check_catalog(catalog, api)
    for entry in catalog["streams"]:
        props = entry["schema"]["properties"]
        missing = SEED_FIELDS[(api, entry["tap_stream_id"])] - set(props)
        assert not missing, f"{api}/{entry['tap_stream_id']} lacks the seed's fields {missing}"
        assert "string" in _types(props["id"])
    if api == "devplatform":  # seed 000 leaves volatile fields out on purpose
        streams = {e["tap_stream_id"]: e["schema"]["properties"] for e in catalog["streams"]}
        assert "updated_at" not in streams["events"]
        assert "followers" not in streams["organizations"]
    if api == "statuspage":  # seed 004's types
        pages = next(e for e in catalog["streams"] if e["tap_stream_id"] == "pages")["schema"]["properties"]
        assert "number" in _types(pages["activity_score"])
        assert _types(pages["allow_email_subscribers"]) >= {"boolean", "null"}
        assert pages["created_at"].get("format") == "date-time"


@pytest.mark.parametrize("api", BUILTIN_APIS)
def test_discover_builtin_resources_without_credentials(
    tmp_path: Path, stopped_configs: dict[str, dict[str, Any]], api: str
) -> None:
    """The seed's config before its secrets are filled in (as meltano.yml ships it):
    discovery needs neither the network nor credentials for built-in resources."""
    config = copy.deepcopy(stopped_configs[api])
    auth = config["client"]["auth"]
    for key in (*SECRETS, "client_id"):
        auth.pop(key, None)

    catalog = _discover_cli(tmp_path, config)

    _check_catalog(catalog, api)


def test_generic_resource_schema_is_inferred_from_the_first_page(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    catalog = _discover_cli(tmp_path, config_for(sandbox, "generic"))

    _check_catalog(catalog, "generic")
    props = catalog["streams"][0]["schema"]["properties"]
    sample = sandbox.records("generic/resource_name")[0]
    assert set(props) == set(sample)
    assert _types(props["amount"]) == {"number", "null"}
    assert _types(props["is_active"]) == {"boolean", "null"}
    assert _types(props["name"]) == {"string", "null"}
    assert props["created_at"].get("format") == "date-time"
    assert props["updated_at"].get("format") == "date-time"
    # Discovery read one page: one token, one data request.
    assert sandbox.data_request_count("generic/resource_name") == 1
    assert sandbox.token_requests["generic"] == 1


def test_generic_discovery_without_a_server_fails_in_one_line(
    tmp_path: Path, stopped_configs: dict[str, dict[str, Any]]
) -> None:
    config = stopped_configs["generic"]

    result = run_cli(tmp_path, config, "--discover")

    assert result.returncode != 0
    assert "Traceback" not in result.stderr, "a user error is one line, not a traceback"
    assert len(error_lines(result.stderr)) >= 1
    assert config["client"]["auth"]["client_secret"] not in result.stderr


def test_inline_schema_needs_no_server(tmp_path: Path, stopped_configs: dict[str, dict[str, Any]]) -> None:
    config = copy.deepcopy(stopped_configs["generic"])
    config["resources"][0]["schema"] = {
        "type": "object",
        "properties": {"id": {"type": "string"}, "amount": {"type": ["number", "null"]}},
    }

    catalog = _discover_cli(tmp_path, config)

    assert set(catalog["streams"][0]["schema"]["properties"]) == {"id", "amount"}


# ------------------------------------------------------------------ selection
def _deselect(catalog: dict[str, Any], stream: str) -> dict[str, Any]:
    catalog = copy.deepcopy(catalog)
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == stream:
            for m in entry["metadata"]:
                if m["breadcrumb"] == []:
                    m["metadata"]["selected"] = False
    return catalog


@pytest.mark.sandbox(records=130)
def test_deselected_stream_is_not_synced(sandbox: SandboxServer) -> None:
    config = config_for(sandbox, "devplatform")
    catalog = _deselect(TapAnalytics(config=config, parse_env_config=False).catalog_dict, "organizations")

    result = run_tap(config, catalog=catalog)

    assert result.records("organizations") == []
    assert not result.of_type("SCHEMA", "organizations")
    assert sandbox.data_request_count("devplatform/organizations") == 0
    assert len(result.records("events")) == 130
    assert len(result.records("repositories")) == 130


@pytest.mark.sandbox(records=60)
def test_cli_sync_with_a_catalog_file(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = config_for(sandbox, "timetracking")
    catalog = _deselect(_discover_cli(tmp_path, config), "projects")
    catalog = _deselect(catalog, "users")

    result = run_cli(tmp_path, config, catalog=catalog)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.streams == {"events", "clients", "labels"}
    assert sandbox.data_request_count("timetracking/projects") == 0
    assert sandbox.data_request_count("timetracking/users") == 0


def test_deselected_property_is_not_emitted(sandbox: SandboxServer) -> None:
    config = config_for(sandbox, "statuspage")
    catalog = TapAnalytics(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] == "pages":
            for m in entry["metadata"]:
                if m["breadcrumb"] == ["properties", "url"]:
                    m["metadata"]["selected"] = False

    result = run_tap(config, catalog=catalog)

    assert len(result.records("pages")) == 130
    assert all("url" not in r for r in result.records("pages"))
    assert all("subdomain" in r for r in result.records("pages"))


# ------------------------------------------------------------------ stream maps
@pytest.mark.sandbox(records=30)
def test_stream_maps_transform_filter_and_remove(sandbox: SandboxServer) -> None:
    config = config_for(
        sandbox,
        "devplatform",
        stream_maps={
            "organizations": {
                "name": "name.upper()",
                "description": "__NULL__",
                "__filter__": "int(organization_id) % 2 == 0",
            },
            "repositories": None,
            "orgs_copy": {"__source__": "organizations"},
        },
    )

    result = run_tap(config)

    server = {r["id"]: r for r in sandbox.records("devplatform/organizations")}
    orgs = result.records("organizations")
    assert orgs, "some organizations pass the filter"
    assert all(int(o["organization_id"]) % 2 == 0 for o in orgs)
    assert len(orgs) == sum(1 for r in server.values() if int(r["organization_id"]) % 2 == 0)
    for org in orgs:
        assert org["name"] == server[org["id"]]["name"].upper()
        assert "description" not in org
    schema = result.of_type("SCHEMA", "organizations")[0]["schema"]
    assert "description" not in schema["properties"]
    assert "repositories" not in result.streams
    assert not result.of_type("SCHEMA", "repositories")
    assert len(result.records("orgs_copy")) == 30
    assert len(result.records("events")) == 30


@pytest.mark.sandbox(records=30)
def test_flattening(sandbox: SandboxServer) -> None:
    """The SDK's flattening: an object without declared properties (events.payload) is
    emitted as a JSON string, as `flattening_max_depth` documents."""
    config = config_for(sandbox, "devplatform", flattening_enabled=True, flattening_max_depth=1)

    result = run_tap(config)

    events = result.records("events")
    assert len(events) == 30
    server = {r["id"]: r for r in sandbox.records("devplatform/events")}
    for event in events:
        assert isinstance(event["payload"], str)
        assert json.loads(event["payload"]) == server[event["id"]]["payload"]
    schema = result.of_type("SCHEMA", "events")[0]["schema"]["properties"]
    assert "string" in _types(schema["payload"])
    unflattened = run_tap(config_for(sandbox, "devplatform"))
    assert isinstance(unflattened.records("events")[0]["payload"], dict)


# ------------------------------------------------------------------ hygiene
def test_importing_the_tap_raises_no_deprecation_warning() -> None:
    """singer-sdk 0.54 with no deprecation warnings (the issue's first requirement)."""
    proc = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import tap_analytics.tap"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]


def test_about_documents_every_setting_and_marks_secrets(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("tap-analytics")), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    about = proc.stdout
    for setting in (
        "client.base_url",
        "client.auth.client_secret",
        "client.auth.refresh_token",
        "client.auth.token",
        "client.auth.api_key",
        "resources",
        "resource_defaults",
        "start_date",
        "max_concurrent_requests",
        "stream_maps",
    ):
        assert setting in about, setting
    for setting in (
        "client.auth.client_secret",
        "client.auth.refresh_token",
        "client.auth.token",
        "client.auth.api_key",
    ):
        row = next(line for line in about.splitlines() if line.startswith(f"| {setting} "))
        assert "secret" in row.rsplit("|", 2)[-2].lower(), f"{setting} is not marked secret: {row}"

"""The tap as a command: --about, --discover without network, config errors exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests_mock as rm
from click.testing import CliRunner

from tap_analytics.tap import TapAnalytics

from .conftest import SEED_APIS, make_tap, seed_config

SECRET_SETTINGS = ("client.auth.client_secret", "client.auth.refresh_token", "client.auth.token",
                   "client.auth.api_key")
DOCUMENTED_SETTINGS = (
    "client", "client.base_url", "client.auth", "client.auth.type", "client.auth.client_id",
    "client.auth.client_secret", "client.auth.token_url", "client.auth.refresh_token",
    "client.auth.client_auth", "client.auth.scope", "client.auth.token", "client.auth.name",
    "client.auth.api_key", "client.auth.location", "client.error_handler",
    "client.error_handler.retry_on_status_codes", "client.error_handler.max_retries",
    "client.error_handler.backoff_factor", "client.error_handler.backoff", "resource_defaults",
    "resources", "start_date", "request_timeout", "max_concurrent_requests",
)

#: Built-in resources and their replication keys, as in docs/configuration.md ("Built-in resources").
CONTRACT_REPLICATION_KEYS = {
    "devplatform": {"events": "timestamp", "organizations": None, "repositories": None},
    "helpdesk": {"organizations": None, "agents": None, "tickets": None},
    "timetracking": {"events": "updated_at", "clients": "updated_at", "users": "updated_at",
                     "labels": "updated_at", "projects": "updated_at"},
    "statuspage": {"pages": "updated_at", "subscribers": None},
}


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(TapAnalytics.cli, args, catch_exceptions=False)


def write_config(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return str(path)


def settings_rows(markdown: str) -> dict[str, str]:
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 4:
            rows[cells[0]] = line
    return rows


# --- --about -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def about_markdown() -> str:
    result = invoke(["--about", "--format=markdown"])
    assert result.exit_code == 0
    return str(result.stdout)


@pytest.mark.parametrize("setting", DOCUMENTED_SETTINGS)
def test_about_markdown_lists_every_setting(about_markdown: str, setting: str) -> None:
    rows = settings_rows(about_markdown)
    assert setting in rows, f"{setting} missing from --about --format=markdown"
    description = rows[setting].rstrip(" |").rsplit("|", 1)[-1].strip()
    assert len(description) > 10, f"{setting} has no real description"


def test_about_marks_secrets(about_markdown: str) -> None:
    rows = settings_rows(about_markdown)
    for setting in SECRET_SETTINGS:
        assert "secret" in rows[setting].lower(), setting
    assert "secret" not in rows["client.auth.client_id"].lower()
    about = json.loads(invoke(["--about", "--format=json"]).stdout)
    auth = about["settings"]["properties"]["client"]["properties"]["auth"]["properties"]
    assert {name for name, prop in auth.items() if prop.get("secret")} == {
        "client_secret", "refresh_token", "token", "api_key", "password", "access_token"}


def test_about_markdown_documents_resource_options(about_markdown: str) -> None:
    # Resource entries are free-form objects in the JSON schema, but their options are
    # settings users must write (seed 003 uses page_param/limit_param): --about names them.
    for option in ("endpoint", "path", "data_selector", "params", "paginator", "error_handler",
                   "incremental", "primary_key", "write_disposition", "schema",
                   "offset_param", "limit_param", "page_param", "base_page", "total_path",
                   "maximum_offset", "maximum_page", "cursor_path", "start_param", "initial_value"):
        assert option in about_markdown, option


# --- --discover: no network, no credentials --------------------------------------------------------


@pytest.mark.parametrize("api", [a for a in SEED_APIS if a != "generic"])
def test_discover_seed_config_without_network(tmp_path: Path, api: str) -> None:
    config_path = write_config(tmp_path, seed_config(api))
    with rm.Mocker() as mock:  # no URL registered: any request would fail
        result = invoke(["--config", config_path, "--discover"])
        assert mock.call_count == 0
    assert result.exit_code == 0
    catalog = json.loads(result.stdout)
    expected = CONTRACT_REPLICATION_KEYS[api]
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == set(expected)
    for name, stream in streams.items():
        assert stream["key_properties"] == ["id"]
        root = next(m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == [])
        assert root["table-key-properties"] == ["id"]
        key = expected[name]
        assert stream.get("replication_key") == key, name
        assert root.get("replication-key") == key, name
        assert stream["replication_method"] == ("INCREMENTAL" if key else "FULL_TABLE")
        assert "id" in stream["schema"]["properties"]
        if key:
            assert stream["schema"]["properties"][key]["format"] == "date-time"


@pytest.mark.parametrize(
    ("resources", "api_of_shared_names"),
    [
        (["events", "organizations", "repositories"], "devplatform"),
        (["organizations", "agents", "tickets"], "helpdesk"),  # the README's helpdesk example
        (["events", "clients", "projects"], "timetracking"),
    ],
)
def test_discover_bare_builtins_without_credentials(
    tmp_path: Path, resources: list[str], api_of_shared_names: str
) -> None:
    """A name two APIs define is the one of the API the config's other names pin."""
    config = {"client": {"base_url": "https://api.example.com"}, "resources": resources}
    with rm.Mocker() as mock:
        result = invoke(["--config", write_config(tmp_path, config), "--discover"])
        assert mock.call_count == 0
    assert result.exit_code == 0
    catalog = json.loads(result.stdout)
    streams = {s["tap_stream_id"]: s for s in catalog["streams"]}
    assert set(streams) == set(resources)
    for name, stream in streams.items():
        assert stream.get("replication_key") == CONTRACT_REPLICATION_KEYS[api_of_shared_names][name]
    if "organizations" in streams:
        has_company = "companyName" in streams["organizations"]["schema"]["properties"]
        assert has_company == (api_of_shared_names == "helpdesk")


def test_write_dispositions_map_to_key_properties() -> None:
    config = {"client": {"base_url": "https://api.example.com"}, "resources": [
        {"name": "agents", "write_disposition": "append"},
        {"name": "organizations", "write_disposition": "replace"},
        {"name": "tickets", "write_disposition": "merge"},
    ]}
    streams = make_tap(config).streams
    assert streams["agents"].primary_keys == []
    assert streams["tickets"].primary_keys == ["id"]
    assert streams["organizations"].primary_keys == ["id"]


def test_both_variants_of_a_name_have_their_own_schema() -> None:
    dev = make_tap(seed_config("devplatform")).streams["organizations"].schema
    helpdesk = make_tap(seed_config("helpdesk")).streams["organizations"].schema
    assert "companyName" in helpdesk["properties"]
    assert "companyName" not in dev["properties"]


# --- config errors: one line each, exit 1 ------------------------------------------------------------


def test_invalid_config_exits_1_with_one_line_per_problem(tmp_path: Path) -> None:
    config = {
        "client": {"base_url": "api.example.com",
                   "auth": {"type": "oauth2", "client_id": "cid", "client_secret": "cs-CLI-secret-31"}},
        "resources": ["repositories", {"name": "widgets", "endpoint": {"paht": "/w"}}],
        "start_date": "yesterday",
        "max_concurent_requests": 4,
    }
    script = Path(sys.executable).with_name("tap-analytics")  # the console script
    result = subprocess.run(
        [str(script), "--config", write_config(tmp_path, config)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    for setting in ("client.base_url", "client.auth.token_url", "start_date",
                    "resources[1] (widgets).endpoint.paht", "max_concurent_requests"):
        lines = [line for line in result.stderr.splitlines() if setting in line]
        assert len(lines) == 1, (setting, result.stderr)
    assert "cs-CLI-secret-31" not in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_config_in_process_raises_with_every_error() -> None:
    from singer_sdk.exceptions import ConfigValidationError  # noqa: PLC0415

    with pytest.raises(ConfigValidationError) as caught:
        make_tap({"client": {"base_url": "https://api.example.com", "auth": {"type": "bearer"}},
                  "resources": [{"name": "x", "colour": "red"}]})
    errors = caught.value.errors
    assert any("client.auth.token" in e for e in errors)
    assert any("resources[0] (x).colour" in e for e in errors)


def test_importing_the_tap_emits_no_deprecation_warning() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import tap_analytics.tap"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr.strip().splitlines()[-1:]

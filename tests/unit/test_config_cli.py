"""The config on the command line: `--test` shows the validation lines, a config file
that is missing or not JSON is one line naming the file (and the position), exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TAP = str(Path(sys.executable).with_name("tap-analytics"))


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TAP, *args], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )


def error_lines(stderr: str) -> list[str]:
    return [line.split("|", 3)[-1].strip() for line in stderr.splitlines() if "| ERROR" in line]


def write(tmp_path: Path, text: str, name: str = "config.json") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


BAD = {
    "client": {"base_ulr": "https://api.example.com",
               "auth": {"type": "bearer", "token": "tkn-cli-SECRET-5"}},
    "resources": ["agents", {"name": "w", "endpoint": {"paht": "/w"}}],
    "max_concurent_requests": 2,
}


@pytest.mark.parametrize("mode", ["--test", "--test=schema", "sync"])
def test_validation_lines_are_shown_in_every_mode(tmp_path: Path, mode: str) -> None:
    args = ["--config", write(tmp_path, json.dumps(BAD))] + ([mode] if mode != "sync" else [])
    result = run(tmp_path, *args)
    assert result.returncode == 1, result.stderr
    lines = error_lines(result.stderr)
    assert lines == [
        "max_concurent_requests: unknown setting; did you mean 'max_concurrent_requests'?",
        "client.base_ulr: unknown setting; did you mean 'base_url'?",
        "client.base_url: required, e.g. https://api.example.com",
        "resources[1] (w).endpoint.paht: unknown setting; did you mean 'path'?",
    ], result.stderr
    assert "unexpected" not in result.stderr
    assert "tkn-cli-SECRET-5" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "position"),
    [('{"client": {"base_url": "https://x.example.com"},\n  "resources": ["agents",]}', "line 2 column 26"),
     ('{"client": ', "line 1 column 12"),
     ("", "line 1 column 1")],
)
def test_a_config_that_is_not_json_names_the_file_and_the_position(
    tmp_path: Path, text: str, position: str
) -> None:
    path = write(tmp_path, text)
    result = run(tmp_path, "--config", path, "--discover")
    assert result.returncode == 1
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"--config {path}: not valid JSON at {position}: ")
    assert "Traceback" not in result.stderr


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "--config", "nowhere.json")
    assert result.returncode == 1
    assert error_lines(result.stderr) == ["--config nowhere.json: no such file"]


@pytest.mark.parametrize(("content", "kind"), [([1, 2], "list"), ("text", "str")])
def test_a_config_that_is_not_an_object(tmp_path: Path, content: Any, kind: str) -> None:
    path = write(tmp_path, json.dumps(content))
    result = run(tmp_path, "--config", path)
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        f"--config {path}: must hold a JSON object (the config), not a {kind}"]


def test_discovery_that_must_ask_the_api_needs_the_credentials(tmp_path: Path) -> None:
    """dlt's INVALID_CONFIGS case of an api_key without a key: discovery of a resource whose
    schema comes from the API needs it (it crashed with KeyError: api_key before)."""
    config = {"client": {"base_url": "https://api.example.com",
                         "auth": {"type": "api_key", "location": "header"}},
              "resources": ["posts"]}
    result = run(tmp_path, "--config", write(tmp_path, json.dumps(config)), "--discover")
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "Config validation error: client.auth.api_key: required for auth type 'api_key'"]

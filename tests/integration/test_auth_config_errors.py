"""What dlt rejects for auth (its tests' INVALID_CONFIGS) the tap rejects too: exit 1 and
one line naming the setting, never a crash (an auth given as a string was an `unexpected
AttributeError` on the starting code)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEMA = {"properties": {"id": {"type": "integer"}}}


def _run(tmp_path: Path, client_auth: Any, endpoint_auth: Any = ...) -> subprocess.CompletedProcess[str]:
    endpoint: dict[str, Any] = {"path": "posts"}
    if endpoint_auth is not ...:
        endpoint["auth"] = endpoint_auth
    config = {"client": {"base_url": "https://api.example.com", "auth": client_auth},
              "resources": [{"name": "posts", "endpoint": endpoint, "schema": SCHEMA}]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    script = Path(sys.executable).with_name("tap-analytics")
    return subprocess.run([str(script), "--config", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize(
    ("client_auth", "endpoint_auth", "setting"),
    [
        ("api_key", ..., "client.auth:"),
        ({"type": "api_key", "location": "header"}, ..., "client.auth.api_key: required"),
        ({"token": "tk-unit-cli-1"}, "http_basic", "resources[0] (posts).endpoint.auth: 'http_basic' alone"),
        ({"token": "tk-unit-cli-1"}, {"type": "api_key", "location": "cookie"},
         "resources[0] (posts).endpoint.auth.api_key: required"),
        ({"type": "bearer", "token": "tk-unit-cli-1", "auht": "x"}, ..., "client.auth.auht: not a setting"),
    ],
)
def test_dlts_invalid_auth_configs_are_one_line(
    tmp_path: Path, client_auth: Any, endpoint_auth: Any, setting: str
) -> None:
    result = _run(tmp_path, client_auth, endpoint_auth)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert setting in errors[0]
    assert "unexpected" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "tk-unit-cli-1" not in result.stderr

"""meltano.yml stays true to the tap: every setting declared with the right kind, nested settings
reach the tap as nested objects, env vars work, and catalog/ matches `--discover`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .helpers import APIS, ROOT, catalogs, mp

#: Settings the SDK documents as objects of free-form content: declared as one `kind: object`.
OBJECT_SETTINGS = {"stream_maps", "stream_map_config", "faker_config", "batch_config", "resource_defaults"}
KIND_OF_TYPE = {
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


def about() -> dict[str, Any]:
    tap = Path(sys.executable).with_name("tap-analytics")
    out = subprocess.run([str(tap), "--about", "--format=json"], capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def leaf_settings(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Dotted setting name -> JSON schema, the way Meltano names nested settings."""
    leaves: dict[str, dict[str, Any]] = {}
    for name, prop in props.items():
        dotted = f"{prefix}{name}"
        if prop.get("properties") and dotted not in OBJECT_SETTINGS:
            leaves.update(leaf_settings(prop["properties"], f"{dotted}."))
        else:
            leaves[dotted] = prop
    return leaves


def expected_kind(prop: dict[str, Any], dotted: str) -> set[str]:
    if dotted in OBJECT_SETTINGS:
        return {"object"}
    if prop.get("secret"):
        return {"password", "string"}
    types = prop.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    types.discard("null")
    if types == {"string"}:
        if prop.get("format") == "date-time":
            return {"date_iso8601"}
        # options only where the tap has an enum; a free string may still offer options in the UI
        return {"options"} if prop.get("enum") else {"string", "options"}
    if "string" in types and types <= {"string", "number", "integer"}:
        # a date-time or a number (window_start, window_end): Meltano hands either as text, which
        # the tap reads as a number when it is one
        return {"string"}
    if types == {"number"}:
        # integer, not decimal: Meltano 4.4 parses a decimal setting's env var into a Decimal and then
        # fails to write the tap's config.json ("Object of type Decimal is not JSON serializable")
        return {"integer"}
    return {KIND_OF_TYPE[t] for t in types if t in KIND_OF_TYPE} or {"string"}


def tap_plugin() -> dict[str, Any]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin: dict[str, Any] = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-analytics")
    return plugin


def test_every_tap_setting_is_declared_with_its_kind() -> None:
    info = about()
    tap_settings = leaf_settings(info["settings"]["properties"])
    declared = {s["name"]: s for s in tap_plugin()["settings"]}
    missing = sorted(set(tap_settings) - set(declared))
    unknown = sorted(set(declared) - set(tap_settings))
    assert not missing, f"meltano.yml lacks tap settings {missing} (see tap-analytics --about)"
    assert not unknown, f"meltano.yml declares settings the tap does not have: {unknown}"
    wrong = {
        name: (declared[name].get("kind"), sorted(expected_kind(prop, name)))
        for name, prop in tap_settings.items()
        if declared[name].get("kind") not in expected_kind(prop, name)
    }
    assert not wrong, f"setting kinds (declared, expected): {wrong}"
    secrets = {n for n, p in tap_settings.items() if p.get("secret")}
    not_sensitive = sorted(n for n in secrets if not declared[n].get("sensitive"))
    assert not not_sensitive, f"secret settings without `sensitive: true`: {not_sensitive}"
    assert set(tap_plugin()["capabilities"]) <= set(info["capabilities"]) | {"properties"}
    assert {"catalog", "discover", "state"} <= set(tap_plugin()["capabilities"])


def test_catalogs_are_fresh() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "catalogs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, f"catalog/ is stale: {out.stderr}"


def meltano(*args: str, env: dict[str, str], tmp_path: Path) -> str:
    full_env = mp.meltano_env(system_db=tmp_path / "meltano.db", extra=env)
    out = subprocess.run(
        [str(mp.MELTANO), *args], cwd=ROOT, env=full_env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, f"meltano {' '.join(args)}:\n{out.stderr[-3000:]}"
    return out.stdout


@pytest.mark.parametrize("api", APIS)
def test_meltano_hands_the_tap_nested_config(api: str, meltano_ready: Path, tmp_path: Path) -> None:
    """Dotted settings and env vars (the child's own and the parent's) arrive as nested objects."""
    env = {
        f"TAP_ANALYTICS_{api.upper()}_CLIENT_BASE_URL": "https://api.test",
        f"TAP_ANALYTICS_{api.upper()}_CLIENT_AUTH_TOKEN": "child-secret",
        "TAP_ANALYTICS_CLIENT_AUTH_SCOPE": "from-parent",
        "TAP_ANALYTICS_REQUEST_TIMEOUT": "30",
    }
    dumped = json.loads(meltano("invoke", "--dump=config", mp.extractor(api), env=env, tmp_path=tmp_path))
    expected = catalogs.deep_merge(
        catalogs.inherited_extractors()[api],
        {
            "client": {
                "base_url": "https://api.test",
                "auth": {"token": "child-secret", "scope": "from-parent"},
            },
            "request_timeout": 30,
        },
    )
    assert dumped == expected


def test_parent_extractor_settings_and_env(meltano_ready: Path, tmp_path: Path) -> None:
    env = {
        "TAP_ANALYTICS_CLIENT_BASE_URL": "https://api.test",
        "TAP_ANALYTICS_CLIENT_AUTH_TYPE": "bearer",
        "TAP_ANALYTICS_CLIENT_AUTH_TOKEN": "s3cret-token",
        "TAP_ANALYTICS_RESOURCES": '["events", {"name": "organizations"}]',
        "TAP_ANALYTICS_RESOURCE_DEFAULTS": '{"primary_key": "id"}',
    }
    listing = meltano("config", "list", "--all", "tap-analytics", env=env, tmp_path=tmp_path)
    assert "client.auth.client_secret [env: TAP_ANALYTICS_CLIENT_AUTH_CLIENT_SECRET]" in listing
    assert "client.auth.token [env: TAP_ANALYTICS_CLIENT_AUTH_TOKEN] current value: (redacted)" in listing
    assert "s3cret-token" not in listing
    dumped = json.loads(meltano("invoke", "--dump=config", "tap-analytics", env=env, tmp_path=tmp_path))
    assert dumped == {
        "client": {"base_url": "https://api.test", "auth": {"type": "bearer", "token": "s3cret-token"}},
        "resources": ["events", {"name": "organizations"}],
        "resource_defaults": {"primary_key": "id"},
    }

"""Write (or --check) catalog/<api>.json: `tap-analytics --discover` of each tap-analytics-<api>.

Why not `meltano invoke --discover`: discovery of these extractors needs neither network nor
credentials, so reading meltano.yml directly keeps `make catalogs` and its staleness test free of
Meltano and fast. The e2e suite checks separately that Meltano hands the tap the same config.

    python scripts/catalogs.py [--write] # refresh catalog/*.json
    python scripts/catalogs.py --check   # exit 1 and name the stale files
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
CATALOG_DIR = ROOT / "catalog"
PARENT = "tap-analytics"
#: Discovery validates the config, so it gets a base URL and placeholder credentials; nothing is
#: requested from them (every resource here is built in or has an inline schema).
PLACEHOLDER_BASE_URL = "https://api.example.com"
PLACEHOLDER_AUTH = {
    "oauth2": {"client_id": "x", "client_secret": "x", "token_url": f"{PLACEHOLDER_BASE_URL}/oauth/token"},
    "bearer": {"token": "x"},
    "api_key": {"api_key": "x"},
}


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Meltano's layering of a child's config over its parent's: dicts merge, the rest replaces."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def inherited_extractors(meltano_yml: Path = ROOT / "meltano.yml") -> dict[str, dict[str, Any]]:
    """api name -> the tap config meltano.yml gives `tap-analytics-<api>` (credentials aside)."""
    project = yaml.safe_load(meltano_yml.read_text(encoding="utf-8"))
    extractors = {p["name"]: p for p in project["plugins"]["extractors"]}
    parent_config = extractors[PARENT].get("config") or {}
    configs: dict[str, dict[str, Any]] = {}
    for name, plugin in extractors.items():
        if plugin.get("inherit_from") == PARENT:
            api = name.removeprefix(f"{PARENT}-")
            configs[api] = deep_merge(parent_config, plugin.get("config") or {})
    return configs


def tap_executable() -> str:
    """The tap next to this interpreter (the project venv), else whatever is on PATH."""
    candidate = Path(sys.executable).with_name("tap-analytics")
    return str(candidate) if candidate.exists() else "tap-analytics"


def discover(config: dict[str, Any]) -> dict[str, Any]:
    """Run the tap's discovery on `config` with a placeholder base URL and credentials."""
    auth_type = ((config.get("client") or {}).get("auth") or {}).get("type", "")
    placeholders = {"base_url": PLACEHOLDER_BASE_URL, "auth": PLACEHOLDER_AUTH.get(auth_type, {})}
    config = deep_merge(config, {"client": placeholders})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        result = subprocess.run(  # noqa: S603 - our own tap, fixed arguments
            [tap_executable(), "--config", str(path), "--discover"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    if result.returncode != 0:
        raise RuntimeError(f"tap-analytics --discover failed:\n{result.stderr[-3000:]}")
    catalog: dict[str, Any] = json.loads(result.stdout)
    return catalog


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    mode.add_argument("--write", action="store_true", help="refresh the files (the default)")
    args = parser.parse_args(argv)

    stale: list[str] = []
    expected_files = set()
    for api, config in sorted(inherited_extractors().items()):
        path = CATALOG_DIR / f"{api}.json"
        expected_files.add(path.name)
        text = render(discover(config))
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path.relative_to(ROOT)))
        else:
            CATALOG_DIR.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    extra = sorted(
        str(p.relative_to(ROOT)) for p in CATALOG_DIR.glob("*.json") if p.name not in expected_files
    )
    if args.check and (stale or extra):
        for name in stale:
            print(f"stale: {name} differs from `tap-analytics --discover`", file=sys.stderr)
        for name in extra:
            print(f"orphan: {name} has no tap-analytics-<api> extractor", file=sys.stderr)
        print("refresh with: make catalogs", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every config example in README.md runs against the sandbox and syncs every record.

An example is a ```json block holding a config, the `config:` of a ```yaml extractor, or
an inline `"resources": [...]` that the README says replaces the resources of the block
before it. Each is pointed at the sandbox API its resources belong to: the base URL and
the secrets ("...") are the sandbox's, nothing else changes.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox import SandboxServer
from sandbox.data import ROUTES
from tap_analytics.config import resolve_resources
from tap_analytics.streams import BUILTIN_STREAMS

from .helpers import run_tap

README = Path(__file__).resolve().parents[2] / "README.md"
#: The sandbox APIs each auth type serves.
APIS_BY_AUTH = {"oauth2": {"devplatform", "generic", "helpdesk"}, "bearer": {"timetracking"},
                "api_key": {"statuspage"}}
BLOCK = re.compile(r"```(json|yaml)\n(.*?)```", re.DOTALL)
INLINE_RESOURCES = re.compile(r'`("resources": \[[^`]*\])`')


def readme_examples() -> list[tuple[str, dict[str, Any]]]:
    """(where in the README, config) for every config example, in README order."""
    text = README.read_text()
    found: list[tuple[int, str, dict[str, Any]]] = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if match.group(1) == "json":
            value = json.loads(match.group(2))
            configs = [value] if isinstance(value, dict) and "client" in value else []
        else:
            value = yaml.safe_load(match.group(2))
            extractors = (value or {}).get("plugins", {}).get("extractors", [])
            configs = [e["config"] for e in extractors if "client" in e.get("config", {})]
        found += [(match.start(), f"README.md:{line}", config) for config in configs]
    for match in INLINE_RESOURCES.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = [config for start, _, config in found if start < match.start()]
        assert before, f"README.md:{line}: an inline resources list before any config"
        config = {**copy.deepcopy(before[-1]), **json.loads("{" + match.group(1) + "}")}
        found.append((match.start(), f"README.md:{line} (inline)", config))
    return [(where, config) for _, where, config in sorted(found, key=lambda f: f[0])]


EXAMPLES = readme_examples()


def test_the_readme_has_its_examples() -> None:
    assert len(EXAMPLES) >= 8  # five seeds, the inline names, the YAML and the plain JSON


def sandbox_api(config: dict[str, Any]) -> str:
    """The one sandbox API whose routes every resource of `config` is at."""
    specs = resolve_resources(config, BUILTIN_STREAMS, for_sync=False)
    apis = set(APIS_BY_AUTH[config["client"]["auth"]["type"]])
    for spec in specs:
        apis &= (
            {spec.builtin.api} if spec.builtin is not None
            else {api for api, path in ROUTES if path == "/" + spec.path.lstrip("/")}
        )
    assert len(apis) == 1, f"the resources are at no single sandbox API: {apis}"
    return apis.pop()


def point_at(srv: SandboxServer, config: dict[str, Any], api: str) -> dict[str, Any]:
    config = copy.deepcopy(config)
    base = srv.api_url(api)
    creds = srv.credentials[api]
    config["client"]["base_url"] = base
    auth = config["client"]["auth"]
    if auth["type"] == "oauth2":
        auth.update(client_id=creds["client_id"], client_secret=creds["client_secret"])
        auth["token_url" if "token_url" in auth else "token_refresh_endpoint"] = f"{base}/oauth/token"
        if "refresh_token" in auth:
            auth["refresh_token"] = creds["refresh_token"]
    else:
        key = "token" if auth["type"] == "bearer" else "api_key"
        auth[key] = creds[key]
    return config


@pytest.mark.parametrize(("where", "example"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
@pytest.mark.sandbox(records=120)
def test_a_readme_example_syncs_every_record(
    sandbox: SandboxServer, where: str, example: dict[str, Any]
) -> None:
    api = sandbox_api(example)
    config = point_at(sandbox, example, api)
    result = run_tap(copy.deepcopy(config))
    specs = resolve_resources(config, BUILTIN_STREAMS)
    assert result.streams == {s.stream_name for s in specs}
    for spec in specs:
        key = _resource_key(api, spec.path)
        assert result.ids(spec.stream_name) == [str(r["id"]) for r in sandbox.records(key)], (
            where, spec.stream_name)


def _resource_key(api: str, path: str) -> str:
    """The sandbox resource served at `path` of `api`."""
    return ROUTES[(api, "/" + path.lstrip("/"))].key

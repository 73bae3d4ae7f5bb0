"""What dlt itself rejects is rejected here too, one line each.

The cases are dlt's `INVALID_CONFIGS` (tests/sources/rest_api/configurations/
source_configs.py, dlt-hub/dlt at 58d66fc), the ones written in JSON: two of them give
the auth as an object of a Python class, which a JSON config cannot hold. The exact
wording of the auth lines belongs to the auth validation; here they must be config
errors naming `client.auth`, never a crash.
"""

from __future__ import annotations

from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_analytics.config import ConfigErrors, resolve_resources
from tap_analytics.streams import BUILTIN_STREAMS

from .conftest import make_tap

#: (id, config, the setting the line names, words in it); in dlt's order.
INVALID_CONFIGS: list[tuple[str, dict[str, Any], str, str]] = [
    ("missing-resources", {"client": {"base_url": ""}}, "resources", "required"),
    ("missing-client", {"resources": []}, "client", "required"),
    ("unknown-client-key",
     {"client": {"base_url": "https://api.example.com", "invalid_key": "value"}, "resources": ["posts"]},
     "client.invalid_key", "unknown setting"),
    ("bad-client-paginator",
     {"client": {"base_url": "https://api.example.com", "paginator": "invalid_paginator"},
      "resources": ["posts"]},
     "client.paginator.type", "invalid_paginator"),
    ("resolve-names-a-missing-resource",
     {"client": {"base_url": "https://github.com/api/v2"},
      "resources": ["issues", {"name": "comments", "endpoint": {
          "path": "issues/{id}/comments",
          "params": {"id": {"type": "resolve", "resource": "issuess", "field": "id"}}}}]},
     "resources[1] (comments).endpoint.params.id", "did you mean 'issues'?"),
    ("unfilled-path-placeholders",
     {"client": {"base_url": "https://github.com/api/v2"},
      "resources": [
          {"name": "issues", "endpoint": {"path": "{org}/{repo}/issues/"}},
          {"name": "comments", "endpoint": {
              "path": "{org}/{repo}/issues/{id}/comments",
              "params": {"id": {"type": "resolve", "resource": "issues", "field": "id"}}}}]},
     "resources[0] (issues).endpoint.path", "'org', 'repo'"),
]

#: dlt's auth cases given in JSON: the auth validation words them; they must not crash.
INVALID_AUTH_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("auth-as-a-string",
     {"client": {"base_url": "https://api.example.com", "auth": "api_key"}, "resources": ["posts"]}),
    ("api-key-without-a-key",
     {"client": {"base_url": "https://api.example.com", "auth": {"type": "api_key", "location": "header"}},
      "resources": ["posts"]}),
]


@pytest.mark.parametrize(("case", "config", "setting", "words"), INVALID_CONFIGS,
                         ids=[c[0] for c in INVALID_CONFIGS])
def test_dlts_invalid_configs_are_config_errors(
    case: str, config: dict[str, Any], setting: str, words: str
) -> None:
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources(config, BUILTIN_STREAMS)
    lines = [e for e in caught.value.errors if e.startswith(f"{setting}: ")]
    assert len(lines) == 1, caught.value.errors
    assert words in lines[0]
    assert all("\n" not in e for e in caught.value.errors)


def test_the_unfilled_placeholder_case_reports_every_resource() -> None:
    config = INVALID_CONFIGS[-1][1]
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources(config, BUILTIN_STREAMS)
    # The resolve param itself is valid (dependent resources are supported): only the paths.
    assert [e.split(":", 1)[0] for e in caught.value.errors] == [
        "resources[0] (issues).endpoint.path",
        "resources[1] (comments).endpoint.path",
    ]


@pytest.mark.parametrize(("case", "config"), INVALID_AUTH_CONFIGS, ids=[c[0] for c in INVALID_AUTH_CONFIGS])
def test_dlts_invalid_auth_configs_are_config_errors_not_crashes(case: str, config: dict[str, Any]) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        make_tap(config)._validate_config()
    assert any(e.startswith("client.auth") for e in caught.value.errors), caught.value.errors

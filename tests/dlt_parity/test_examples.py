"""dlt's own examples as data, checked against dlt itself (no server needed) and the tap's validation.

- every valid example builds a dlt source (or fails only for the secrets it leaves out on purpose);
- every invalid case is rejected by dlt with the reason recorded, and by the tap naming the setting;
- every forum case is a config dlt accepts, keeps its example's shape (bar the listed changes), and
  every valid example is mapped onto the forum or listed as not mappable.
"""

from __future__ import annotations

import copy
import importlib
import re

import pytest
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.exceptions import DictValidationException
from dlt.extract.exceptions import ResourceExtractionError
from dlt.sources.rest_api import rest_api_source
from singer_sdk.exceptions import ConfigValidationError

from tests.integration.helpers import run_tap

from .configs import BY_NAME, EXAMPLES, Example, as_source
from .forum_cases import FORUM_CASES, NOT_MAPPED, ForumCase, materialize, shape
from .harness import dlt_records
from .invalid_cases import INVALID_CASES, InvalidCase

#: A loopback address nothing listens on: configs given to the tap must never reach the internet.
OFFLINE_URL = "http://127.0.0.1:9"
FAKE_FORUM_CREDENTIALS = {
    k: f"fake-{k}" for k in ("token", "username", "password", "api_key", "client_id", "client_secret")
}

#: Invalid cases the tap does not reject yet, and why: for the engineer who owns the feature.
TAP_ACCEPTS: dict[str, str] = {
}


def _exception(dotted: str) -> type[BaseException]:
    """The exception class a case names: `module.Class`, or a builtin's bare name."""
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module or "builtins"), name)


# ------------------------------------------------------------------------- examples
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_dlt_accepts_the_example(example: Example) -> None:
    config = as_source(example)
    if not example.missing_secrets:
        source = rest_api_source(config)
        assert source.resources, f"{example.name}: dlt built a source without resources"
        return
    # A required TypedDict key (http_basic's password) fails validation; the other auth fields
    # are looked up in dlt's config providers (secrets.toml, env) and are missing there.
    with pytest.raises((ConfigFieldMissingException, DictValidationException)) as caught:
        rest_api_source(config)
    if isinstance(caught.value, ConfigFieldMissingException):
        assert set(caught.value.fields) == set(example.missing_secrets)
    else:
        assert f"missing required fields `{set(example.missing_secrets)}`" in str(caught.value)


def _without_added_paths(config: dict) -> dict:
    """`config` minus the `path` dlt writes into an endpoint dict that has none."""
    out = copy.deepcopy(config)
    for resource in out.get("resources", []):
        endpoint = resource.get("endpoint") if isinstance(resource, dict) else None
        if isinstance(endpoint, dict) and endpoint.get("path") == resource.get("name"):
            del endpoint["path"]
    return out


def test_dlt_writes_the_default_path_into_the_callers_config() -> None:
    """rest_api_source leaves a config alone (dlt's own test), except for an endpoint dict with
    no `path`: dlt sets it to the resource name in the caller's dict. Hence the harness gives dlt
    a deep copy, so the tap gets the config as written."""
    changed = []
    for example in EXAMPLES:
        if example.missing_secrets:
            continue
        config = as_source(example)
        before = copy.deepcopy(config)
        rest_api_source(config)
        if config != before:
            changed.append(example.name)
            assert _without_added_paths(config) == _without_added_paths(before) == before, example.name
    assert sorted(changed) == [
        "escaped_braces_json",
        "escaped_braces_params",
        "resource_auth_override",
        "resource_defaults",
    ]


# ------------------------------------------------------------------------- invalid configs
@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda c: c.name)
def test_dlt_rejects_the_invalid_case(case: InvalidCase) -> None:
    if case.stage == "source":
        with pytest.raises(_exception(case.exception), match=case.message):
            rest_api_source(case.config, name="invalid_config")
        return
    with pytest.raises(ResourceExtractionError, match=re.escape(case.message)):
        dlt_records(case.config)


def _offline(config: dict) -> dict:
    """The config with its base URL on a closed loopback port (when it names one)."""
    client = config.get("client")
    if isinstance(client, dict) and client.get("base_url"):
        return {**config, "client": {**client, "base_url": OFFLINE_URL}}
    return config


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=TAP_ACCEPTS[c.name])
        )
        if c.name in TAP_ACCEPTS
        else c
        for c in INVALID_CASES
    ],
    ids=lambda c: c.name,
)
def test_tap_rejects_the_invalid_case(case: InvalidCase) -> None:
    """The tap refuses what dlt refuses, before any request, in one line naming the setting."""
    result = run_tap(_offline(case.config), expect_error=True)
    assert isinstance(result.error, ConfigValidationError), f"not a config error: {result.error!r}"
    lines = list(result.error.errors)
    assert lines
    assert all("\n" not in line for line in lines), lines
    assert any(all(re.search(n, line) for n in case.names) for line in lines), (
        f"no error line names {case.names}: {lines}"
    )


# ------------------------------------------------------------------------- forum cases
def test_materialize_fills_only_our_placeholders() -> None:
    config = {
        "client": {"base_url": "{base_url}/x", "auth": {"token": "{forum.token}"}},
        "resources": [
            {"name": "c", "endpoint": {"path": "p/{resources.posts.id}", "params": {"q": "{{x}}"}}}
        ],
    }
    out = materialize(config, "http://127.0.0.1:1/forum/", {"token": "T"})
    assert out["client"] == {"base_url": "http://127.0.0.1:1/forum/x", "auth": {"token": "T"}}
    assert out["resources"][0]["endpoint"] == config["resources"][0]["endpoint"]


def test_shape_sees_added_keys_not_changed_values() -> None:
    base = {"resources": ["posts", {"name": "c", "endpoint": {"path": "a", "params": {"x": 1}}}]}
    renamed = {"resources": ["users", {"name": "d", "endpoint": {"path": "b", "params": {"y": 2}}}]}
    assert shape(base) == shape(renamed)
    grown = {
        "resources": [
            "posts",
            {"name": "c", "endpoint": {"path": "a", "params": {"x": 1}, "paginator": "json_link"}},
        ]
    }
    assert shape(grown) - shape(base) == {"resources[1].endpoint.paginator"}
    bound = {
        "resources": ["posts", {"name": "c", "endpoint": {"path": "a", "params": {"x": {"type": "resolve"}}}}]
    }
    assert shape(bound) - shape(base) == {"resources[1].endpoint.params.*.type"}


@pytest.mark.parametrize("case", FORUM_CASES, ids=lambda c: c.name)
def test_forum_case_is_a_dlt_config(case: ForumCase) -> None:
    config = materialize(case.config, f"{OFFLINE_URL}/forum", FAKE_FORUM_CREDENTIALS)
    assert "{base_url}" not in repr(config)
    assert "{forum." not in repr(config)
    source = rest_api_source(config)
    assert set(case.compare) <= set(source.resources), f"{case.name}: compares resources it does not define"


@pytest.mark.parametrize("case", FORUM_CASES, ids=lambda c: c.name)
def test_forum_case_keeps_the_example_shape(case: ForumCase) -> None:
    """Only paths, field names and values change; any key added or removed is declared."""
    ours, theirs = shape(case.config), shape(as_source(BY_NAME[case.example]))
    assert ours ^ theirs == set(case.shape_changes)


def test_every_valid_example_is_mapped_or_explained() -> None:
    mapped = {c.example for c in FORUM_CASES}
    assert mapped <= set(BY_NAME)
    assert not mapped & set(NOT_MAPPED), "an example is both mapped and listed as not mappable"
    assert mapped | set(NOT_MAPPED) == set(BY_NAME)

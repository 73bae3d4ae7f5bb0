"""The shape of dlt's configuration examples as data (`Example`), and `as_source` to run one.

Sources (dlt-hub/dlt, the mirror's HEAD): docs/website/docs/dlt-ecosystem/verified-sources/rest_api/
basic.md and advanced.md, tests/sources/rest_api/configurations/source_configs.py (VALID_CONFIGS,
and its PAGINATOR_TYPE_CONFIGS / AUTH_TYPE_CONFIGS fragments) and
tests/sources/rest_api/test_rest_api_source.py. The data lives in `configs_basic`,
`configs_advanced` and `configs_tests`, gathered by `configs`.

Each `Example` is the dict exactly as dlt writes it, except:
- `dlt.secrets["x"]` is the string "<secret:x>";
- a paginator or auth *instance* of a built-in class (SinglePagePaginator(), HttpBasicAuth(u, p))
  is its dict form ("single_page", {"type": "http_basic", ...}): config_setup maps that type name
  to the same class with the same arguments, so dlt builds the same object (said in `notes`);
- a doc fragment stays a fragment (`kind`); `as_source` wraps it into a whole config.
Examples that need a callable or a custom class are listed in `SKIPPED` with the reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["source", "resources", "resource", "endpoint", "paginator", "auth"]
#: The base URL `as_source` gives fragments and configs whose doc elides the client.
EXAMPLE_BASE_URL = "https://api.example.com"

BASIC = "docs/.../rest_api/basic.md"
ADVANCED = "docs/.../rest_api/advanced.md"
SOURCE_CONFIGS = "tests/sources/rest_api/configurations/source_configs.py"
TEST_SOURCE = "tests/sources/rest_api/test_rest_api_source.py"


@dataclass(frozen=True)
class Example:
    """One dlt configuration example.

    `features` use a small vocabulary: `paginator:<type>`, `auth:<type>`, `auth:bearer_shorthand`,
    `shorthand:resource_str` (a resource given as a string), `shorthand:endpoint_str`,
    `endpoint:no_path` (path defaults to the name), `placeholder:<context>@<part>` (e.g.
    `placeholder:resources@path`), `resolve`, `resolve:multiple`, `path:static_params`,
    `include_from_parent`, `incremental:<form>`, `response_actions`, `headers:<level>`,
    `resource_defaults`, `data_selector`, `method:post`, `body:json`, `body:data`,
    `selected`, `parallelized`, `single_entity`, `escape_braces`, `jsonpath:brackets`, and the
    resource hints it sets (`primary_key`, `write_disposition`, `table_name`).
    """

    name: str
    source: str  #: file and heading (or list and index)
    kind: Kind
    config: dict[str, Any]
    features: tuple[str, ...]
    notes: str = ""
    #: Resources a fragment needs beside it when wrapped (its parent), as dlt writes resources.
    context: tuple[Any, ...] = ()
    #: Auth fields the example leaves out on purpose (dlt resolves them from secrets).
    missing_secrets: tuple[str, ...] = ()
    #: The resource name `as_source` gives an endpoint or paginator fragment.
    resource_name: str = "items"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Skipped:
    """An example left out: it needs a callable or an object with no dict form."""

    name: str
    source: str
    why: str


def as_source(example: Example) -> dict[str, Any]:
    """The example as a whole `rest_api_source` config (fragments wrapped, elided client filled)."""
    cfg = copy.deepcopy(example.config)
    context = [copy.deepcopy(r) for r in example.context]
    client: dict[str, Any] = {"base_url": EXAMPLE_BASE_URL}
    if example.kind == "source":
        cfg.setdefault("client", {}).setdefault("base_url", EXAMPLE_BASE_URL)
        return cfg
    if example.kind == "resources":
        return {"client": client, **cfg, "resources": [*context, *cfg["resources"]]}
    if example.kind == "resource":
        return {"client": client, "resources": [*context, cfg]}
    if example.kind == "endpoint":
        return {"client": client, "resources": [*context, {"name": example.resource_name, "endpoint": cfg}]}
    if example.kind == "paginator":
        endpoint = {"path": example.resource_name, "paginator": cfg, **example.extra}
        return {"client": client, "resources": [{"name": example.resource_name, "endpoint": endpoint}]}
    return {"client": {**client, "auth": cfg}, "resources": [{"name": "users"}]}

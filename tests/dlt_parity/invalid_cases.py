"""Configs dlt rejects, with the reason dlt gives: the tap must reject each of them too.

From tests/sources/rest_api/configurations/source_configs.py INVALID_CONFIGS (the message is the
regex dlt's own test matches, with `rest_api_source(config, name="invalid_config")`), basic.md's
troubleshooting example, test_rest_api_source.py's json-and-data test (rejected when the
resource runs, not when the source is built), and dlt's paginators.py (an offset paginator has no
default page size). `names` is what one line of the tap's error must
mention for the user to find the setting (a config key or the offending value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .example_model import BASIC, SOURCE_CONFIGS, TEST_SOURCE

_API = "https://api.example.com"
_GITHUB = "https://github.com/api/v2"


@dataclass(frozen=True)
class InvalidCase:
    name: str
    source: str
    config: dict[str, Any]
    exception: str  #: dlt's exception class (module.Class)
    message: str  #: a regex dlt's message matches
    names: tuple[str, ...]  #: regexes one line of the tap's error must all match
    stage: Literal["source", "extract"] = "source"  #: when dlt raises: building the source, or running it


def _invalid(n: int) -> str:
    return f"{SOURCE_CONFIGS} INVALID_CONFIGS[{n}]"


_DICT = "dlt.common.exceptions.DictValidationException"
_PAGINATORS = "dlt/sources/helpers/rest_client/paginators.py"
_MISSING = "dlt.common.configuration.exceptions.ConfigFieldMissingException"
_API_KEY_SECTION = "SOURCES__REST_API__INVALID_CONFIG__CREDENTIALS__API_KEY"

INVALID_CASES: list[InvalidCase] = [
    InvalidCase(
        "missing_resources",
        _invalid(0),
        {"client": {"base_url": ""}},
        _DICT,
        r"missing required fields `\{'resources'\}`",
        ("resources",),
    ),
    InvalidCase(
        "missing_client",
        _invalid(1),
        {"resources": []},
        _DICT,
        r"missing required fields `\{'client'\}`",
        ("client",),
    ),
    InvalidCase(
        "auth_type_str_without_key",
        _invalid(2),
        {"client": {"base_url": _API, "auth": "api_key"}, "resources": ["posts"]},
        _MISSING,
        _API_KEY_SECTION,
        ("api_key",),
    ),
    InvalidCase(
        "auth_dict_without_key",
        _invalid(4),
        {
            "client": {"base_url": _API, "auth": {"type": "api_key", "location": "header"}},
            "resources": ["posts"],
        },
        _MISSING,
        _API_KEY_SECTION,
        ("api_key",),
    ),
    InvalidCase(
        "client_unknown_key",
        _invalid(5),
        {"client": {"base_url": _API, "invalid_key": "value"}, "resources": ["posts"]},
        _DICT,
        r"Path `\./client`: received unexpected fields `\{'invalid_key'\}`",
        ("invalid_key",),
    ),
    InvalidCase(
        "paginator_unknown_type",
        _invalid(6),
        {"client": {"base_url": _API, "paginator": "invalid_paginator"}, "resources": ["posts"]},
        _DICT,
        "field `paginator` expects the following types: ",
        ("invalid_paginator",),
    ),
    InvalidCase(
        "resolve_unknown_parent",
        _invalid(7),
        {
            "client": {"base_url": _GITHUB},
            "resources": [
                "issues",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "issues/{id}/comments",
                        "params": {"id": {"type": "resolve", "resource": "issuess", "field": "id"}},
                    },
                },
            ],
        },
        "ValueError",
        "issuess",
        ("issuess",),
    ),
    InvalidCase(
        "path_placeholder_unbound",
        _invalid(8),
        {
            "client": {"base_url": _GITHUB},
            "resources": [
                {"name": "issues", "endpoint": {"path": "{org}/{repo}/issues/"}},
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "{org}/{repo}/issues/{id}/comments",
                        "params": {"id": {"type": "resolve", "resource": "issues", "field": "id"}},
                    },
                },
            ],
        },
        "ValueError",
        r"\{org\}/\{repo\}/issues/",
        (r"\{org\}",),
    ),
    InvalidCase(
        "params_outside_endpoint",
        f"{BASIC} > Troubleshooting > Getting validation errors",
        {
            "client": {"base_url": _API},
            "resources": [{"name": "issues", "params": {"sort": "updated"}, "endpoint": {"path": "issues"}}],
        },
        _DICT,
        r"received unexpected fields `\{'params'\}`",
        ("params",),
    ),
    InvalidCase(
        "json_and_data",
        f"{TEST_SOURCE} test_rest_api_data_json_mutual_exclusivity",
        {
            "client": {"base_url": "https://httpbin.org"},
            "resources": [
                {
                    "name": "invalid_test",
                    "endpoint": {
                        "path": "post",
                        "method": "POST",
                        "json": {"key": "value"},
                        "data": {"other": "data"},
                        "paginator": "single_page",
                    },
                }
            ],
        },
        "ValueError",
        "Cannot use both 'json' and 'data' parameters simultaneously",
        (r"\bjson\b", r"\bdata\b"),
        stage="extract",
    ),
    InvalidCase(
        "offset_without_limit",
        f"{_PAGINATORS} OffsetPaginator(limit) has no default",
        {
            "client": {"base_url": _API},
            "resources": [{"name": "posts", "endpoint": {"paginator": {"type": "offset"}}}],
        },
        "TypeError",
        r"missing 1 required positional argument: 'limit'",
        (r"paginator\.limit", "required"),
    ),
    InvalidCase(
        "offset_by_name",
        f"{_PAGINATORS} a paginator named by a string is built without arguments",
        {"client": {"base_url": _API}, "resources": [{"name": "posts", "endpoint": {"paginator": "offset"}}]},
        "ValueError",
        r"Paginator `offset` requires arguments to create an instance",
        (r"paginator\.limit", "required"),
    ),
]

#: INVALID_CONFIGS[3] passes an APIKeyAuth() instance: an object with no dict form beyond
#: INVALID_CONFIGS[4] (auth_dict_without_key), so it is not repeated as data.
SKIPPED_INVALID = {f"{SOURCE_CONFIGS} INVALID_CONFIGS[3]": "an APIKeyAuth() instance"}

"""The built-in resources: data, not code.

Each entry is one endpoint of one of the seed APIs: its name, default path, paginator,
error handling and replication key, and a schema file `schemas/<api>/<name>.json`.
Behaviour lives once in `client.AnalyticsStream`; adding a resource is adding a row.

Two seeds define a resource of the same name with different fields (`organizations`
in devplatform and helpdesk, `events` in devplatform and timetracking). A resource
entry picks the variant whose path it names; a bare name picks the first listed.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

#: Seed 004's error handling: 420/429 with a constant 62 s backoff.
STATUSPAGE_ERRORS = {
    "retry_on_status_codes": [420, 429],
    "max_retries": 3,
    "backoff_factor": 62,
    "backoff": "constant",
}


@dataclass(frozen=True)
class BuiltinResource:
    """One endpoint the tap knows in advance."""

    api: str
    name: str
    path: str
    paginator: dict[str, Any]
    replication_key: str | None = None
    error_handler: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def schema(self) -> dict[str, Any]:
        return copy.deepcopy(load_schema(self.api, self.name))

    def as_resource_config(self) -> dict[str, Any]:
        """The defaults this built-in contributes, in the config's own shape."""
        endpoint: dict[str, Any] = {
            "path": self.path,
            "data_selector": "data",
            "paginator": dict(self.paginator),
        }
        if self.replication_key:
            endpoint["incremental"] = {"cursor_path": self.replication_key}
        if self.error_handler:
            endpoint["error_handler"] = dict(self.error_handler)
        if self.params:
            endpoint["params"] = dict(self.params)
        return {"name": self.name, "endpoint": endpoint}


def _offset(limit: int) -> dict[str, Any]:
    return {"type": "offset", "limit": limit}


BUILTIN_RESOURCES: tuple[BuiltinResource, ...] = (
    # Seed 000: a developer platform's analytics (OAuth2 client credentials).
    BuiltinResource("devplatform", "events", "/v1/events", _offset(100), "timestamp"),
    BuiltinResource("devplatform", "organizations", "/v1/organizations", _offset(100)),
    BuiltinResource("devplatform", "repositories", "/v1/repositories", _offset(100)),
    # Seed 002: a help desk (OAuth2 refresh-token grant).
    BuiltinResource("helpdesk", "organizations", "/organizations", _offset(50)),
    BuiltinResource("helpdesk", "agents", "/agents", _offset(50)),
    BuiltinResource("helpdesk", "tickets", "/tickets", _offset(50)),
    # Seed 003: time tracking (bearer token); events page by number.
    BuiltinResource(
        "timetracking",
        "events",
        "/v1/resource/events",
        {"type": "page_number", "page_param": "page", "limit_param": "per_page", "limit": 100},
        "updated_at",
    ),
    BuiltinResource("timetracking", "clients", "/v1/resource/clients", _offset(100), "updated_at"),
    BuiltinResource("timetracking", "users", "/v1/resource/users", _offset(100), "updated_at"),
    BuiltinResource("timetracking", "labels", "/v1/resource/labels", _offset(100), "updated_at"),
    BuiltinResource(
        "timetracking", "projects", "/v1/resource/projects", _offset(1000), "updated_at"
    ),
    # Seed 004: status pages (API key header); 420/429 retried after a constant 62 s.
    BuiltinResource(
        "statuspage", "pages", "/v1/resource", _offset(100), "updated_at", STATUSPAGE_ERRORS
    ),
    BuiltinResource(
        "statuspage",
        "subscribers",
        "/v1/resource/subscribers",
        _offset(100),
        error_handler=STATUSPAGE_ERRORS,
    ),
)


def find_builtin(name: str, path: str | None = None) -> BuiltinResource | None:
    """The built-in named `name` at `path`; without a path, the first of that name.

    A known name at an unknown path is another API's resource: it is not the built-in.
    """
    candidates = [b for b in BUILTIN_RESOURCES if b.name == name]
    if path is None:
        return candidates[0] if candidates else None
    for builtin in candidates:
        if builtin.path.strip("/") == path.strip("/"):
            return builtin
    return None


@cache
def load_schema(api: str, name: str) -> dict[str, Any]:
    text = resources.files("tap_analytics").joinpath(f"schemas/{api}/{name}.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema

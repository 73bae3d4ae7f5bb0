"""The five seed configurations (../shared/seeds/*.txt), as the tap's JSON config.

Each builder copies its seed's ``rest_api_source({...})`` dict: the same resources,
paths, data selectors, paginators and error handlers, with only the base URL and the
secrets filled in from a running sandbox.
"""

from __future__ import annotations

import copy
from typing import Any

#: Seeds 000-003 describe the same retry policy in prose; seed 002 shows it as an endpoint
#: ``error_handler`` and seed 004 puts its own on every endpoint.
DEFAULT_ERROR_HANDLER = {
    "retry_on_status_codes": [429, 500, 502, 503, 504],
    "max_retries": 3,
    "backoff_factor": 2,
}
#: Seed 004's endpoint error handler, verbatim (its prose says the 62 s wait is constant).
STATUSPAGE_ERROR_HANDLER = {"retry_on_status_codes": [420, 429], "max_retries": 3, "backoff_factor": 62}

APIS = ("devplatform", "generic", "helpdesk", "timetracking", "statuspage")

#: api -> [(stream name, sandbox resource key, page size from the seed, paging kind)]
STREAMS: dict[str, list[tuple[str, str, int, str]]] = {
    "devplatform": [
        ("events", "devplatform/events", 100, "offset"),
        ("organizations", "devplatform/organizations", 100, "offset"),
        ("repositories", "devplatform/repositories", 100, "offset"),
    ],
    "generic": [("resource_name", "generic/resource_name", 100, "offset")],
    "helpdesk": [
        ("organizations", "helpdesk/organizations", 50, "offset"),
        ("agents", "helpdesk/agents", 50, "offset"),
        ("tickets", "helpdesk/tickets", 50, "offset"),
    ],
    "timetracking": [
        ("events", "timetracking/events", 100, "page"),
        ("clients", "timetracking/clients", 100, "offset"),
        ("users", "timetracking/users", 100, "offset"),
        ("labels", "timetracking/labels", 100, "offset"),
        ("projects", "timetracking/projects", 1000, "offset"),
    ],
    "statuspage": [
        ("pages", "statuspage/pages", 100, "offset"),
        ("subscribers", "statuspage/subscribers", 100, "offset"),
    ],
}

#: Replication keys docs/configuration.md ("Built-in resources") gives each stream.
REPLICATION_KEYS: dict[str, dict[str, str | None]] = {
    "devplatform": {"events": "timestamp", "organizations": None, "repositories": None},
    "generic": {"resource_name": None},
    "helpdesk": {"organizations": None, "agents": None, "tickets": None},
    "timetracking": {n: "updated_at" for n in ("events", "clients", "users", "labels", "projects")},
    "statuspage": {"pages": "updated_at", "subscribers": None},
}


def _offset(path: str, limit: int, **extra: Any) -> dict[str, Any]:
    return {"path": path, "data_selector": "data", "paginator": {"type": "offset", "limit": limit, **extra}}


def _oauth2(base_url: str, creds: dict[str, str], **extra: str) -> dict[str, Any]:
    """The seeds' OAuth2 client: the sandbox's client credentials and token URL."""
    return {
        "type": "oauth2",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
        **extra,
        "token_url": f"{base_url}/oauth/token",
    }


def devplatform(base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed 000: OAuth2 client credentials; events, organizations, repositories."""
    return {
        "client": {
            "base_url": base_url,
            "auth": _oauth2(base_url, creds),
            "error_handler": copy.deepcopy(DEFAULT_ERROR_HANDLER),
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {"name": "events", "endpoint": _offset("/v1/events", 100)},
            {"name": "organizations", "endpoint": _offset("/v1/organizations", 100)},
            {"name": "repositories", "endpoint": _offset("/v1/repositories", 100)},
        ],
    }


def generic(base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed 001: OAuth2 client credentials; one config-only resource (no built-in schema)."""
    return {
        "client": {
            "base_url": base_url,
            "auth": _oauth2(base_url, creds),
            "error_handler": copy.deepcopy(DEFAULT_ERROR_HANDLER),
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{"name": "resource_name", "endpoint": _offset("/v1/resource", 100)}],
    }


def helpdesk(base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed 002: OAuth2 refresh-token grant (rotating); error_handler on the endpoints."""
    return {
        "client": {
            "base_url": base_url,
            "auth": _oauth2(base_url, creds, refresh_token=creds["refresh_token"]),
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": name,
                "endpoint": {
                    **_offset(f"/{name}", 50),
                    "error_handler": copy.deepcopy(DEFAULT_ERROR_HANDLER),
                },
            }
            for name in ("organizations", "agents", "tickets")
        ],
    }


def timetracking(base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed 003: bearer token; events by page number, the rest by offset."""
    offset_opts = {"offset_param": "offset", "limit_param": "limit"}
    return {
        "client": {
            "base_url": base_url,
            "auth": {"type": "bearer", "token": creds["token"]},
            "error_handler": copy.deepcopy(DEFAULT_ERROR_HANDLER),
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": "events",
                "endpoint": {
                    "path": "/v1/resource/events",
                    "data_selector": "data",
                    "paginator": {
                        "type": "page_number",
                        "page_param": "page",
                        "limit_param": "per_page",
                        "limit": 100,
                    },
                },
            },
            {"name": "clients", "endpoint": _offset("/v1/resource/clients", 100, **offset_opts)},
            {"name": "users", "endpoint": _offset("/v1/resource/users", 100, **offset_opts)},
            {"name": "labels", "endpoint": _offset("/v1/resource/labels", 100, **offset_opts)},
            {"name": "projects", "endpoint": _offset("/v1/resource/projects", 1000, **offset_opts)},
        ],
    }


def statuspage(base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed 004: API key in a header; retries 420/429 only, 62 s apart."""
    return {
        "client": {
            "base_url": base_url,
            "auth": {"type": "api_key", "name": "api_key", "api_key": creds["api_key"], "location": "header"},
        },
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [
            {
                "name": "pages",
                "endpoint": {
                    **_offset("/v1/resource", 100),
                    "error_handler": copy.deepcopy(STATUSPAGE_ERROR_HANDLER),
                },
            },
            {
                "name": "subscribers",
                "endpoint": {
                    **_offset("/v1/resource/subscribers", 100),
                    "error_handler": copy.deepcopy(STATUSPAGE_ERROR_HANDLER),
                },
            },
        ],
    }


BUILDERS = {
    "devplatform": devplatform,
    "generic": generic,
    "helpdesk": helpdesk,
    "timetracking": timetracking,
    "statuspage": statuspage,
}


def seed_config(api: str, base_url: str, creds: dict[str, str], **top_level: Any) -> dict[str, Any]:
    """The seed config of `api` against `base_url`, with extra top-level settings."""
    return {**BUILDERS[api](base_url, creds), **top_level}


def stream_key(api: str, stream: str) -> str:
    """The sandbox resource key of `stream` in `api`'s config."""
    for name, key, _, _ in STREAMS[api]:
        if name == stream:
            return key
    raise KeyError(f"{api} has no stream {stream}")

"""The config language: dlt's `rest_api_source` dict parsed and validated into specs.

Every error is one line naming the setting; nothing is accepted that nothing acts on.
"""

from __future__ import annotations

from tap_analytics.config.builtins import find_builtin
from tap_analytics.config.client import header_secrets, validate_client
from tap_analytics.config.keys import closest_key, unknown_key_errors
from tap_analytics.config.merge import deep_merge
from tap_analytics.config.naming import stream_name
from tap_analytics.config.resources import resolve_resources
from tap_analytics.config.specs import (
    Builtin,
    ConfigErrors,
    IncrementalSpec,
    PaginatorSpec,
    ResourceSpec,
    ResponseAction,
    WriteDisposition,
)
from tap_analytics.config.urls import is_loopback, validate_base_url

__all__ = [
    "Builtin",
    "ConfigErrors",
    "IncrementalSpec",
    "PaginatorSpec",
    "ResourceSpec",
    "ResponseAction",
    "WriteDisposition",
    "closest_key",
    "deep_merge",
    "find_builtin",
    "header_secrets",
    "is_loopback",
    "resolve_resources",
    "stream_name",
    "unknown_key_errors",
    "validate_base_url",
    "validate_client",
]

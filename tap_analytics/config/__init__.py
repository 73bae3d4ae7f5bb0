"""The config language: dlt's `rest_api_source` dict parsed and validated into specs.

Every error is one line naming the setting; nothing is accepted that nothing acts on.
"""

from __future__ import annotations

from tap_analytics.config.client import validate_client
from tap_analytics.config.merge import deep_merge
from tap_analytics.config.resources import find_builtin, resolve_resources
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
    "deep_merge",
    "find_builtin",
    "is_loopback",
    "resolve_resources",
    "validate_base_url",
    "validate_client",
]

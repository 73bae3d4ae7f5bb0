"""What a resolved config is made of: one `ResourceSpec` per stream, and the error it raises.

Specs are plain frozen data: everything that differs between two streams, already
validated, so the streams never look at the raw config dict again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tap_analytics.paging import PAGINATORS, Paginator, create_paginator
from tap_analytics.retry import RetryPolicy

WriteDisposition = Literal["merge", "append", "replace"]


class ConfigErrors(Exception):
    """Every problem found in a config, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Builtin(Protocol):
    """What config resolution needs of a built-in resource (a stream class, see `streams/`):
    its declarations in the config's own shape, and its schema."""

    @classmethod
    def as_resource_config(cls) -> dict[str, Any]:
        """The defaults it contributes: `{"name": ..., "endpoint": {"path": ..., ...}}`."""

    @classmethod
    def builtin_schema(cls) -> dict[str, Any]:
        """Its JSON schema."""


@dataclass(frozen=True)
class PaginatorSpec:
    """A paginator's configuration; `new()` starts a fresh walk."""

    type: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total_path(self) -> str | None:
        return PAGINATORS[self.type].total_path_of(self.options)

    def new(self) -> Paginator:
        return create_paginator(self.type, self.options)


@dataclass(frozen=True)
class IncrementalSpec:
    cursor_path: str
    start_param: str | None = None
    initial_value: Any = None


@dataclass(frozen=True)
class ResourceSpec:
    """Everything that differs between two streams."""

    name: str
    path: str
    data_selector: str
    paginator: PaginatorSpec
    retry: RetryPolicy
    primary_key: tuple[str, ...]
    write_disposition: WriteDisposition
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    incremental: IncrementalSpec | None = None
    schema: Mapping[str, Any] | None = None
    #: The built-in resource this one is (its class), when the config names one.
    builtin: type[Builtin] | None = None

    @property
    def replication_key(self) -> str | None:
        return self.incremental.cursor_path if self.incremental else None

"""What a resolved config is made of: one `ResourceSpec` per stream, and the error it raises.

Specs are plain frozen data: everything that differs between two streams, already
validated, so the streams never look at the raw config dict again.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from tap_analytics.config.paths import is_absolute
from tap_analytics.paging import PAGINATORS, Paginator, create_paginator
from tap_analytics.retry import RetryPolicy
from tap_analytics.templates import expand
from tap_analytics.windows import Duration

WriteDisposition = Literal["merge", "append", "replace"]


class ConfigErrors(Exception):
    """Every problem found in a config, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Builtin(Protocol):
    """What config resolution needs of a built-in resource (a stream class, see `streams/`):
    its API, its declarations in the config's own shape, and its schema."""

    #: The seed API it belongs to: resolution tells same-named built-ins apart by it.
    api: ClassVar[str]

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
class ResponseAction:
    """dlt's `response_actions` entry: when a response matches (status and/or a substring of
    its body), do `action` -- "ignore" treats it as a page without records."""

    status_code: int | None = None
    content: str | None = None
    action: str = "ignore"


RangeEdge = Literal["open", "closed"]
OnCursorMissing = Literal["raise", "include", "exclude"]


@dataclass(frozen=True)
class IncrementalSpec:
    """dlt's `incremental`, validated: which records a sync takes, and how the range is sent.

    `cursor_path` is the Singer replication key: a top-level field (`updated_at`) or, for a
    nested cursor, its dotted path (`meta.updated_at`; bracket form when a key holds a dot);
    `cursor_parts` are its keys. The range is `[start, end)` by default: the start is the
    bookmark (or `initial_value` / `start_date`) less `lag`, the end `end_value`; `window`
    cuts it into pieces synced one after another (see `tap_analytics.windows`)."""

    cursor_path: str
    start_param: str | None = None
    initial_value: Any = None
    cursor_parts: tuple[str, ...] = ()
    end_param: str | None = None
    end_value: Any = None
    range_start: RangeEdge = "closed"
    range_end: RangeEdge = "open"
    lag: float | None = None
    on_cursor_value_missing: OnCursorMissing = "raise"
    row_order: Literal["asc", "desc"] | None = None
    #: A parsed `window`: an ISO 8601 duration or a positive number (None: one range).
    window: Duration | decimal.Decimal | None = None

    def __post_init__(self) -> None:
        if not self.cursor_parts:
            object.__setattr__(self, "cursor_parts", (self.cursor_path,))

    @property
    def cursor_field(self) -> str:
        """The top-level field holding the cursor (the whole cursor unless nested)."""
        return self.cursor_parts[0]


@dataclass(frozen=True)
class ParentSpec:
    """A dependent resource's parent (dlt's `resolve` params and `{resources.<parent>.<field>}`
    placeholders): which resource, which of its fields fill which placeholders, and which
    fields are copied into every child record (`include_from_parent`, as `_<parent>_<field>`)."""

    resource: str
    #: (placeholder name, field path in the parent record): `("issue_number", "number")` for a
    #: resolve param, `("resources.issues.number", "number")` for a placeholder.
    values: tuple[tuple[str, str], ...]
    include: tuple[str, ...] = ()

    def field_name(self, field: str) -> str:
        """dlt's `make_parent_key_name`: the child field an included parent field becomes."""
        return f"_{self.resource}_{field}"


@dataclass(frozen=True)
class ResourceSpec:
    """Everything that differs between two streams.

    `name` is the resource's name as configured (what `resources.<name>` refers to);
    `stream_name` is its Singer stream, the target's table (dlt's `table_name`)."""

    name: str
    #: The endpoint's path (placeholders filled), or an absolute http(s) URL: see `url_for`.
    path: str
    #: Where the records are in a body; None: detect it from the first response.
    data_selector: str | None
    paginator: PaginatorSpec
    retry: RetryPolicy
    primary_key: tuple[str, ...]
    write_disposition: WriteDisposition
    method: str = "GET"
    params: Mapping[str, Any] = field(default_factory=dict)
    #: `client.headers` under the endpoint's own `headers`.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The request body of a POST: JSON (`json`) or form/raw (`data`).
    json: Mapping[str, Any] | None = None
    data: Any = None
    #: What to do with matching responses, applied in order (dlt's `response_actions`).
    response_actions: tuple[ResponseAction, ...] = ()
    #: `endpoint.auth`: when `auth_override`, this resource authenticates with `auth`
    #: (None: without credentials) instead of `client.auth`.
    auth_override: bool = False
    auth: Mapping[str, Any] | None = None
    #: False: deselected in the discovered catalog (dlt's `selected`).
    selected: bool = True
    incremental: IncrementalSpec | None = None
    schema: Mapping[str, Any] | None = None
    #: The built-in resource this one is (its class), when the config names one.
    builtin: type[Builtin] | None = None
    #: The resource whose records drive this one's requests (a dependent resource).
    parent: ParentSpec | None = None
    #: The Singer stream name; defaults to `name` (see `__post_init__`).
    stream_name: str = ""

    def __post_init__(self) -> None:
        if not self.stream_name:
            object.__setattr__(self, "stream_name", self.name)

    @property
    def replication_key(self) -> str | None:
        return self.incremental.cursor_path if self.incremental else None

    def url_for(self, base_url: str, values: Mapping[str, Any] | None = None) -> str:
        """The URL the resource's pages are requested at, the path template filled with
        `values`: an absolute path as it is, else the path joined to `base_url` (dlt's
        `join_url`: exactly one `/` between them)."""
        path = expand(self.path, values or {})
        if is_absolute(path):
            return str(path)
        return base_url.rstrip("/") + "/" + str(path).lstrip("/")

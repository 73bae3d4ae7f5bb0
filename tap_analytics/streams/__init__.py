"""The built-in resources, one declarative class each, and the factory of run-time streams.

A built-in class declares what the tap knows of one endpoint of a seed API (see the
modules per API); behaviour is the base stream's. Every stream of a run -- built-in or
declared in config alone -- is a subclass made here from its resolved `ResourceSpec`,
so both go through the same code path, and a built-in's declarations are the defaults
its config entry overrides.

Two seeds define a resource of the same name (`organizations` in devplatform and
helpdesk, `events` in devplatform and timetracking); config resolution tells them apart
by the path an entry names, or by the API the config's other resources belong to
(`tap_analytics.config.builtins`).
"""

from __future__ import annotations

from typing import Any

from tap_analytics.client import AnalyticsStream
from tap_analytics.config import ResourceSpec
from tap_analytics.streams import devplatform, helpdesk, statuspage, timetracking

BUILTIN_STREAMS: tuple[type[AnalyticsStream], ...] = (
    *devplatform.STREAMS,
    *helpdesk.STREAMS,
    *timetracking.STREAMS,
    *statuspage.STREAMS,
)


def stream_class(
    spec: ResourceSpec, parent: type[AnalyticsStream] | None = None
) -> type[AnalyticsStream]:
    """The stream class of one resolved resource: its built-in class (or the base
    stream) specialised with the spec; a dependent resource's names its `parent`'s."""
    builtin = spec.builtin
    base = (
        builtin
        if isinstance(builtin, type) and issubclass(builtin, AnalyticsStream)
        else AnalyticsStream
    )
    attributes: dict[str, Any] = {
        "spec": spec,
        "name": spec.stream_name,
        "path": spec.path,
        "replication_key": spec.replication_key,
        # dlt's `selected: false`: deselected in the discovered catalog (and so not synced
        # without a catalog); a catalog that selects it still does.
        "selected_by_default": spec.selected,
        "parent_stream_type": parent,
        "__doc__": f"The `{spec.name}` resource as this run's config resolves it.",
    }
    return type(f"{spec.stream_name.title().replace('_', '')}Stream", (base,), attributes)


__all__ = ["BUILTIN_STREAMS", "stream_class"]

"""Which built-in resource a config entry names, if any.

Two seed APIs define `organizations` (devplatform, helpdesk) and two define `events`
(devplatform, timetracking). A config is written for one API, so:

* an entry with an `endpoint.path` is the built-in of that name *and* path, else a
  resource of the config alone (its schema inline or inferred);
* an entry named only (`"agents"`, `{"name": "agents"}`) is the built-in of that name in
  the API the config is written for, when its entries say which: one names a built-in's
  own path, or the config is two or more bare names, all built-ins of one API (the
  README's helpdesk example `["organizations", "agents", "tickets"]` is helpdesk's);
* otherwise -- a lone bare name, or one the pinned API lacks -- it is dlt's bare name:
  the endpoint of that name. A name is never silently taken from another API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tap_analytics.config.specs import Builtin


@dataclass(frozen=True)
class Named:
    """A config entry as far as the choice of a built-in goes."""

    name: str
    #: The entry's own `endpoint.path` (None: named only).
    path: str | None


def builtin_path(builtin: type[Builtin]) -> str:
    return str(builtin.as_resource_config()["endpoint"]["path"])


def _same_path(a: str, b: str) -> bool:
    return a.strip("/") == b.strip("/")


def find_builtin(
    builtins: Sequence[type[Builtin]], name: str, path: str | None = None
) -> type[Builtin] | None:
    """The built-in named `name` at `path`; without a path, the only one of that name
    (None when several APIs have it: `choose_builtins` decides those from the config)."""
    candidates = [b for b in builtins if b.as_resource_config()["name"] == name]
    if path is None:
        return candidates[0] if len({b.api for b in candidates}) == 1 else None
    return next((b for b in candidates if _same_path(builtin_path(b), path)), None)


def choose_builtins(
    entries: Sequence[Named], builtins: Sequence[type[Builtin]]
) -> list[type[Builtin] | str | None]:
    """For each entry: its built-in, or None (a resource of the config alone: dlt's bare
    name is the endpoint of that name)."""
    pinned = _pinned_api(entries, builtins)
    chosen: list[type[Builtin] | str | None] = []
    for entry in entries:
        if entry.path is not None:
            chosen.append(find_builtin(builtins, entry.name, entry.path))
            continue
        matching = [b for b in _variants(builtins, entry.name) if b.api == pinned]
        chosen.append(matching[0] if matching else None)
    return chosen


def _variants(builtins: Sequence[type[Builtin]], name: str) -> list[type[Builtin]]:
    return [b for b in builtins if b.as_resource_config()["name"] == name]


def _pinned_api(entries: Sequence[Named], builtins: Sequence[type[Builtin]]) -> str | None:
    """The seed API the config is written for, if its entries say so: an entry with a
    built-in's own path, or a config of two or more bare names, all built-ins of one API.
    One bare name alone says nothing (`{"name": "users"}` is dlt's endpoint `users`), nor
    do bare names beside a resource of the config's own."""
    by_path = {
        found.api
        for entry in entries
        if entry.path is not None and (found := find_builtin(builtins, entry.name, entry.path))
    }
    if by_path:
        return next(iter(by_path)) if len(by_path) == 1 else None
    named = [entry.name for entry in entries if entry.path is None]
    if len(named) < 2 or len(named) < len(entries):
        return None
    common = set.intersection(*({b.api for b in _variants(builtins, name)} for name in named))
    return next(iter(common)) if len(common) == 1 else None

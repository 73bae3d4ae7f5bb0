"""Which built-in resource a config entry names, if any.

Two seed APIs define `organizations` (devplatform, helpdesk) and two define `events`
(devplatform, timetracking). A config is written for one API, so:

* an entry with an `endpoint.path` is the built-in of that name *and* path, else a
  resource of the config alone (its schema inline or inferred);
* an entry named only (`"agents"`, `{"name": "agents"}`) is the built-in of that name
  when one API has it; a name several APIs have is the built-in of the API the config's
  other entries pin (a name only one API has, or a name with its built-in path): the
  README's helpdesk example `["organizations", "agents", "tickets"]` is helpdesk's;
* pinned to an API that lacks it, a name is that API's endpoint of the same name (dlt's
  rule for a bare name); pinned to none or to several of its APIs, it is an error asking
  for the path -- never a silent pick.
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
    """For each entry: its built-in, None (a resource of the config alone), or the error
    text (without the setting) when its name is ambiguous."""
    pinned = {
        found.api
        for entry in entries
        if (found := find_builtin(builtins, entry.name, entry.path)) is not None
    }
    chosen: list[type[Builtin] | str | None] = []
    for entry in entries:
        found = find_builtin(builtins, entry.name, entry.path)
        if entry.path is not None or found is not None:
            chosen.append(found)
            continue
        variants = [b for b in builtins if b.as_resource_config()["name"] == entry.name]
        matching = [b for b in variants if b.api in pinned]
        if len(matching) == 1:
            chosen.append(matching[0])
        elif not variants or (pinned and not matching):
            chosen.append(None)
        else:
            choices = " and of ".join(f"{b.api} (path {builtin_path(b)})" for b in variants)
            chosen.append(
                f"{entry.name!r} is a built-in resource of {choices}; set endpoint.path to "
                "choose, or list it beside other resources of its API"
            )
    return chosen

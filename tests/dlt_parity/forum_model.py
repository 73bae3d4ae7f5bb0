"""The shape of a forum case (`ForumCase`), the helpers that build and fill one, and `shape`.

Contract: /work/briefs/forum_contract.md. Each `ForumCase` keeps its example's dlt structure and
keys and changes only what it takes to hit a forum endpoint: paths (and a base URL suffix, so a
resource given as a string names a real listing), field names (a param, body key, cursor or
selector path), values the forum needs (credentials, a date inside the data). Every structural
difference from the example is listed in `shape_changes` and checked by test_examples.py.

Placeholders, filled by `materialize`: "{base_url}" (= server.api_url("forum")) and
"{forum.<credential>}" (a key of server.credentials["forum"]). They never collide with dlt's own
"{resources.x.y}" / "{incremental.x}" placeholders, which stay for dlt and the tap to expand.

The data lives in `forum_cases_basic`, `forum_cases_advanced` and `forum_cases_tests`,
gathered by `forum_cases`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: The forum's posts count the cases assume unless they set `posts` (the contract's default).
DEFAULT_POSTS = 230
Expect = Literal["same", "both_fail", "dlt_fails", "dlt_quirk", "tap_differs"]

#: Where the tap differs from dlt on purpose: key -> why. Every one is listed, under its key,
#: in docs/dlt-compatibility.md ("Deliberate differences"), and a `tap_differs` case names one.
DIFFERENCES: dict[str, str] = {
    "unread_paging_fails": "no paginator and a first response whose paging no detection rule reads "
    "(an offset body with `total` and `has_more`): dlt reads that one page and warns, the tap "
    "fails with one line naming the hints, so a sync never loads one page of many and exits 0",
    "base_page_1": "page_number's base_page defaults to 1 (the seed APIs count pages from 1), "
    "dlt's to 0; an explicit base_page (0 included) is read as dlt reads it",
    "primary_key_id": "primary_key defaults to `id` (and write_disposition to merge), dlt's to none "
    "(append): Singer targets merge on the key, which drops the records inclusive bookmarks send "
    "again; a record without the key fails with one line (set primary_key, or [] for none)",
}


@dataclass(frozen=True)
class ForumCase:
    """One example against the forum, and what the parity run must find.

    expect:
      - "same": dlt and the tap load the same records for every resource in `compare`;
      - "both_fail": dlt raises (`failure` matches its message) and the tap's run fails too;
      - "dlt_fails": dlt raises (`failure`); the tap's behaviour is for the compatibility table;
      - "dlt_quirk": dlt loads `dlt_ids` for `compare[0]` (a dlt behaviour the tap must decide on);
      - "tap_differs": on `differs_on` the tap differs from dlt on purpose (`differs`, a key of
        DIFFERENCES): dlt loads `dlt_ids`, and the tap's run fails matching `tap_failure` or
        loads `tap_ids`; the resources in `compare` are still the same on both sides (the
        ones the tap synced before failing), and `sent_query`/`sent_headers` hold for both.
    """

    name: str
    example: str  #: configs.BY_NAME key
    config: dict[str, Any]
    compare: tuple[str, ...]
    forum_auth: str = "none"
    expect: Expect = "same"
    failure: str = ""
    ordered: bool = True
    #: Resources compared as sets although `ordered`: dlt interleaves the children of different
    #: parent pages (its pipe runs their generators round-robin), an order no API defines.
    unordered: tuple[str, ...] = ()
    key: str = "id"
    posts: int | None = None  #: forum/posts count for this case (None: DEFAULT_POSTS)
    second_run: bool = False  #: then update 5 posts, add 3, and compare a run from the saved state
    #: Why the tap's second run also re-emits the records at the first run's bookmark (dlt drops
    #: them by hash, the tap leaves them to the target's merge: an inclusive start). When set,
    #: the runner checks those repeats happen and are exactly that, then compares the rest.
    boundary_repeats: str = ""
    sent_query: dict[str, str] = field(default_factory=dict)  #: on every data request, both sides
    sent_headers: dict[str, str] = field(default_factory=dict)  #: likewise (names case-insensitive)
    unsent_headers: tuple[str, ...] = ()  #: on no data request, either side
    shape_changes: tuple[str, ...] = ()  #: key paths added to or removed from the example's shape
    dlt_ids: tuple[int, ...] = ()  #: the `key` values dlt loads ("dlt_quirk", "tap_differs")
    differs: str = ""  #: a DIFFERENCES key ("tap_differs" only)
    differs_on: str = ""  #: the resource that differs
    tap_failure: str = ""  #: a regex the tap's error matches (else it loads `tap_ids`)
    tap_ids: tuple[int, ...] = ()  #: the `key` values the tap loads
    notes: str = ""

    def __post_init__(self) -> None:
        if self.expect == "tap_differs":
            assert self.differs in DIFFERENCES, f"{self.name}: differs must name a DIFFERENCES key"
            assert self.differs_on, f"{self.name}: name the resource that differs"
            assert self.dlt_ids, f"{self.name}: say what dlt loads"
            assert bool(self.tap_failure) != bool(self.tap_ids), f"{self.name}: tap_failure or tap_ids"


def materialize(obj: Any, base_url: str, credentials: Mapping[str, str]) -> Any:
    """`obj` with "{base_url}" and "{forum.<name>}" replaced in every string (keys included)."""
    if isinstance(obj, str):
        out = obj.replace("{base_url}", base_url.rstrip("/"))
        for name, value in credentials.items():
            out = out.replace(f"{{forum.{name}}}", value)
        return out
    if isinstance(obj, Mapping):
        return {
            materialize(k, base_url, credentials): materialize(v, base_url, credentials)
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [materialize(v, base_url, credentials) for v in obj]
    return obj


#: Key containers whose keys are the user's (query params, body fields, header names), not dlt's.
USER_KEYED = frozenset({"params", "json", "data", "headers"})


def shape(obj: Any, prefix: str = "") -> set[str]:
    """The dlt keys a config uses, as paths: resources by position, a string resource as `=str`,
    user-keyed containers as their name plus the keys of any bound param (`params.*.type`)."""
    paths: set[str] = set()
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            if key in USER_KEYED:
                if key == "params" and isinstance(value, Mapping):
                    for bound in value.values():
                        if isinstance(bound, Mapping):
                            paths |= {f"{path}.*.{k}" for k in bound}
            else:
                paths |= shape(value, path)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            item = f"{prefix}[{i}]"
            paths |= {f"{item}=str"} if isinstance(value, str) else shape(value, item)
    return paths


# ------------------------------------------------------------------------- building cases
B = "{base_url}"
#: The reason of `boundary_repeats` for every incremental case with a second run.
BOUNDARY_REPEATS = (
    "dlt keeps the hashes of the records at its last value and drops them when the next run reads "
    "them again; the tap starts inclusively at the bookmark and re-emits them, and the target's "
    "merge on the primary key drops the repeat (so a record changed within the bookmark's second "
    "is never lost)"
)
TOKEN_AUTH = {"token": "{forum.token}"}
BASIC_AUTH = {"type": "http_basic", "username": "{forum.username}", "password": "{forum.password}"}


def endpoint_case(
    name: str, endpoint: dict[str, Any], *, resource: str = "posts", example: str | None = None, **kw: Any
) -> ForumCase:
    """A case for an endpoint fragment: one resource under the bare forum base URL."""
    config = {"client": {"base_url": B}, "resources": [{"name": resource, "endpoint": endpoint}]}
    return ForumCase(name, example or name, config, (resource,), **kw)


def paginator_case(
    name: str, path: str, paginator: dict[str, Any], *, extra: dict[str, Any] | None = None, **kw: Any
) -> ForumCase:
    """A case for a paginator fragment: its endpoint is `path` (plus `extra` endpoint keys)."""
    return endpoint_case(name, {"path": path, "paginator": paginator, **(extra or {})}, **kw)


def auth_case(
    name: str, auth: dict[str, Any], forum_auth: str, *, example: str | None = None, **kw: Any
) -> ForumCase:
    """A case for an auth fragment: the client's auth, one resource `users` (path = its name)."""
    config = {"client": {"base_url": B, "auth": auth}, "resources": [{"name": "users"}]}
    return ForumCase(name, example or name, config, ("users",), forum_auth=forum_auth, **kw)

"""The parity harness: run one rest_api config through dlt 1.31 and through the tap, compare records.

tap-analytics' config language is dlt's `rest_api_source` dict, so dlt itself says what a config
means: `dlt_records` runs dlt's own code on the config, `tap_records` runs the tap in-process on
the same dict, and `assert_same_records` checks they loaded the same records.

dlt is a test-only dependency and must never touch the developer's machine: everything it could
write goes under a tmp dir and its telemetry is off (`dlt_environment`, applied for the whole
session by the suite's conftest; `dlt_records` refuses to run without it). Importing dlt writes
nothing; dlt reads these variables when it runs.
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from dlt import Pipeline
from dlt.extract.items_transform import MapItem
from dlt.sources.rest_api import rest_api_source

from tests.integration.helpers import SyncResult, run_tap

Record = dict[str, Any]
Records = dict[str, list[Record]]

#: How many differences a failed comparison lists (the rest are counted).
MAX_REPORTED = 8


#: Settings dlt must run with, whatever the tmp dir (see `dlt_environment`).
DLT_SETTINGS = {"RUNTIME__DLTHUB_TELEMETRY": "false", "RUNTIME__REQUEST_MAX_ATTEMPTS": "1"}
DLT_DIRS = ("DLT_DATA_DIR", "DLT_PROJECT_DIR")


def dlt_environment(root: Path) -> dict[str, str]:
    """The environment that keeps dlt inside `root`, quiet, and fast.

    - DLT_DATA_DIR: dlt's global dir (default ~/.dlt: pipelines, telemetry id).
    - DLT_PROJECT_DIR: where dlt looks for .dlt/config.toml and secrets.toml (default: the cwd,
      i.e. the repo), so no stray developer config can change what a config means.
    - RUNTIME__DLTHUB_TELEMETRY=false: no anonymous telemetry from test runs.
    - RUNTIME__REQUEST_MAX_ATTEMPTS=1: RESTClient's retrying session would really sleep
      (1 s, 2 s, ...) on a 429/5xx; the referee answers on the first response instead. (dlt's
      OAuth2 token request uses dlt's module-level session, created at import with the default
      retries: no test injects a token-endpoint fault on the dlt side.)
    """
    return {
        "DLT_DATA_DIR": str(root / "dlt-data"),
        "DLT_PROJECT_DIR": str(root / "dlt-project"),
        **DLT_SETTINGS,
    }


def _require_isolation() -> None:
    """Refuse to run dlt with its defaults (writes under $HOME, telemetry, real backoff sleeps)."""
    wrong = [name for name in DLT_DIRS if not os.environ.get(name)] + [
        name for name, value in DLT_SETTINGS.items() if os.environ.get(name) != value
    ]
    if wrong:
        raise RuntimeError(
            f"dlt is not isolated ({', '.join(wrong)} not set as required): run it under the "
            "dlt_parity conftest or set harness.dlt_environment(tmp_dir)"
        )


# ------------------------------------------------------------------------------ dlt side
#: More items than this from one resource means a paging loop that never ends: fail, do not hang.
MAX_ITEMS = 100_000


class _Capture(MapItem):  # type: ignore[misc]
    """A map step placed after dlt's incremental filter: it sees exactly the items dlt extracts.

    dlt keeps its incremental step (placement affinity 1) and add_limit (1.1) at the end of a
    resource's pipe, so a plain add_map would see rows the incremental then drops."""

    placement_affinity = 1.5


def _capture_step(sink: list[Record], resource: str, limit: int) -> _Capture:
    """A step that appends a copy of every item to `sink`, and fails past `limit` items."""

    def collect(item: Record) -> Record:
        if len(sink) >= limit:
            raise AssertionError(f"{resource}: dlt yielded more than {limit} items (a paging loop?)")
        sink.append(copy.deepcopy(item))
        return item

    return _Capture(collect)


def dlt_records(
    config: Mapping[str, Any], *, pipeline: Pipeline | None = None, limit: int = MAX_ITEMS
) -> Records:
    """What dlt's `rest_api_source(config)` yields, per selected resource, in order.

    Without `pipeline` the resources are iterated directly (no destination, nothing written;
    dlt evaluates a dependent resource's parent itself, and an incremental starts from its
    `initial_value`). With a `pipeline`, `pipeline.extract` runs the whole source, so incremental
    state is loaded from and saved to that pipeline: pass the same one again for a second run.
    The items are the ones dlt yields before its normalizer (nested objects stay nested). dlt gets
    a deep copy: it writes defaults (an endpoint's `path`) into the dict it is given.
    """
    _require_isolation()
    source = rest_api_source(copy.deepcopy(dict(config)))  # type: ignore[arg-type]
    resources = source.selected_resources
    if pipeline is None:
        # Iterating a resource yields its final items (after the incremental filter); a
        # dependent resource re-runs its parent's pipe, so nothing is captured inside pipes here.
        records: Records = {}
        for name, resource in resources.items():
            items = list(islice(resource, limit + 1))
            if len(items) > limit:
                raise AssertionError(f"{name}: dlt yielded more than {limit} items (a paging loop?)")
            records[name] = copy.deepcopy(items)
        return records
    captured: Records = {name: [] for name in resources}
    for name, resource in resources.items():
        resource.add_step(_capture_step(captured[name], name, limit))
    pipeline.extract(source)
    return captured


def dlt_incremental_state(pipeline: Pipeline, resource: str, source: str = "rest_api") -> Any:
    """dlt's saved incremental state of `resource` ({cursor_path: {last_value, ...}}), or None."""
    sources = pipeline.state.get("sources", {})
    return sources.get(source, {}).get("resources", {}).get(resource, {}).get("incremental")


# ------------------------------------------------------------------------------ tap side
def tap_records(
    config: Mapping[str, Any], state: Mapping[str, Any] | None = None
) -> tuple[Records, dict[str, Any]]:
    """The tap's RECORDs per stream, in output order, and its final STATE value.

    Runs the tap in-process through the integration suite's `run_tap` (a failing sync fails the
    test); streams that emitted no record are absent from the dict."""
    result = run_tap(copy.deepcopy(dict(config)), state=copy.deepcopy(dict(state)) if state else None)
    return _records_of(result), result.state


def tap_failure(config: Mapping[str, Any]) -> tuple[Records, BaseException]:
    """The RECORDs a tap run emitted before it failed, and its error (it must fail)."""
    result = run_tap(copy.deepcopy(dict(config)), expect_error=True)
    assert result.error is not None
    return _records_of(result), result.error


def _records_of(result: SyncResult) -> Records:
    records: Records = {}
    for message in result.of_type("RECORD"):
        records.setdefault(message["stream"], []).append(message["record"])
    return records


# ------------------------------------------------------------------------------ comparing
def _is_dlt_field(name: str) -> bool:
    return name.startswith("_dlt_")


def _key_of(record: Record, key: str | Sequence[str]) -> tuple[str, ...]:
    """A record's key as strings: the tap's built-in schemas type ids as strings, dlt keeps the
    API's type; that is the only normalisation the comparison makes to a key."""
    names = (key,) if isinstance(key, str) else tuple(key)
    return tuple("<missing>" if n not in record else str(record[n]) for n in names)


def _same(a: Any, b: Any) -> bool:
    """JSON-value equality: booleans are not numbers, 1 and 1.0 are the same number, nested
    objects and lists compare whole (what dlt yields before its normalizer flattens them)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _pairs(
    dlt_rows: list[Record], tap_rows: list[Record], key: str | Sequence[str], ordered: bool
) -> list[tuple[Record, Record]]:
    if ordered:
        return list(zip(dlt_rows, tap_rows, strict=True))
    by_key = {_key_of(r, key): r for r in tap_rows}
    return [(r, by_key[_key_of(r, key)]) for r in dlt_rows]


def assert_same_records(
    dlt_side: Records,
    tap_side: Records,
    resource: str,
    key: str | Sequence[str] = "id",
    *,
    ordered: bool = True,
    tap_drops: Collection[str] = (),
) -> None:
    """The tap loaded the records dlt loaded for `resource`.

    - Same keys (compared as strings), in the same order when `ordered` (the API defines one),
      else the same multiset (then keys must be unique to pair records).
    - Same values on every field both emit; dlt's own `_dlt_*` fields are ignored.
    - Every field dlt emits is emitted by the tap too, except those named in `tap_drops` (e.g. a
      built-in schema that leaves a field out on purpose): a silently dropped field is a parity
      failure, not a smaller comparison.
    - An empty comparison proves nothing, so dlt must have loaded at least one record.
    """
    dlt_rows = [{k: v for k, v in r.items() if not _is_dlt_field(k)} for r in dlt_side.get(resource, [])]
    tap_rows = list(tap_side.get(resource, []))
    assert dlt_rows, f"{resource}: dlt loaded no records, so there is nothing to compare"
    dlt_keys = [_key_of(r, key) for r in dlt_rows]
    tap_keys = [_key_of(r, key) for r in tap_rows]
    if ordered:
        if dlt_keys != tap_keys:
            first = next(
                (i for i, (d, t) in enumerate(zip(dlt_keys, tap_keys, strict=False)) if d != t),
                min(len(dlt_keys), len(tap_keys)),
            )
            raise AssertionError(
                f"{resource}: dlt loaded {len(dlt_keys)} records, the tap {len(tap_keys)}; first "
                f"difference at position {first}: dlt {dlt_keys[first : first + 3]} vs tap "
                f"{tap_keys[first : first + 3]}"
            )
    else:
        dlt_count, tap_count = Counter(dlt_keys), Counter(tap_keys)
        if dlt_count != tap_count:
            raise AssertionError(
                f"{resource}: only dlt: {sorted((dlt_count - tap_count).elements())[:MAX_REPORTED]}; "
                f"only the tap: {sorted((tap_count - dlt_count).elements())[:MAX_REPORTED]}"
            )
        assert max(dlt_count.values()) == 1, f"{resource}: duplicate keys; compare with ordered=True"
    key_fields = {key} if isinstance(key, str) else set(key)
    problems: list[str] = []
    for dlt_row, tap_row in _pairs(dlt_rows, tap_rows, key, ordered):
        where = f"{resource} {_key_of(dlt_row, key)}"
        dropped = sorted(set(dlt_row) - set(tap_row) - set(tap_drops))
        if dropped:
            problems.append(f"{where}: the tap does not emit {dropped}")
        for name in sorted((set(dlt_row) & set(tap_row)) - key_fields):
            if not _same(dlt_row[name], tap_row[name]):
                problems.append(f"{where}.{name}: dlt {dlt_row[name]!r} vs tap {tap_row[name]!r}")
    if problems:
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise AssertionError("; ".join(problems[:MAX_REPORTED]) + more)

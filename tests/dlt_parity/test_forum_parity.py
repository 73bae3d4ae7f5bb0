"""Every forum case (forum_cases.py) through dlt and through the tap against the sandbox's forum API.

The sandbox serves the forum (contract: forum_contract.md); test_examples.py checks the cases
statically (valid dlt configs, the example's shape kept). A case where the tap differs from dlt
on purpose asserts both sides' behaviour (`expect="tap_differs"`), and the difference is listed
in docs/dlt-compatibility.md (checked by `test_every_difference_is_documented`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from dlt import Pipeline

from sandbox import SandboxServer
from tap_analytics.instants import cursor_order
from tests.integration.helpers import run_tap

from .forum_cases import DEFAULT_POSTS, FORUM_CASES, ForumCase, materialize
from .forum_model import DIFFERENCES
from .harness import Records, assert_same_records, dlt_records, tap_failure, tap_records

COMPATIBILITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "dlt-compatibility.md"

#: The second run of an incremental case sees these edits (contract: "update posts", "add posts").
UPDATED, ADDED = 5, 3


def _data_requests(srv: SandboxServer) -> list[dict[str, Any]]:
    return [
        r
        for r in srv.request_log
        if r["path"].startswith("/forum/") and not r["path"].endswith("/oauth/token")
    ]


def _check_sent(case: ForumCase, srv: SandboxServer, side: str) -> None:
    """Every data request carried the case's query parameters and headers (and not its unsent ones)."""
    requests = _data_requests(srv)
    assert requests, f"{case.name} ({side}): no request reached the forum"
    for request in requests:
        query, headers = request["query"], {k.lower(): v for k, v in request["headers"].items()}
        for name, value in case.sent_query.items():
            assert query.get(name) == value, f"{case.name} ({side}): {request['path']} query {query}"
        for name, value in case.sent_headers.items():
            assert headers.get(name.lower()) == value, f"{case.name} ({side}): {request['path']} headers"
        for name in case.unsent_headers:
            assert name.lower() not in headers, f"{case.name} ({side}): {request['path']} sent {name}"


def _chain(error: BaseException) -> str:
    """The error and its causes as `Type: message` (dlt wraps a resource's error in its own)."""
    parts = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 10:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(parts)


def _compare(case: ForumCase, dlt_side: Records, tap_side: Records) -> None:
    loaded = {name for name, rows in dlt_side.items() if rows}
    assert set(tap_side) == loaded, f"{case.name}: dlt loaded {sorted(loaded)}, the tap {sorted(tap_side)}"
    for name in case.compare:
        ordered = case.ordered and name not in case.unordered
        assert_same_records(dlt_side, tap_side, name, case.key, ordered=ordered)


def _ids(records: Records, resource: str, key: str) -> list[str]:
    """The `key` of `resource`'s records, as strings (as `assert_same_records` compares keys)."""
    return [str(r.get(key)) for r in records.get(resource, [])]


def _assert_difference(case: ForumCase, srv: SandboxServer, config: Callable[[], dict[str, Any]]) -> None:
    """dlt does what `case` says it does on `differs_on`, the tap what the case says instead."""
    srv.reset_log()
    dlt_side = dlt_records(config())
    _check_sent(case, srv, "dlt")
    dlt_ids = _ids(dlt_side, case.differs_on, case.key)
    assert dlt_ids == [str(i) for i in case.dlt_ids], f"{case.name}: dlt loaded other records"
    srv.reset_log()
    same = [name for name in case.compare if name != case.differs_on]
    if case.tap_failure:
        emitted, error = tap_failure(config())
        said = f"{error} {getattr(error, 'errors', '')}"  # a config error keeps its lines apart
        assert re.search(case.tap_failure, str(error)), f"{case.name}: the tap failed otherwise: {said}"
        assert case.differs_on not in emitted, f"{case.name}: the tap emitted records, then failed"
        _check_sent(case, srv, "tap")
        tap_side: Records = {}
        if same:  # the rest of the config, without the resource the tap refuses, loads the same
            kept = [r for r in config()["resources"] if _name(r) != case.differs_on]
            tap_side, _ = tap_records({**config(), "resources": kept})
    else:
        tap_side, _ = tap_records(config())
        _check_sent(case, srv, "tap")
        assert _ids(tap_side, case.differs_on, case.key) == [str(i) for i in case.tap_ids], (
            f"{case.name}: the tap loaded other records"
        )
    for name in same:
        assert_same_records(dlt_side, tap_side, name, case.key, ordered=case.ordered)


def _name(resource: Any) -> str:
    """A `resources` entry's name (a string entry is its own name)."""
    return resource if isinstance(resource, str) else str(resource.get("name"))


def run_forum_case(case: ForumCase, srv: SandboxServer, pipeline: Pipeline) -> None:
    """Run `case` against `srv`'s forum through dlt (in `pipeline`) and the tap; assert `expect`."""
    srv.configure(forum_auth=case.forum_auth)
    if (case.posts or DEFAULT_POSTS) != DEFAULT_POSTS:
        srv.set_records({"forum/posts": case.posts or DEFAULT_POSTS})

    def config() -> dict[str, Any]:  # built per run: credentials may rotate
        built = materialize(case.config, srv.api_url("forum"), srv.credentials["forum"])
        assert isinstance(built, Mapping)
        return dict(built)

    if case.expect == "tap_differs":
        _assert_difference(case, srv, config)
        return
    if case.expect in ("dlt_fails", "both_fail"):
        with pytest.raises(Exception) as caught:  # dlt wraps the cause: matched on the chain below
            dlt_records(config())
        assert re.search(case.failure, _chain(caught.value)), _chain(caught.value)
        if case.expect == "both_fail":
            run_tap(config(), expect_error=True)
        return
    srv.reset_log()
    dlt_side = dlt_records(config(), pipeline=pipeline)
    if case.expect == "dlt_quirk":
        assert [r[case.key] for r in dlt_side[case.compare[0]]] == list(case.dlt_ids)
        return
    _check_sent(case, srv, "dlt")
    srv.reset_log()
    tap_side, state = tap_records(config())
    _check_sent(case, srv, "tap")
    _compare(case, dlt_side, tap_side)
    if case.second_run:
        srv.mutate("forum/posts", add=ADDED, update=UPDATED)
        dlt_again = dlt_records(config(), pipeline=pipeline)
        tap_again, _ = tap_records(config(), state=state)
        if case.boundary_repeats:
            tap_again = _without_boundary_repeats(case, tap_side, state, tap_again)
        _compare(case, dlt_again, tap_again)


def _without_boundary_repeats(
    case: ForumCase, first: Records, state: Mapping[str, Any], again: Records
) -> Records:
    """The tap's second run less the records it emits again at the first run's bookmark:
    unchanged records of the first run whose cursor equals the bookmark (by instant). There
    must be some (the declared difference happens) and nothing else may be left out."""
    kept: Records = dict(again)
    for name in case.compare:
        bookmark = state["bookmarks"][name]
        cursor, at = bookmark["replication_key"], cursor_order(bookmark["replication_key_value"])
        before = {str(r[case.key]): r for r in first.get(name, [])}
        repeats = [
            r for r in again.get(name, [])
            if before.get(str(r[case.key])) == r and cursor_order(r[cursor]) == at
        ]
        assert repeats, f"{case.name}: boundary repeats declared, none happened ({case.boundary_repeats})"
        kept[name] = [r for r in again[name] if not any(r is repeat for repeat in repeats)]
    return kept


@pytest.mark.parametrize("case", FORUM_CASES, ids=lambda c: c.name)
def test_forum_case(case: ForumCase, sandbox: SandboxServer, dlt_pipeline: Pipeline) -> None:
    run_forum_case(case, sandbox, dlt_pipeline)


def test_every_difference_is_documented() -> None:
    """Each deliberate difference a case pins is listed under its key in the compatibility doc,
    and each has a case; every difference the doc's tables cite is listed."""
    doc = COMPATIBILITY_DOC.read_text()
    listed = set(re.findall(r"^- \*\*`([a-z0-9_]+)`\*\*", doc, flags=re.MULTILINE))
    assert set(DIFFERENCES) <= listed, f"not in {COMPATIBILITY_DOC.name}: {set(DIFFERENCES) - listed}"
    cited = set(re.findall(r"— `([a-z0-9_]+)`", doc))  # the tap column's "differs ... — `key`"
    assert cited <= listed, f"cited but not listed: {cited - listed}"
    assert {c.differs for c in FORUM_CASES if c.expect == "tap_differs"} == set(DIFFERENCES)

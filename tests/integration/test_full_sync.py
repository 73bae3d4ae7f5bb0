"""Full and incremental syncs of each seed API against the live sandbox.

Every record the server holds arrives exactly once with the server's field values; the
tap makes exactly the requests the data needs; concurrency changes nothing in the
output; and a second sync from the final STATE emits only what changed.
"""

from __future__ import annotations

import copy
import json
import logging
from collections import Counter
from typing import Any

import pytest
from singer_sdk.streams import Stream

from sandbox import SandboxServer
from tap_analytics.instants import cursor_order
from tap_analytics.records import RecordPath

from .helpers import SyncResult, config_for, pages_needed, run_cli, run_tap
from .seeds import APIS, REPLICATION_KEYS, STREAMS

#: Record counts chosen to hit page-size edges: 0, 1, short first page, exact multiples
#: of the page size (50, 100, 200) and partial last pages.
COUNTS = {
    "devplatform/events": 260,
    "devplatform/organizations": 100,
    "devplatform/repositories": 0,
    "generic/resource_name": 130,
    "helpdesk/organizations": 50,
    "helpdesk/agents": 1,
    "helpdesk/tickets": 260,
    "timetracking/events": 250,
    "timetracking/clients": 100,
    "timetracking/users": 0,
    "timetracking/labels": 7,
    "timetracking/projects": 260,
    "statuspage/pages": 200,
    "statuspage/subscribers": 130,
}

#: Fields the seeds leave out of their schemas on purpose (seed 000: volatile fields).
DROPPED = {("devplatform", "events"): {"updated_at"}, ("devplatform", "organizations"): {"followers"}}

OAUTH_APIS = {"devplatform", "generic", "helpdesk"}


def _token_requests(srv: SandboxServer, api: str) -> int:
    return srv.token_requests.get(api, 0)


def _inference_probes(api: str, catalog: dict[str, Any] | None) -> int:
    """Seed 001's resource has no schema: a run without a catalog discovers it from page 1."""
    return 1 if api == "generic" and catalog is None else 0


def _assert_exactly_server_records(result: SyncResult, srv: SandboxServer, api: str) -> None:
    for name, key, _, _ in STREAMS[api]:
        expected = srv.records(key)
        got = result.records(name)
        ids = [str(r["id"]) for r in got]
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        assert not duplicates, f"{api}/{name}: records emitted twice: {duplicates[:5]}"
        assert len(got) == len(expected), f"{api}/{name}: {len(got)} records, server has {len(expected)}"
        assert set(ids) == {str(r["id"]) for r in expected}, f"{api}/{name}: id sets differ"
        by_id = {str(r["id"]): r for r in expected}
        dropped = DROPPED.get((api, name), set())
        for record in got:
            server = by_id[str(record["id"])]
            assert set(record) == set(server) - dropped, f"{api}/{name}: fields differ for {record['id']}"
            for field, value in record.items():
                assert value == server[field], (
                    f"{api}/{name} {record['id']}.{field}: {value!r} != {server[field]!r}"
                )


@pytest.mark.sandbox(records=COUNTS)
@pytest.mark.parametrize("api", APIS)
def test_every_record_exactly_once_and_requests_as_pages(sandbox: SandboxServer, api: str) -> None:
    result = run_tap(config_for(sandbox, api))

    _assert_exactly_server_records(result, sandbox, api)
    assert result.streams <= {name for name, _, _, _ in STREAMS[api]}
    # The server announces a total: exactly one request per page of data (one for an empty
    # resource), one token for the whole run (OAuth2 APIs), and nothing else.
    expected_total = 0
    for name, key, limit, _ in STREAMS[api]:
        needed = pages_needed(sandbox.record_count(key), limit)
        probes = _inference_probes(api, None)
        assert sandbox.data_request_count(key) == needed + probes, f"{api}/{name}"
        expected_total += needed + probes
    tokens = _token_requests(sandbox, api)
    assert tokens == (1 if api in OAUTH_APIS else 0)
    assert len(sandbox.request_log) == expected_total + tokens
    assert all(entry["status"] == 200 for entry in sandbox.request_log)


@pytest.mark.sandbox(records=30)
def test_fields_beyond_the_schema_are_dropped_with_one_log_line_per_stream(
    sandbox: SandboxServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Seed 000 leaves volatile fields out of its schemas: they are dropped, and said so once."""
    with caplog.at_level(logging.INFO):
        result = run_tap(config_for(sandbox, "devplatform"))

    assert all("updated_at" not in r for r in result.records("events"))
    assert all("followers" not in r for r in result.records("organizations"))
    for stream, field in (("events", "updated_at"), ("organizations", "followers")):
        lines = [
            r.getMessage() for r in caplog.records if stream in r.getMessage() and field in r.getMessage()
        ]
        assert len(lines) == 1, f"{stream}: expected one log line naming {field}, got {lines}"
    assert not [
        r for r in caplog.records if "repositories" in r.getMessage() and "dropping" in r.getMessage()
    ]


@pytest.mark.sandbox(records=COUNTS, include_total=False)
@pytest.mark.parametrize("concurrency", [1, 8], ids=["sequential", "concurrent"])
@pytest.mark.parametrize("api", APIS)
def test_without_total_at_most_one_extra_request_per_stream(
    sandbox: SandboxServer, api: str, concurrency: int
) -> None:
    result = run_tap(config_for(sandbox, api, max_concurrent_requests=concurrency))

    _assert_exactly_server_records(result, sandbox, api)
    for name, key, limit, _ in STREAMS[api]:
        needed = pages_needed(sandbox.record_count(key), limit) + _inference_probes(api, None)
        made = sandbox.data_request_count(key)
        assert needed <= made <= needed + 1, (
            f"{api}/{name}: {made} requests for {sandbox.record_count(key)} records in pages of "
            f"{limit} without a total; at most {needed + 1} allowed"
        )


@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize("api", APIS)
def test_concurrency_does_not_change_the_output(
    sandbox: SandboxServer, api: str, include_total: bool
) -> None:
    sandbox.set_records({key: 260 for _, key, _, _ in STREAMS[api]})
    sandbox.configure(include_total=include_total)

    sequential = run_tap(config_for(sandbox, api, max_concurrent_requests=1))
    concurrent = run_tap(config_for(sandbox, api))  # the default: 8

    assert len(sequential.of_type("RECORD")) == sum(260 for _ in STREAMS[api])
    assert concurrent.record_sequence() == sequential.record_sequence()
    assert concurrent.state == sequential.state


def _incremental_streams(api: str) -> list[tuple[str, str, str]]:
    return [
        (name, key, rk) for name, key, _, _ in STREAMS[api] if (rk := REPLICATION_KEYS[api][name]) is not None
    ]


INCREMENTAL_APIS = [api for api in APIS if _incremental_streams(api)]


@pytest.mark.sandbox(records=130)
@pytest.mark.parametrize("api", INCREMENTAL_APIS)
def test_second_sync_from_state_emits_nothing_older_than_the_bookmark(
    sandbox: SandboxServer, api: str
) -> None:
    first = run_tap(config_for(sandbox, api))
    state = copy.deepcopy(first.state)
    for name, key, rk in _incremental_streams(api):
        newest = max((r[rk] for r in sandbox.records(key)), key=cursor_order)
        assert first.bookmark(name) == newest, f"{api}/{name}: bookmark is not the newest {rk}"

    second = run_tap(config_for(sandbox, api), state=copy.deepcopy(state))

    for name, key, rk in _incremental_streams(api):
        bookmark = cursor_order(state["bookmarks"][name]["replication_key_value"])
        old = [r["id"] for r in second.records(name) if cursor_order(r[rk]) < bookmark]
        assert not old, f"{api}/{name}: re-emitted records older than the bookmark: {old[:5]}"
        # Nothing changed: only the records at the bookmark's instant come again (inclusive).
        at_bookmark = sorted(str(r["id"]) for r in sandbox.records(key) if cursor_order(r[rk]) == bookmark)
        assert sorted(second.ids(name)) == at_bookmark, f"{api}/{name}"
        assert len(at_bookmark) >= 1
        assert second.bookmark(name) == first.bookmark(name)
    for name, key, _, _ in STREAMS[api]:
        if REPLICATION_KEYS[api][name] is None:  # full table: everything again, once
            assert sorted(second.ids(name)) == sorted(str(r["id"]) for r in sandbox.records(key))


@pytest.mark.sandbox(records=130)
@pytest.mark.parametrize("api", INCREMENTAL_APIS)
def test_second_sync_emits_exactly_added_and_updated(sandbox: SandboxServer, api: str) -> None:
    first = run_tap(config_for(sandbox, api))
    changed: dict[str, set[str]] = {}
    for name, key, _ in _incremental_streams(api):
        result = sandbox.mutate(key, add=3, update=2)
        assert len(result["added"]) == 3
        assert len(result["updated"]) == 2
        changed[name] = set(result["added"]) | set(result["updated"])

    second = run_tap(config_for(sandbox, api), state=copy.deepcopy(first.state))

    for name, key, rk in _incremental_streams(api):
        ids = second.ids(name)
        assert len(ids) == len(set(ids)), f"{api}/{name}: {ids}"
        # Inclusive: the changed records, plus any record still at the first run's bookmark.
        at_bookmark = _at_bookmark(sandbox, key, rk, first.bookmark(name))
        assert set(ids) == changed[name] | at_bookmark, f"{api}/{name}"
        server = {str(r["id"]): r for r in sandbox.records(key)}
        for record in second.records(name):
            assert record[rk] == server[str(record["id"])][rk]
        newest = max((r[rk] for r in server.values()), key=cursor_order)
        assert second.bookmark(name) == newest
        assert cursor_order(second.bookmark(name)) > cursor_order(first.bookmark(name))


@pytest.mark.sandbox(records=130)
def test_incremental_start_param_is_sent_and_filters_server_side(sandbox: SandboxServer) -> None:
    """An `incremental` with `start_param`: the bookmark goes to the server (fewer pages)."""
    config = config_for(sandbox, "generic")
    config["resources"][0]["endpoint"]["incremental"] = {
        "cursor_path": "updated_at",
        "start_param": "updated_since",
        "initial_value": "2024-01-01T00:00:00Z",
    }
    first = run_tap(config)
    assert len(first.records("resource_name")) == 130
    # The first request is discovery's schema probe (no schema in the config); then 2 pages.
    first_queries = [e["query"] for e in sandbox.request_log if e["resource"] == "generic/resource_name"]
    assert len(first_queries) == 3
    assert all(q.get("updated_since") == "2024-01-01T00:00:00Z" for q in first_queries[1:])

    sandbox.mutate("generic/resource_name", add=2, update=1)
    sandbox.reset_log()
    second = run_tap(config, state=copy.deepcopy(first.state))

    bookmark = first.bookmark("resource_name")
    at_bookmark = _at_bookmark(sandbox, "generic/resource_name", "updated_at", bookmark)
    assert len(second.records("resource_name")) == 3 + len(at_bookmark)
    data = [e for e in sandbox.request_log if e["resource"] == "generic/resource_name"]
    assert len(data) == 2, "the probe, then one page: the few records since the bookmark"
    assert data[1]["query"].get("updated_since") == bookmark


def _at_bookmark(sandbox: SandboxServer, key: str, rk: str, bookmark: Any) -> set[str]:
    """Ids of the server's records whose cursor is exactly at `bookmark`: an inclusive
    incremental run emits them again (none without a bookmark: an empty stream)."""
    if bookmark is None:
        return set()
    at = cursor_order(bookmark)
    return {str(r["id"]) for r in sandbox.records(key) if cursor_order(r[rk]) == at}


# ------------------------------------------------------------------ the real CLI
@pytest.mark.sandbox(records=COUNTS)
@pytest.mark.parametrize("api", ["helpdesk", "timetracking", "statuspage"])
def test_cli_full_then_incremental_sync(sandbox: SandboxServer, api: str, tmp_path: Any) -> None:
    first = run_cli(tmp_path, config_for(sandbox, api))
    assert first.returncode == 0, first.stderr[-2000:]
    _assert_exactly_server_records(first, sandbox, api)

    changed = {}
    for name, key, _ in _incremental_streams(api):
        result = sandbox.mutate(key, add=1, update=1)
        changed[name] = set(result["added"]) | set(result["updated"])
    # A rotating refresh token was spent by the first run: use the current one.
    second = run_cli(tmp_path, config_for(sandbox, api), state=first.state)

    assert second.returncode == 0, second.stderr[-2000:]
    for name, key, rk in _incremental_streams(api):
        expected = changed[name] | _at_bookmark(sandbox, key, rk, first.bookmark(name))
        assert sorted(second.ids(name)) == sorted(expected), f"{api}/{name}"
        assert second.bookmark(name) == max((r[rk] for r in sandbox.records(key)), key=cursor_order)


def _without_clock(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages less what depends on the clock (time_extracted, ACTIVATE_VERSION's version)."""
    kept = copy.deepcopy(messages)
    for message in kept:
        message.pop("time_extracted", None)
        message.pop("version", None)
    return kept


@pytest.mark.parametrize("api", APIS)
def test_the_plain_record_loop_writes_what_the_sdks_loop_writes(
    sandbox: SandboxServer, api: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`RecordPath._plain_records` replaces the SDK's `_sync_records` for plain streams: the
    same RECORD, SCHEMA and STATE messages in the same order (with the SDK's periodic STATE
    every 70 records asked for, mid-page), and the same record counts in the metrics."""
    sandbox.set_records({key: 260 for _, key, _, _ in STREAMS[api]})
    monkeypatch.setattr(Stream, "STATE_MSG_FREQUENCY", 70)

    def counted(result: SyncResult) -> Counter[str]:
        totals: Counter[str] = Counter()
        for record in caplog.records:
            text = record.getMessage()
            if '"metric":"record_count"' in text:
                point = json.loads(text.split("METRIC: ", 1)[1])
                totals[point["tags"]["stream"]] += point["value"]
        caplog.clear()
        return totals

    with caplog.at_level(logging.INFO, logger="singer_sdk.metrics"):
        plain = run_tap(config_for(sandbox, api))
        plain_counts = counted(plain)
        monkeypatch.setattr(RecordPath, "_plain_loop_applies", lambda self, context: False)
        reference = run_tap(config_for(sandbox, api))
        reference_counts = counted(reference)

    assert _without_clock(plain.messages) == _without_clock(reference.messages)
    assert plain_counts == reference_counts == Counter(
        {name: 260 for name, _, _, _ in STREAMS[api]}
    )

"""Paging edge cases against the live sandbox: where the data ends, servers that cap or
ignore the page size, page numbers, and concurrency under random faults."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.client import AnalyticsStream
from tests.fakes import FakeClock

from .helpers import config_for, pages_needed, run_tap
from .seeds import STREAMS


def _only(config: dict, *names: str) -> dict:
    """`config` with only the resources named."""
    config = copy.deepcopy(config)
    config["resources"] = [r for r in config["resources"] if r["name"] in names]
    return config


def _queries(srv: SandboxServer, key: str) -> list[dict[str, str]]:
    return [e["query"] for e in srv.request_log if e["resource"] == key]


def _assert_stream_complete(result, srv: SandboxServer, name: str, key: str) -> None:
    ids = result.ids(name)
    assert len(ids) == len(set(ids)), f"{name}: duplicates"
    assert ids == [str(r["id"]) for r in srv.records(key)], f"{name}: not every record, in order"


class LoopGuardError(Exception):
    """The tap kept paging far beyond any sane number of pages."""


def _guard_against_loops(monkeypatch: pytest.MonkeyPatch, max_pages: int) -> None:
    """Fail (instead of hanging) if the tap parses more than `max_pages` pages."""
    original = AnalyticsStream.parse_page
    count = [0]

    def parse_page(self: AnalyticsStream, response: Any) -> Any:
        count[0] += 1
        if count[0] > max_pages:
            raise LoopGuardError(f"more than {max_pages} pages parsed: the tap loops")
        return original(self, response)

    monkeypatch.setattr(AnalyticsStream, "parse_page", parse_page)


# ------------------------------------------------------------------- where data ends
@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize(
    ("api", "name", "count"),
    [
        ("helpdesk", "agents", 100),  # 2 pages of 50
        ("devplatform", "organizations", 200),  # 2 pages of 100
        ("timetracking", "events", 300),  # 3 pages by number
        ("statuspage", "subscribers", 100),  # exactly one full page
    ],
)
def test_exact_multiple_of_the_page_size(
    sandbox: SandboxServer, api: str, name: str, count: int, include_total: bool
) -> None:
    key = f"{api}/{name}"
    sandbox.set_records({key: count})
    sandbox.configure(include_total=include_total)

    result = run_tap(_only(config_for(sandbox, api, max_concurrent_requests=1), name))

    _assert_stream_complete(result, sandbox, name, key)
    limit = next(limit for n, _, limit, _ in STREAMS[api] if n == name)
    # With a total: no request beyond the data; without: exactly one (the empty page).
    assert sandbox.data_request_count(key) == count // limit + (0 if include_total else 1)


@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize(
    ("api", "name"),
    [("devplatform", "events"), ("helpdesk", "tickets"), ("timetracking", "events"), ("statuspage", "pages")],
)
def test_empty_first_page_is_one_request_and_no_records(
    sandbox: SandboxServer, api: str, name: str, include_total: bool
) -> None:
    key = f"{api}/{name}"
    sandbox.set_records({key: 0})
    sandbox.configure(include_total=include_total)

    result = run_tap(_only(config_for(sandbox, api), name))

    assert result.records(name) == []
    assert len(result.of_type("SCHEMA", name)) == 1
    assert sandbox.data_request_count(key) == 1


@pytest.mark.parametrize("count", [1, 49, 51, 149])
def test_no_total_stops_after_at_most_one_extra_request(sandbox: SandboxServer, count: int) -> None:
    sandbox.set_records({"helpdesk/tickets": count})
    sandbox.configure(include_total=False)

    result = run_tap(_only(config_for(sandbox, "helpdesk", max_concurrent_requests=1), "tickets"))

    _assert_stream_complete(result, sandbox, "tickets", "helpdesk/tickets")
    needed = pages_needed(count, 50)
    assert needed <= sandbox.data_request_count("helpdesk/tickets") <= needed + 1
    offsets = [int(q["offset"]) for q in _queries(sandbox, "helpdesk/tickets")]
    assert offsets == sorted(set(offsets)), "no page requested twice"


# ------------------------------------------------------------------ capped page size
@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize(
    ("api", "name", "count"),
    [
        ("devplatform", "repositories", 130),
        ("timetracking", "events", 130),
        ("timetracking", "projects", 260),
    ],
)
def test_server_capping_the_page_size_loses_nothing(
    sandbox: SandboxServer, api: str, name: str, count: int, include_total: bool, concurrency: int
) -> None:
    key = f"{api}/{name}"
    sandbox.set_records({key: count})
    sandbox.configure(include_total=include_total, max_page_size=30)

    result = run_tap(_only(config_for(sandbox, api, max_concurrent_requests=concurrency), name))

    _assert_stream_complete(result, sandbox, name, key)
    if concurrency == 1:
        needed = pages_needed(count, 30)
        assert needed <= sandbox.data_request_count(key) <= needed + 1


@pytest.mark.parametrize("count", [0, 29, 30, 61])
def test_capped_page_size_without_total_small_resources(sandbox: SandboxServer, count: int) -> None:
    """A first page shorter than asked is not the end when the server caps the page size."""
    sandbox.set_records({"statuspage/pages": count})
    sandbox.configure(include_total=False, max_page_size=30)

    result = run_tap(_only(config_for(sandbox, "statuspage", max_concurrent_requests=1), "pages"))

    _assert_stream_complete(result, sandbox, "pages", "statuspage/pages")
    needed = pages_needed(count, 30)
    assert needed <= sandbox.data_request_count("statuspage/pages") <= needed + 1


# ------------------------------------------------------------ server ignoring paging
@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize(
    ("api", "name"), [("devplatform", "events"), ("helpdesk", "agents"), ("timetracking", "events")]
)
def test_server_ignoring_paging_fails_the_stream_clearly(
    sandbox: SandboxServer,
    api: str,
    name: str,
    include_total: bool,
    concurrency: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = f"{api}/{name}"
    sandbox.set_records({key: 260})
    sandbox.configure(include_total=include_total, ignore_paging=True)
    _guard_against_loops(monkeypatch, max_pages=50)

    result = run_tap(
        _only(config_for(sandbox, api, max_concurrent_requests=concurrency), name), expect_error=True
    )

    message = str(result.error)
    assert not isinstance(result.error, LoopGuardError), message
    assert f"stream {name}" in message
    assert "same page" in message
    assert "paginator" in message
    assert "\n" not in message
    # Detected on the first repeat: a bounded number of requests, not a loop.
    assert sandbox.data_request_count(key) <= (2 if concurrency == 1 else concurrency + 1)
    # The first page's records were emitted once, never the repeat.
    ids = result.ids(name)
    assert len(ids) == len(set(ids))


@pytest.mark.sandbox(records=50, endless=True, include_total=False)
def test_endless_server_is_bounded_by_maximum_offset(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that never sends an empty page: `maximum_offset` bounds the walk."""
    _guard_against_loops(monkeypatch, max_pages=20)
    config = _only(config_for(sandbox, "statuspage", max_concurrent_requests=1), "subscribers")
    config["resources"][0]["endpoint"]["paginator"]["maximum_offset"] = 300

    result = run_tap(config)

    assert len(result.records("subscribers")) == 300
    assert sandbox.data_request_count("statuspage/subscribers") == 3


# ----------------------------------------------------------------- page numbers
@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize("count", [0, 99, 100, 250])
def test_page_number_paging_on_timetracking_events(
    sandbox: SandboxServer, count: int, include_total: bool
) -> None:
    sandbox.set_records({"timetracking/events": count})
    sandbox.configure(include_total=include_total)

    result = run_tap(_only(config_for(sandbox, "timetracking", max_concurrent_requests=1), "events"))

    _assert_stream_complete(result, sandbox, "events", "timetracking/events")
    queries = _queries(sandbox, "timetracking/events")
    assert all(q["per_page"] == "100" and "offset" not in q for q in queries)
    pages = [int(q["page"]) for q in queries]
    assert pages == list(range(1, len(pages) + 1)), "page numbers from 1, each once"
    needed = pages_needed(count, 100)
    if include_total:
        assert len(pages) == needed
    else:
        assert needed <= len(pages) <= needed + 1


# ----------------------------------------------------- concurrency under random faults
FAULTY = {
    "devplatform": [429, 500, 502, 503, 504, "drop"],
    "timetracking": [429, 500, 502, 503, 504],
    "statuspage": [420, 429],
}


@pytest.mark.parametrize("api", sorted(FAULTY))
def test_concurrency_on_off_equivalent_under_random_faults(
    sandbox: SandboxServer, fake_clock: FakeClock, api: str
) -> None:
    sandbox.set_records({key: 260 for _, key, _, _ in STREAMS[api]})

    def run(concurrency: int):
        sandbox.configure(fail_rate=0.2, fault_seed=7, fail_statuses=FAULTY[api])
        config = config_for(sandbox, api, max_concurrent_requests=concurrency)
        # Enough retries that a 20 % fault rate never exhausts them (0.2^9 per page).
        for resource in config["resources"]:
            handler = resource["endpoint"].setdefault("error_handler", {})
            handler["max_retries"] = 8
        config["client"].setdefault("error_handler", {})["max_retries"] = 8
        return run_tap(config)

    sequential = run(1)
    sequential_sleeps = len(fake_clock.sleeps)
    concurrent = run(8)

    assert sequential_sleeps > 0, "faults were injected and retried"
    assert len(fake_clock.sleeps) > sequential_sleeps
    failed = [e for e in sandbox.request_log if e["status"] != 200 and e["resource"]]
    assert failed, "the sandbox injected faults"
    for name, key, _, _ in STREAMS[api]:
        _assert_stream_complete(sequential, sandbox, name, key)
    assert concurrent.record_sequence() == sequential.record_sequence()
    assert concurrent.state == sequential.state


@pytest.mark.sandbox(records=2000, latency_ms=60)
@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_requests_in_flight_fill_but_never_exceed_max_concurrent_requests(
    sandbox: SandboxServer, concurrency: int
) -> None:
    """The pool bounds the requests in flight at max_concurrent_requests, and with
    latency to hide, the look-ahead keeps every one of them busy."""
    config = _only(config_for(sandbox, "timetracking", max_concurrent_requests=concurrency), "clients")
    result = run_tap(config)  # 20 pages of 100
    _assert_stream_complete(result, sandbox, "clients", "timetracking/clients")
    assert sandbox.peak_concurrency == concurrency


@pytest.mark.sandbox(records=1030, include_total=False, latency_ms=30)
@pytest.mark.parametrize("concurrency", [3, 8])
def test_speculative_paging_without_total_wastes_at_most_the_window(
    sandbox: SandboxServer, concurrency: int
) -> None:
    """Without a total, `speculative_paging` fetches ahead anyway: the records are the
    sequential run's, and at most `max_concurrent_requests` requests go past the end, plus
    the empty page that ends the walk (dlt's rule: a short page may be mid-data).

    The latency keeps the look-ahead open: on bare loopback pages can arrive before
    they are needed, the fetcher then rightly stops looking ahead, and whether it
    reached past the end would depend on the machine's scheduling."""
    name, key = "clients", "timetracking/clients"
    sequential = run_tap(_only(config_for(sandbox, "timetracking", max_concurrent_requests=1), name))
    sandbox.reset_log()
    config = config_for(sandbox, "timetracking", max_concurrent_requests=concurrency,
                        speculative_paging=True)
    ahead = run_tap(_only(config, name))
    assert ahead.record_sequence() == sequential.record_sequence()
    _assert_stream_complete(ahead, sandbox, name, key)
    needed = pages_needed(sandbox.record_count(key), 100)  # 11 pages, the last one short
    made = sandbox.data_request_count(key)
    assert needed < made <= needed + concurrency + 1, made  # it did fetch ahead, within bounds


@pytest.mark.sandbox(latency_ms=20)
@pytest.mark.parametrize("include_total", [True, False], ids=["total", "no-total"])
@pytest.mark.parametrize("count", [1300, 1250, 100])
def test_seed_003_events_by_page_number_with_8_in_flight(
    sandbox: SandboxServer, count: int, include_total: bool
) -> None:
    """Seed 003's events: page numbers whose `total` counts pages. With 8 requests in
    flight (and latency, so the look-ahead is used), every page once and none past the
    last: requests = pages needed (+1 without a total, to see the end)."""
    sandbox.set_records({"timetracking/events": count})
    sandbox.configure(include_total=include_total)

    result = run_tap(_only(config_for(sandbox, "timetracking", max_concurrent_requests=8), "events"))

    _assert_stream_complete(result, sandbox, "events", "timetracking/events")
    pages = sorted(int(q["page"]) for q in _queries(sandbox, "timetracking/events"))
    needed = pages_needed(count, 100)
    assert pages == list(range(1, len(pages) + 1)), "each page once"
    assert len(pages) == needed if include_total else needed <= len(pages) <= needed + 1
    if include_total and count > 200:
        assert sandbox.peak_concurrency > 1, "pages were fetched ahead"

"""Head starts: the first pages of the next streams are requested while a stream ends, and
nothing of the output changes -- records, their order, STATE, and the requests made.

Run against the sandbox's timetracking API (five streams, one page each unless a test
says otherwise); a run with `max_concurrent_requests=1`, which takes no head starts, is
the reference.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from sandbox.transport import _json
from tap_analytics import headstart
from tap_analytics.headstart import FirstRequest, HeadStarts

from .helpers import SyncResult, config_for, meet, run_tap
from .seeds import STREAMS

API = "timetracking"
NAMES = [name for name, *_ in STREAMS[API]]
KEYS = {name: key for name, key, *_ in STREAMS[API]}


def _data_requests(srv: SandboxServer) -> list[str]:
    return [r["resource"] for r in srv.request_log if r["resource"]]


def _sync_order(result: SyncResult) -> list[str]:
    """The streams in the order their records came."""
    return list(dict.fromkeys(m["stream"] for m in result.of_type("RECORD")))


def _same_output(result: SyncResult, reference: SyncResult) -> None:
    assert result.record_sequence() == reference.record_sequence()
    assert [m["value"] for m in result.of_type("STATE")][-1] == reference.state


def _hold_together(
    monkeypatch: pytest.MonkeyPatch, srv: SandboxServer, keys: set[str], timeout: float = 10
) -> dict[str, Any]:
    """Hold the first request of each resource in `keys` until all of them are being served
    at once (at most `timeout` s): the barrier trips only if the tap has them in flight
    together."""
    barrier = threading.Barrier(len(keys), timeout=timeout)
    seen: dict[str, Any] = {"tripped": False, "held": set()}
    lock = threading.Lock()
    original = srv._data

    def data(api: str, rest: str, *args: Any) -> Any:
        key = next((k for k in keys if k == f"{api}{rest}".replace("/v1/resource", "")), None)
        with lock:
            held = key is not None and key not in seen["held"]
            if held:
                seen["held"].add(key)
        if held and meet(barrier):
            seen["tripped"] = True
        return original(api, rest, *args)

    monkeypatch.setattr(srv, "_data", data)
    return seen


@pytest.mark.sandbox(records=30)
def test_the_next_streams_first_pages_are_in_flight_together(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    reference = run_tap(config_for(sandbox, API, max_concurrent_requests=1))
    order = _sync_order(reference)
    assert len(order) == len(NAMES)
    sandbox.reset_log()
    # The third and fourth streams: in a run one stream after another, the fourth's first
    # request is sent only once the third's response is in.
    seen = _hold_together(monkeypatch, sandbox, {KEYS[order[2]], KEYS[order[3]]})

    result = run_tap(config_for(sandbox, API))

    assert seen["tripped"], "the first pages of streams 3 and 4 were never in flight at once"
    _same_output(result, reference)
    assert sorted(_data_requests(sandbox)) == sorted(KEYS.values()), "one request per one-page stream"


@pytest.mark.sandbox(records=30)
def test_one_stream_after_another_without_concurrency(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    # Nothing will arrive together: a short wait is enough.
    seen = _hold_together(monkeypatch, sandbox, {KEYS[NAMES[2]], KEYS[NAMES[3]]}, timeout=0.5)

    run_tap(config_for(sandbox, API, max_concurrent_requests=1))

    assert not seen["tripped"], "max_concurrent_requests=1 sends one request at a time"


@pytest.mark.sandbox(records=250)
def test_an_incremental_rerun_takes_its_head_starts_from_the_bookmarks(sandbox: SandboxServer) -> None:
    first = run_tap(_server_side_incremental(sandbox))
    for name in NAMES:
        sandbox.mutate(KEYS[name], add=2, update=1)
    reference = run_tap(_server_side_incremental(sandbox, max_concurrent_requests=1), state=first.state)
    sandbox.reset_log()

    result = run_tap(_server_side_incremental(sandbox), state=first.state)

    _same_output(result, reference)
    starts = {r["resource"]: r["query"].get("updated_since") for r in sandbox.request_log if r["resource"]}
    for name in NAMES:
        assert starts[KEYS[name]] == first.bookmark(name), f"{name}: the head start asks from the bookmark"
    assert len(_data_requests(sandbox)) == len(NAMES), (
        "every head start was the request its stream needed: none sent twice"
    )


def _server_side_incremental(srv: SandboxServer, **top_level: Any) -> dict[str, Any]:
    """The seed config, each stream sending its bookmark as `updated_since`."""
    config = config_for(srv, API, **top_level)
    for resource in config["resources"]:
        resource["endpoint"]["incremental"] = {"cursor_path": "updated_at", "start_param": "updated_since"}
    return config


@pytest.mark.sandbox(records=250)
def test_a_stale_head_start_is_fetched_again_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    reference = run_tap(config_for(sandbox, API, max_concurrent_requests=1))
    needed = len(_data_requests(sandbox))
    sandbox.reset_log()
    monkeypatch.setattr(headstart, "MAX_AGE_SECONDS", -1.0)  # every head start is too old

    result = run_tap(config_for(sandbox, API))

    _same_output(result, reference)
    # Streams 2-5 were started ahead and fetched again; the first never is.
    assert len(_data_requests(sandbox)) == needed + len(NAMES) - 1


@pytest.mark.sandbox(records=30)
def test_a_failed_head_start_fails_its_own_stream_after_the_streams_before_it(
    monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    order = _sync_order(run_tap(config_for(sandbox, API, max_concurrent_requests=1)))
    failing = order[3]
    original = sandbox._data

    def data(api: str, rest: str, *args: Any) -> Any:
        if rest.endswith(f"/{failing}"):
            return _json(403, {"error": "forbidden"}), KEYS[failing]
        return original(api, rest, *args)

    monkeypatch.setattr(sandbox, "_data", data)

    result = run_tap(config_for(sandbox, API), expect_error=True)

    assert failing in str(result.error)
    assert "403" in str(result.error)
    assert _sync_order(result) == order[:3], "the streams before it are complete"
    assert all(m["stream"] != failing for m in result.of_type("RECORD"))
    assert result.bookmark(failing) is None, "STATE claims nothing of the failed stream"


# ------------------------------------------------------------------------- the store
class _Stream:
    def __init__(self, name: str, key: str, sent: list[str]) -> None:
        self.name, self.key, self.sent = name, key, sent

    def first_request(self) -> FirstRequest | None:
        return FirstRequest(self.key, lambda: self.sent.append(self.name))  # type: ignore[arg-type, func-returns-value]


def test_a_head_start_is_used_only_for_the_request_it_was_made_for() -> None:
    sent: list[str] = []
    starts = HeadStarts()
    starts.offer([_Stream("a", "k1", sent), _Stream("b", "k2", sent)], free=8)

    assert starts.take("a", "another") is None, "a different first request: not used"
    taken = starts.take("b", "k2")
    assert taken is not None
    taken.result(timeout=5)
    assert starts.take("b", "k2") is None, "taken once"


def test_offers_start_no_more_than_the_free_slots_and_each_stream_once() -> None:
    sent: list[str] = []
    starts = HeadStarts()
    streams = [_Stream(n, n, sent) for n in "abc"]
    starts.offer(streams, free=1)
    first = starts.take("a", "a")
    assert first is not None
    first.result(timeout=5)
    starts.offer(streams, free=2)  # a is done: b and c may start; a is never offered again

    for name in "bc":
        taken = starts.take(name, name)
        assert taken is not None
        taken.result(timeout=5)
    assert sorted(sent) == ["a", "b", "c"]


def test_a_head_start_in_flight_finishes_before_the_process_exits(tmp_path: Path) -> None:
    # A run that fails early must not cut off a head start mid-request: its request may be
    # the one that rotates a refresh token, which is kept only once the response is in.
    done = tmp_path / "done"
    script = (
        "import pathlib, time\n"
        "from tap_analytics.headstart import _run\n"
        f"def send():\n    time.sleep(0.3)\n    pathlib.Path({str(done)!r}).write_text('kept')\n"
        "_run('later-stream', send)\n"
        "raise SystemExit(1)  # the run fails at once\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )

    assert proc.returncode == 1, proc.stderr
    assert done.read_text() == "kept", "the process exited while the head start was in flight"

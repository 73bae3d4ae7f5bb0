"""Crash and resume: the real CLI is killed at random points of a sync and resumed from
the last STATE it emitted, until a run completes.

The tap writes a STATE naming the page it is about to read (`bookmarks.<stream>.paging`)
before every page, flushing the records of the page before. So whatever the kill point,
the union of the runs' RECORDs holds every record, and a resumed run re-reads at most the
one page that was in flight per stream. SIGTERM/SIGINT end with that STATE and a non-zero
exit code, not the SDK's silent exit 0.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tests.integration.seeds import STREAMS

from .helpers import (
    SEED_APIS,
    TRACEBACK,
    CliRun,
    TapProcess,
    duplicates,
    ground_truth,
    leaked,
    page_size,
    record_ids,
    sandbox_secrets,
    small_config,
    sync_in_process,
)

RECORDS = 35
PAGE = 10
LATENCY_MS = 3
#: Kills per kill point before the run that is left to complete.
MAX_KILLS = 2
#: (api, seed): 4 kill points per seed configuration, 20 in all; even seeds fetch pages
#: one at a time, odd seeds with the default concurrency (pages fetched ahead).
KILL_POINTS = [(api, seed) for api in SEED_APIS for seed in range(4)]


@dataclass
class Resumed:
    """The runs of one kill point, in order; all but the last were SIGKILLed."""

    api: str
    config: dict[str, Any]
    truth: dict[str, list[str]]
    runs: list[CliRun] = field(default_factory=list)
    states: list[dict[str, Any] | None] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def ids(self, index: int) -> dict[str, list[str]]:
        return record_ids(self.runs[index].messages)


def _kill_and_resume(srv: SandboxServer, workdir: Path, api: str, seed: int) -> Resumed:
    top: dict[str, Any] = {"max_concurrent_requests": 1} if seed % 2 == 0 else {}
    config = small_config(srv, api, limit=PAGE, **top)
    result = Resumed(api, config, ground_truth(srv, api))
    rng = random.Random(f"crash-resume:{api}:{seed}")
    lines_per_run = RECORDS * len(STREAMS[api]) + 4 * len(STREAMS[api])
    state: dict[str, Any] | None = None
    for attempt in range(MAX_KILLS + 1):
        result.states.append(state)
        proc = TapProcess(workdir, config, state=state, name=f"run{attempt}")
        if attempt < MAX_KILLS:
            # helpdesk rotates its refresh token on the first request: killing the tap
            # between the server's rotation and the tap's save would lose the token (no
            # client can prevent that), so its kills count from the first record.
            if api == "helpdesk":
                while proc.read_lines(1) and b'"RECORD"' not in proc.read[-1]:
                    pass
            if proc.read_lines(rng.randint(1, lines_per_run // 2)):
                proc.send(signal.SIGKILL)
        run = proc.finish()
        result.runs.append(run)
        if not run.killed:
            break
        state = run.last_state or state
    result.secrets = sandbox_secrets(srv)
    return result


@pytest.fixture(scope="module")
def all_resumed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, int], Resumed]]:
    """Every kill point's runs, computed once (three points at a time: each run is a
    process) and shared by the tests that judge them."""
    servers = {point: SandboxServer(records=RECORDS, latency_ms=LATENCY_MS).start() for point in KILL_POINTS}
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = {
                point: pool.submit(
                    _kill_and_resume,
                    servers[point],
                    tmp_path_factory.mktemp(f"{point[0]}-{point[1]}"),
                    *point,
                )
                for point in KILL_POINTS
            }
            yield {point: future.result() for point, future in futures.items()}
    finally:
        for srv in servers.values():
            srv.stop()


@pytest.fixture
def resumed(request: pytest.FixtureRequest, all_resumed: dict[tuple[str, int], Resumed]) -> Resumed:
    return all_resumed[request.param]


def _finished(state: dict[str, Any] | None, stream: str) -> bool:
    """Whether `state` (a killed run's last) says `stream` had been synced to its end while
    others were not: the tap marks it `paging: {"done": true}` until the run completes."""
    bookmark = ((state or {}).get("bookmarks") or {}).get(stream) or {}
    return bookmark.get("paging") == {"done": True}


def _complete(state: dict[str, Any] | None) -> bool:
    """Whether `state` is that of a completed run (killed after its last STATE): no stream
    has a resume marker, so the next run is a new sync, not a resume."""
    bookmarks = (state or {}).get("bookmarks") or {}
    return bool(bookmarks) and all("paging" not in b for b in bookmarks.values())


def _describe(result: Resumed) -> str:
    runs = []
    for i, run in enumerate(result.runs):
        records = sum(map(len, record_ids(run.messages).values()))
        runs.append(f"run {i}: rc={run.returncode} killed={run.killed} records={records}")
    return "; ".join(runs)


@pytest.mark.parametrize("resumed", KILL_POINTS, indirect=True, ids=[f"{a}-{s}" for a, s in KILL_POINTS])
def test_killed_and_resumed_sync_loses_no_record(resumed: Resumed) -> None:
    assert any(r.killed for r in resumed.runs), "the kill never landed: the test proves nothing"
    final = resumed.runs[-1]
    assert not final.killed, _describe(resumed)
    assert final.returncode == 0, f"{_describe(resumed)}\n{final.stderr[-2000:]}"
    union: dict[str, set[str]] = {}
    for index in range(len(resumed.runs)):
        for stream, ids in resumed.ids(index).items():
            union.setdefault(stream, set()).update(ids)
    for stream, truth in resumed.truth.items():
        missing = set(truth) - union.get(stream, set())
        assert not missing, f"{resumed.api}/{stream}: lost {sorted(missing)[:5]} ({_describe(resumed)})"


def _reread(resumed: Resumed) -> list[tuple[int, str, int, bool]]:
    """(run, stream, records it emitted again, whether its resume STATE said finished)."""
    out = []
    seen: dict[str, set[str]] = {}
    for index in range(len(resumed.runs)):
        ids = resumed.ids(index)
        for stream, stream_ids in ids.items():
            if index:
                again = sum(1 for i in stream_ids if i in seen.get(stream, set()))
                out.append((index, stream, again, _finished(resumed.states[index], stream)))
        for stream, stream_ids in ids.items():
            seen.setdefault(stream, set()).update(stream_ids)
    return out


@pytest.mark.parametrize("resumed", KILL_POINTS, indirect=True, ids=[f"{a}-{s}" for a, s in KILL_POINTS])
def test_resume_rereads_at_most_one_page_per_stream(resumed: Resumed) -> None:
    """A stream interrupted mid-way is resumed at the page that was in flight: a resumed run
    emits again at most one page of it (STATE is written before every page)."""
    for index, stream, again, finished in _reread(resumed):
        limit = page_size(resumed.config, stream)
        assert finished or _complete(resumed.states[index]) or again <= limit, (
            f"{resumed.api}/{stream}: run {index} re-emitted {again} records (page size {limit}), "
            f"resumed from STATE {json.dumps(resumed.states[index])[:400]}"
        )


@pytest.mark.parametrize("resumed", KILL_POINTS, indirect=True, ids=[f"{a}-{s}" for a, s in KILL_POINTS])
def test_resume_does_not_reread_streams_finished_before_the_kill(resumed: Resumed) -> None:
    """The issue's bound (at most one page per stream) holds for streams the killed run had
    already finished too: resuming must not sync them again from the start.

    The tap marks a finished stream `paging: {"done": true}` until the whole run completes,
    and a resumed run skips marked streams."""
    for index, stream, again, finished in _reread(resumed):
        limit = page_size(resumed.config, stream)
        assert not finished or again <= limit, (
            f"{resumed.api}/{stream}: finished before the kill, yet run {index} re-emitted {again} "
            f"records (page size {limit}); resumed from STATE "
            f"{json.dumps(resumed.states[index])[:400]}"
        )


@pytest.mark.parametrize("resumed", KILL_POINTS, indirect=True, ids=[f"{a}-{s}" for a, s in KILL_POINTS])
def test_killed_run_state_is_valid_and_resumable(resumed: Resumed) -> None:
    """Every STATE a killed run emitted is complete JSON; a cut-off last line is only a
    RECORD's (STATE is flushed whole)."""
    for run in resumed.runs[:-1]:
        assert run.killed
        assert run.states or not record_ids(run.messages), "records emitted without any STATE"
        assert '"STATE"' not in run.partial[:40], f"a STATE line was cut off: {run.partial[:200]}"


# ---------------------------------------------------------------------- SIGTERM / SIGINT
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("api", ["devplatform", "timetracking"])
def test_sigterm_and_sigint_end_with_state_and_non_zero_exit(
    make_sandbox: Any, tmp_path: Path, api: str, signum: int
) -> None:
    srv = make_sandbox(records=60, latency_ms=20)
    config = small_config(srv, api, limit=PAGE, max_concurrent_requests=1)
    proc = TapProcess(tmp_path, config)
    while proc.read_lines(1) and proc.read[-1].count(b'"RECORD"') == 0:
        pass
    assert proc.read_lines(12), "the sync ended before the signal could be sent"
    proc.send(signum)
    run = proc.finish()

    assert run.returncode != 0, "an interrupted sync must not exit 0"
    assert TRACEBACK not in run.stderr, run.stderr[-2000:]
    assert signal.Signals(signum).name in run.stderr, "the log should say what interrupted the run"
    assert not run.partial, f"output ends in a cut-off line: {run.partial[:200]}"
    assert not leaked(run.stdout + run.stderr, sandbox_secrets(srv))
    last = json.loads(run.stdout_lines[-1])
    assert last["type"] == "STATE", f"the last line is not STATE: {run.stdout_lines[-1][:200]}"
    paging = [s for s, b in last["value"].get("bookmarks", {}).items() if "paging" in b]
    assert paging, f"the final STATE names no page to resume at: {last}"

    # ... and resuming from it completes the sync without losing anything.
    resumed = TapProcess(tmp_path, config, state=last["value"], name="resume").finish()
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    truth = ground_truth(srv, api)
    first, second = record_ids(run.messages), record_ids(resumed.messages)
    for stream, ids in truth.items():
        missing = set(ids) - set(first.get(stream, [])) - set(second.get(stream, []))
        assert not missing, f"{api}/{stream}: lost {sorted(missing)[:5]} across the interruption"


@pytest.mark.parametrize("resumed", KILL_POINTS, indirect=True, ids=[f"{a}-{s}" for a, s in KILL_POINTS])
def test_killed_runs_leak_no_secret(resumed: Resumed) -> None:
    """Killed mid-write or not, no run's stdout (STATE included) or stderr holds a secret
    (helpdesk's runs rotate the refresh token each time)."""
    for index, run in enumerate(resumed.runs):
        text = run.stdout + run.partial + run.stderr
        assert not leaked(text, resumed.secrets), f"run {index}: {leaked(text, resumed.secrets)[:3]}"


def test_at_least_twenty_kills_landed(all_resumed: dict[tuple[str, int], Resumed]) -> None:
    """The issue asks for at least 20 kill points across the seed configurations."""
    kills = [(point, i) for point, r in all_resumed.items() for i, run in enumerate(r.runs) if run.killed]
    assert len(kills) >= 20, kills
    assert {point[0] for point, _ in kills} == set(SEED_APIS)


# ---------------------------------------------------------------------- inserts at the head
def _insert_at_head_when(
    monkeypatch: pytest.MonkeyPatch, srv: SandboxServer, key: str, offset: int, count: int, hold: float = 0.0
) -> list[str]:
    """Insert `count` records at the head of `key` as the sandbox serves its page at
    `offset`: that page is computed after the insert (after `hold` seconds, while other
    requests go on). Returns the inserted ids (filled in when it happens)."""
    original = srv._page
    inserted: list[str] = []

    def page(spec: Any, query: dict[str, str]) -> Any:
        if spec.key == key and query.get("offset") == str(offset) and not inserted:
            time.sleep(hold)
            inserted.extend(srv.insert_at_head(key, count))
        return original(spec, query)

    monkeypatch.setattr(srv, "_page", page)
    return inserted


@pytest.mark.parametrize(
    "count",
    [3, PAGE, PAGE + 5],
    ids=["fewer-than-a-page", "exactly-a-page", "more-than-a-page"],
)
def test_inserts_at_the_head_during_an_offset_sync_lose_and_repeat_nothing(
    monkeypatch: pytest.MonkeyPatch, make_sandbox: Any, count: int
) -> None:
    """What the tap does: paging by offset, records inserted at the head of the collection
    push every later record `count` positions on, so the next page starts with records the
    previous page already held. The tap drops those (`_skip_shifted`: leading records whose
    primary keys the previous page had; "records repeated across a page boundary" is
    logged) and moves on; the offset still advances by the records received and the new
    total, so nothing is skipped. The inserted records sit at offsets already passed: they
    arrive with the next sync."""
    srv = make_sandbox(records=50)
    truth = [str(r["id"]) for r in srv.records("devplatform/organizations")]
    inserted = _insert_at_head_when(monkeypatch, srv, "devplatform/organizations", 20, count)
    config = small_config(srv, "devplatform", limit=PAGE, max_concurrent_requests=1)

    result = sync_in_process(config)

    assert inserted, "the insert never happened: the test proves nothing"
    got = result.ids("organizations")
    assert not duplicates(got), f"duplicated: {duplicates(got)}"
    assert not set(truth) - set(got), f"missed: {sorted(set(truth) - set(got), key=truth.index)}"
    assert set(got) <= set(truth) | set(inserted)

    # The next sync has everything, inserted records included.
    again = sync_in_process(config)
    assert sorted(again.ids("organizations")) == sorted(truth + inserted)


def test_inserts_at_the_head_during_a_concurrent_offset_sync_lose_nothing(
    monkeypatch: pytest.MonkeyPatch, make_sandbox: Any
) -> None:
    """With pages fetched ahead (a total is known), pages served before and after the
    insert meet in one walk: a page served after it starts `count` records earlier (the
    tap drops the repeats), while the next page, fetched ahead before the insert, starts
    where it always did -- so the `count` records between are missed unless the tap sees
    the shift (repeats, or a grown total) and fetches the pages ahead again."""
    srv = make_sandbox(records=60, latency_ms=5)
    truth = [str(r["id"]) for r in srv.records("devplatform/organizations")]
    inserted = _insert_at_head_when(monkeypatch, srv, "devplatform/organizations", 20, 3, hold=0.3)
    config = small_config(srv, "devplatform", limit=PAGE, max_concurrent_requests=4)

    result = sync_in_process(config)

    assert inserted, "the insert never happened: the test proves nothing"
    got = result.ids("organizations")
    assert not duplicates(got), f"duplicated: {duplicates(got)}"
    assert not set(truth) - set(got), f"missed: {sorted(set(truth) - set(got), key=truth.index)}"

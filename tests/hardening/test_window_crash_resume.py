"""Crash and resume of a backfill in windows: the real CLI, SIGKILLed at random points of a
windowed sync of the forum's posts, resumes from its last STATE at its window -- not from the
start of the range -- and loses nothing.

A window's STATE (`bookmarks.posts.window.start`) is written once every window before it was
emitted whole. One window at a time, the page checkpoints inside a window still apply, so a
resumed run re-emits at most one page; with windows fetched concurrently
(`max_concurrent_windows`) it re-emits at most the window it was emitting.
"""

from __future__ import annotations

import random
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.instants import cursor_order

from .helpers import CliRun, TapProcess, duplicates, record_ids

PAGE = 10
START, END = "2024-03-01T00:00:00Z", "2024-03-11T00:00:00Z"
#: (mode, seed): three kill points each, windows one at a time or three at once.
KILL_POINTS = [(mode, seed) for mode in ("one-at-a-time", "concurrent") for seed in range(3)]
MAX_KILLS = 2
SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "updated_at": {"type": "string", "format": "date-time"}},
}


def config(srv: SandboxServer, mode: str) -> dict[str, Any]:
    incremental = {"cursor_path": "updated_at", "start_param": "updated_since", "end_param": "updated_until",
                   "initial_value": START, "end_value": END, "window": "P1D"}
    endpoint = {"path": "offset/posts", "data_selector": "data", "incremental": incremental,
                "paginator": {"type": "offset", "limit": PAGE, "total_path": "total"}}
    top = {"max_concurrent_windows": 3} if mode == "concurrent" else {"max_concurrent_requests": 1}
    return {"client": {"base_url": srv.api_url("forum")},
            "resources": [{"name": "posts", "schema": SCHEMA, "endpoint": endpoint}], **top}


@dataclass
class Backfill:
    """The runs of one kill point; all but the last were SIGKILLed."""

    mode: str
    #: The ids the sandbox holds, and the most posts one window (a day) holds.
    truth: list[str] = field(default_factory=list)
    biggest_window: int = 0
    runs: list[CliRun] = field(default_factory=list)
    states: list[dict[str, Any] | None] = field(default_factory=list)
    #: The (updated_since, updated_until) of every posts request, per run.
    asked: list[list[tuple[str, str]]] = field(default_factory=list)

    def ids(self, index: int) -> list[str]:
        return record_ids(self.runs[index].messages).get("posts", [])


def _kill_and_resume(srv: SandboxServer, workdir: Path, mode: str, seed: int) -> Backfill:
    rng = random.Random(f"window-crash-resume:{mode}:{seed}")
    cfg = config(srv, mode)
    posts = srv.records("forum/posts")
    days = Counter(r["updated_at"][:10] for r in posts)
    result = Backfill(mode, [str(r["id"]) for r in posts], max(days.values()))
    state: dict[str, Any] | None = None
    for attempt in range(MAX_KILLS + 1):
        result.states.append(state)
        srv.reset_log()
        proc = TapProcess(workdir, cfg, state=state, name=f"run{attempt}")
        if attempt < MAX_KILLS and proc.read_lines(rng.randint(30, 140)):
            proc.send(signal.SIGKILL)
        run = proc.finish()
        result.runs.append(run)
        result.asked.append([
            (r["query"]["updated_since"], r["query"]["updated_until"])
            for r in srv.request_log if r["path"] == "/forum/offset/posts"
        ])
        if not run.killed:
            break
        state = run.last_state or state
    return result


@pytest.fixture(scope="module")
def all_backfills(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], Backfill]:
    results = {}
    for point in KILL_POINTS:
        with SandboxServer(latency_ms=3) as srv:
            results[point] = _kill_and_resume(srv, tmp_path_factory.mktemp(f"{point[0]}-{point[1]}"), *point)
    return results


@pytest.fixture
def backfill(request: pytest.FixtureRequest, all_backfills: dict[tuple[str, int], Backfill]) -> Backfill:
    return all_backfills[request.param]


def window_start(state: dict[str, Any] | None) -> str | None:
    return (((state or {}).get("bookmarks") or {}).get("posts") or {}).get("window", {}).get("start")


IDS = [f"{m}-{s}" for m, s in KILL_POINTS]


@pytest.mark.parametrize("backfill", KILL_POINTS, indirect=True, ids=IDS)
def test_a_killed_backfill_loses_no_record(backfill: Backfill) -> None:
    assert any(r.killed for r in backfill.runs), "the kill never landed: the test proves nothing"
    final = backfill.runs[-1]
    assert not final.killed
    assert final.returncode == 0, final.stderr[-2000:]
    union = {i for index in range(len(backfill.runs)) for i in backfill.ids(index)}
    missing = set(backfill.truth) - union
    assert not missing, f"lost {sorted(missing)[:5]}"
    assert not duplicates(backfill.ids(len(backfill.runs) - 1))


@pytest.mark.parametrize("backfill", KILL_POINTS, indirect=True, ids=IDS)
def test_a_resumed_backfill_starts_at_its_window(backfill: Backfill) -> None:
    """No request of a resumed run asks for a window before the one its STATE names."""
    for index in range(1, len(backfill.runs)):
        start = window_start(backfill.states[index])
        if start is None:
            continue
        assert backfill.asked[index], f"run {index} asked for nothing"
        assert min(cursor_order(since) for since, _ in backfill.asked[index]) == cursor_order(start)


@pytest.mark.parametrize("backfill", KILL_POINTS, indirect=True, ids=IDS)
def test_a_resumed_backfill_rereads_at_most_a_page_or_its_window(backfill: Backfill) -> None:
    limit = PAGE if backfill.mode == "one-at-a-time" else backfill.biggest_window
    seen: set[str] = set()
    for index in range(len(backfill.runs)):
        again = [i for i in backfill.ids(index) if i in seen]
        assert len(again) <= limit, f"run {index} re-emitted {len(again)} records (at most {limit})"
        seen.update(backfill.ids(index))


def test_the_kills_landed_inside_the_windows(all_backfills: dict[tuple[str, int], Backfill]) -> None:
    """Some resumed runs started from a window checkpoint past the first window, in each mode:
    otherwise the resume-at-its-window test proved nothing."""
    for mode in ("one-at-a-time", "concurrent"):
        resumed_at = [window_start(b.states[i]) for (m, _), b in all_backfills.items() if m == mode
                      for i in range(1, len(b.runs))]
        assert any(start and cursor_order(start) > cursor_order(START) for start in resumed_at), resumed_at

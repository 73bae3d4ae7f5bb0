"""Crash and resume in the middle of a fan-out: posts -> comments -> reactions, the real CLI
SIGKILLed at random points and resumed from the last STATE it emitted.

What the tap promises (`tap_analytics.dependents`): the children of one parent page are all
emitted before the parent's checkpoint naming its next page. So whatever the kill point,
nothing is lost, and a resumed run emits again only the parent page it resumes at, that
page's comments and their reactions -- never a child of another page.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tests.integration.forum_tree import COMMENTS, POSTS, REACTIONS, ForumTree, forum_config, forum_tree

from .helpers import CliRun, TapProcess, record_ids

N_POSTS = 50
PAGE = 10
LATENCY_MS = 3
MAX_KILLS = 2
#: Half the kill points read children one at a time, half with 4 walks in flight.
KILL_POINTS = list(range(6))


@dataclass
class Resumed:
    tree: ForumTree
    runs: list[CliRun] = field(default_factory=list)
    #: The STATE each run started from (None: the first).
    states: list[dict[str, Any] | None] = field(default_factory=list)


def _config(srv: SandboxServer, seed: int) -> dict[str, Any]:
    paginator = {**POSTS["endpoint"]["paginator"], "limit": PAGE}
    posts = {**POSTS, "endpoint": {**POSTS["endpoint"], "paginator": paginator}}
    return forum_config(srv, posts, COMMENTS, REACTIONS, max_concurrent_requests=1 if seed % 2 == 0 else 4)


def _kill_and_resume(srv: SandboxServer, workdir: Path, seed: int) -> Resumed:
    config = _config(srv, seed)
    result = Resumed(forum_tree(srv))
    total = len(result.tree.posts) + len(result.tree.comment_ids()) + len(result.tree.reaction_ids())
    rng = random.Random(f"fan-out:{seed}")
    state: dict[str, Any] | None = None
    for attempt in range(MAX_KILLS + 1):
        result.states.append(state)
        proc = TapProcess(workdir, config, state=state, name=f"run{attempt}")
        # Past the posts of the first page: the kills land among the children.
        if attempt < MAX_KILLS and proc.read_lines(rng.randint(PAGE + 4, total // 2)):
            proc.send(signal.SIGKILL)
        run = proc.finish()
        result.runs.append(run)
        if not run.killed:
            break
        state = run.last_state or state
    return result


@pytest.fixture(scope="module")
def all_resumed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Resumed]]:
    servers = {}
    for seed in KILL_POINTS:
        srv = SandboxServer(latency_ms=LATENCY_MS).start()
        srv.set_records({"forum/posts": N_POSTS})
        servers[seed] = srv
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = {
                seed: pool.submit(
                    _kill_and_resume, servers[seed], tmp_path_factory.mktemp(f"fanout-{seed}"), seed
                )
                for seed in KILL_POINTS
            }
            yield {seed: future.result() for seed, future in futures.items()}
    finally:
        for srv in servers.values():
            srv.stop()


def _truth(tree: ForumTree) -> dict[str, list[str]]:
    return {
        "posts": [str(p["id"]) for p in tree.posts],
        "comments": [str(i) for i in tree.comment_ids()],
        "reactions": [str(i) for i in tree.reaction_ids()],
    }


@pytest.mark.parametrize("seed", KILL_POINTS)
def test_a_sync_killed_mid_fan_out_loses_no_record(all_resumed: dict[int, Resumed], seed: int) -> None:
    resumed = all_resumed[seed]
    assert any(run.killed for run in resumed.runs), "the kill never landed: the test proves nothing"
    final = resumed.runs[-1]
    assert not final.killed
    assert final.returncode == 0, final.stderr[-2000:]
    union: dict[str, set[str]] = {}
    for run in resumed.runs:
        for stream, ids in record_ids(run.messages).items():
            union.setdefault(stream, set()).update(ids)
    for stream, ids in _truth(resumed.tree).items():
        missing = set(ids) - union.get(stream, set())
        assert not missing, f"{stream}: lost {sorted(missing)[:5]}"


def _resumed_page(state: dict[str, Any] | None) -> list[int] | None:
    """The posts of the page the STATE resumes at (None: the posts were done or not begun)."""
    paging = ((state or {}).get("bookmarks", {}).get("posts") or {}).get("paging") or {}
    if "offset" not in paging:
        return None
    offset = int(paging["offset"])
    return list(range(offset + 1, offset + PAGE + 1))  # forum ids are 1..N in listing order


@pytest.mark.parametrize("seed", KILL_POINTS)
def test_a_resumed_run_rereads_only_the_parent_page_in_flight_and_its_children(
    all_resumed: dict[int, Resumed], seed: int
) -> None:
    resumed = all_resumed[seed]
    tree = resumed.tree
    emitted: dict[str, set[str]] = {}
    for index, run in enumerate(resumed.runs):
        ids = record_ids(run.messages)
        if index:
            page = _resumed_page(resumed.states[index]) or []
            allowed = {
                "posts": {str(i) for i in page},
                "comments": {str(i) for i in tree.comment_ids(page)},
                "reactions": {str(r["id"]) for c in tree.comment_ids(page) for r in tree.reactions[c]},
            }
            for stream, stream_ids in ids.items():
                again = {i for i in stream_ids if i in emitted.get(stream, set())}
                assert again <= allowed[stream], (
                    f"run {index} re-emitted {stream} {sorted(again - allowed[stream])[:5]} outside "
                    f"the parent page it resumed at ({page[:1]}..{page[-1:]})"
                )
        for stream, stream_ids in ids.items():
            emitted.setdefault(stream, set()).update(stream_ids)


def test_the_kills_landed_in_the_middle_of_fan_outs(all_resumed: dict[int, Resumed]) -> None:
    """A kill whose run had emitted some, not all, of its comments, with the posts' next
    page not yet begun: the interesting case, and it must happen often."""
    mid = 0
    for resumed in all_resumed.values():
        for run in resumed.runs:
            if run.killed:
                streams = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
                mid += bool(streams) and streams[-1] in {"comments", "reactions"}
    assert mid >= 6, f"only {mid} kills landed among the children"

"""The Dagster example (orchestrate/): four windows of the forum's posts at once, one `meltano run`
each (the multiprocess executor), into one PostgreSQL; the union equals one full sync, no key twice.

The processes share nothing but the destination: each window's run has its own state id, and the
tap restricts it to its window (window_start/window_end). Meltano's own run records (its system
database) prove the four runs overlapped in time; the sandbox's request log proves each asked for
its window only.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox import SandboxServer

from .helpers import ROOT, mp

DAGSTER = ROOT / ".venv-dagster" / "bin" / "dagster"
DEFINITIONS = ROOT / "orchestrate" / "forum_backfill" / "definitions.py"
EXTRACTOR, LOADER = "tap-analytics-forum", "target-postgres"
#: Four windows of three days over the forum's 230 posts (updated 2024-03-01 .. 2024-03-10).
START, END, WINDOW = "2024-03-01T00:00:00Z", "2024-03-11T00:00:00Z", "P3D"
WINDOWS = [
    ("2024-03-01T00:00:00Z", "2024-03-04T00:00:00Z"),
    ("2024-03-04T00:00:00Z", "2024-03-07T00:00:00Z"),
    ("2024-03-07T00:00:00Z", "2024-03-10T00:00:00Z"),
    ("2024-03-10T00:00:00Z", "2024-03-11T00:00:00Z"),
]
COLUMNS = ("id", "title", "body", "user_id", "tags", "meta", "score", "created_at", "updated_at")


@pytest.fixture(scope="session")
def dagster_ready(meltano_ready: Path) -> Path:
    """Dagster in its own venv, installed by the project's setup script (a no-op when current)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "--with-dagster"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.fail(f"scripts/setup.sh --with-dagster failed:\n{result.stderr[-4000:]}", pytrace=False)
    assert DAGSTER.exists(), f"{DAGSTER} missing after scripts/setup.sh --with-dagster"
    return DAGSTER


@pytest.fixture
def forum() -> Iterator[SandboxServer]:
    """A sandbox of its own: the forum's 230 posts, nobody else's edits."""
    with SandboxServer() as server:
        yield server


def env_for(forum: SandboxServer, postgres_url: str, schema: str, tmp: Path) -> dict[str, str]:
    return mp.meltano_env(
        system_db=tmp / "meltano.db",
        extra={
            "TAP_ANALYTICS_FORUM_CLIENT_BASE_URL": forum.api_url("forum"),
            "TARGET_POSTGRES_SQLALCHEMY_URL": postgres_url,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
            "DAGSTER_HOME": str(tmp / "dagster-home"),
        },
    )


def run_backfill(env: dict[str, str], tmp: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`dagster job execute` of the example with a run config like orchestrate/run_config.yaml."""
    (tmp / "dagster-home").mkdir()
    config = {
        "execution": {"config": {"max_concurrent": len(WINDOWS)}},
        "resources": {
            "backfill": {"config": {"start": START, "end": END, "window": WINDOW}},
            "meltano": {"config": {"extractor": EXTRACTOR, "loader": LOADER}},
        },
    }
    config_file = tmp / "run_config.yaml"
    config_file.write_text(yaml.safe_dump(config))
    started = time.monotonic()
    proc = subprocess.run(
        [str(DAGSTER), "job", "execute", "-f", str(DEFINITIONS), "-j", "forum_backfill",
         "-c", str(config_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    return proc, time.monotonic() - started


def rows(pg: Any, schema: str) -> list[tuple[Any, ...]]:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    return [tuple(r) for r in pg.execute(f'select {cols} from "{schema}".posts order by id').fetchall()]


def meltano_runs(system_db: Path) -> dict[str, tuple[datetime, datetime]]:
    """state id -> (started, ended) of each completed `meltano run`, from Meltano's own records."""
    with sqlite3.connect(system_db) as db:
        found = db.execute("select job_name, started_at, ended_at, state from runs").fetchall()
    return {
        name: (datetime.fromisoformat(str(started)), datetime.fromisoformat(str(ended)))
        for name, started, ended, state in found
        if str(state).upper().endswith("SUCCESS")
    }


def test_four_windows_at_once_equal_one_full_sync(
    dagster_ready: Path, forum: SandboxServer, postgres_url: str, pg: Any, schema: str, tmp_path: Path
) -> None:
    windows_dir, full_dir = tmp_path / "windows", tmp_path / "full"
    windows_dir.mkdir()
    full_dir.mkdir()
    windowed_schema, full_schema = f"{schema}_w", schema
    try:
        proc, seconds = run_backfill(env_for(forum, postgres_url, windowed_schema, windows_dir), windows_dir)
        assert proc.returncode == 0, f"dagster job execute failed:\n{(proc.stdout + proc.stderr)[-6000:]}"
        print(f"\n4-window Dagster backfill: {seconds:.1f} s wall")
        asked = [
            (r["query"].get("updated_since"), r["query"].get("updated_until"))
            for r in forum.request_log if r["path"] == "/forum/offset/posts"
        ]
        forum.reset_log()
        full_env = env_for(forum, postgres_url, full_schema, full_dir)
        full = mp.meltano_run(EXTRACTOR, LOADER, full_env, log_file=full_dir / "run.log").check()

        served = forum.records("forum/posts")
        windowed = rows(pg, windowed_schema)
        assert windowed == rows(pg, full_schema), "the windows' union differs from one full sync"
        assert len(windowed) == len(served) == full.emitted["posts"] == 230
        counts = f'select count(*), count(distinct id) from "{windowed_schema}".posts'
        total, distinct = pg.execute(counts).fetchone()
        assert total == distinct, f"duplicate keys: {total} rows, {distinct} ids"

        # Each window's run asked for its own window (and the first run for none, to create the table).
        assert set(asked) == {*WINDOWS, (START, START)}, asked
        runs = meltano_runs(windows_dir / "meltano.db")
        state_ids = {f"dev:{EXTRACTOR}-to-{LOADER}:window-{i}-{start.replace(':', '-')}"
                     for i, (start, _) in enumerate(WINDOWS)}
        assert state_ids <= set(runs), sorted(runs)
        spans = [runs[s] for s in state_ids]
        latest_start, earliest_end = max(a for a, _ in spans), min(b for _, b in spans)
        assert latest_start < earliest_end, f"the four window runs did not overlap in time: {spans}"
    finally:
        pg.execute(f'drop schema if exists "{windowed_schema}" cascade')

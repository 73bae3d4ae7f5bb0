"""The README's main job, `make demo` (scripts/demo.py after the setup the session already ran):
every seed API twice through Meltano into an embedded PostgreSQL, and the second run sends what
changed and nothing it should not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT

ADDED, UPDATED = 3, 2


def _rows(stdout: str) -> dict[str, list[str]]:
    """The demo's last table: 'schema.table' -> its cells."""
    table = stdout.rsplit("duplicate ids\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in table.splitlines()[1:] if line.strip()]
    # "full table" is two words: join it back so every row has the same cells.
    return {r[0]: [" ".join(r[1:3]), *r[3:]] if r[1] == "full" else r[1:] for r in rows}


@pytest.mark.parametrize("messages", [[], ["--batch"]], ids=["record", "batch"])
def test_the_demo_loads_every_seed_api_and_the_second_run_sends_only_the_changes(
    meltano_ready: Path, messages: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--records", "40",
         "--add", str(ADDED), "--update", str(UPDATED), *messages],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "UNEXPECTED" not in result.stdout

    rows = _rows(result.stdout)
    assert len(rows) == 14, "every table of the five seed APIs"
    for table, (mode, before, after, added, updated, again, sent, merged, duplicates) in rows.items():
        assert (int(before), int(after)) == (40, 40 + ADDED), table
        assert (int(added), int(updated), int(duplicates)) == (ADDED, UPDATED, 0), table
        assert merged == f"{UPDATED}/{UPDATED}", f"{table}: updated rows rewritten in place"
        if mode == "incremental":
            assert int(sent) == ADDED + UPDATED + int(again), f"{table}: the changes, the bookmark's rows"
        else:
            assert (mode, again, int(sent)) == ("full table", "-", 40 + ADDED), table
    if messages:  # the records went through BATCH files (target-postgres leaves them behind)
        files = list((ROOT / ".demo" / "batches").glob("*.json.gz"))
        assert len(files) >= 2 * len(rows), "a file per table and run, at least"

"""benchmarks/bench.py completes a tiny run and reports every record (never a timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def table_rows(report: str) -> dict[str, list[str]]:
    """variant -> the cells of its row in the report's markdown table."""
    rows = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("variant", "---"):
            rows[cells[0]] = cells
    return rows


def test_bench_nested_oauth_resource_and_whole_api_deliver_every_record(tmp_path: Path) -> None:
    # devplatform/events: nested records, OAuth2 (the raw loop fetches its own token); `whole`
    # reads the API's three resources in one run.
    out = tmp_path / "report.md"
    proc = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--records", "250", "--latency-ms", "0",
         "--variants", "raw,default,whole", "--resource", "devplatform/events", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = table_rows(out.read_text())
    assert set(rows) == {"raw", "default", "whole"}
    assert [rows[v][1] for v in ("raw", "default", "whole")] == ["250", "250", "750"]
    assert all(cells[-1] == "yes" for cells in rows.values()), rows
    assert rows["whole"][8] == "9"  # pages needed: 3 resources x ceil(250 / 100)
    assert "the whole devplatform API (3 streams) took" in out.read_text()


def test_fanout_benchmark_delivers_every_post_and_comment(tmp_path: Path) -> None:
    out = tmp_path / "fanout.md"
    proc = subprocess.run(
        [sys.executable, "benchmarks/fanout.py", "--posts", "30", "--latency-ms", "0",
         "--variants", "raw,default", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = table_rows(out.read_text())
    assert set(rows) == {"raw", "default"}
    assert rows["raw"][9] == rows["default"][9], "both delivered the same records"
    assert int(rows["raw"][9]) > 30, "the posts and their comments"
    assert [rows[v][5] for v in ("raw", "default")] == ["31", "31"]  # 1 page of posts + 1 per post
    assert all(cells[-1] == "yes" for cells in rows.values()), rows


def test_bench_whole_api_with_smaller_siblings_and_an_ab_against_another_checkout(tmp_path: Path) -> None:
    # --sibling-records: the API's other resources hold fewer records; `@base` variants run the
    # tap from another checkout (here this one, copied: the same records either way).
    base = tmp_path / "base"
    subprocess.run(["git", "worktree", "add", "--detach", str(base)], cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    try:
        out = tmp_path / "report.md"
        proc = subprocess.run(
            [sys.executable, "benchmarks/bench.py", "--records", "250", "--sibling-records", "30",
             "--latency-ms", "0", "--variants", "default,whole,whole@base", "--base-tree", str(base),
             "--output", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, check=False,
                       capture_output=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = table_rows(out.read_text())
    assert set(rows) == {"default", "whole", "whole@base"}
    # timetracking/clients 250 records, its 4 siblings 30 each
    assert [rows[v][1] for v in ("default", "whole", "whole@base")] == ["250", "370", "370"]
    assert rows["whole"][8] == "7"  # pages needed: ceil(250 / 100) + 4 x 1
    assert all(cells[-1] == "yes" for cells in rows.values()), rows
    assert "(the others 30 records each)" in out.read_text()

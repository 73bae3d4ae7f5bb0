"""benchmarks/pipeline.py completes a tiny run through Meltano and PostgreSQL, every id loaded.

Only that: figures are never asserted. The `dlt` variant needs the `bench` extra (psycopg2), which
`make setup` does not install; to stay short, this run covers `batch` alone (meltano run, the
tap's BATCH files read by target-postgres, the rows counted in PostgreSQL).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .helpers import ROOT


def test_pipeline_benchmark_loads_every_id(meltano_ready: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    proc = subprocess.run(
        [sys.executable, "benchmarks/pipeline.py", "--resource", "devplatform/events", "--records", "150",
         "--latency-ms", "0", "--variants", "batch", "--output", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in out.read_text().splitlines()
        if line.startswith("| batch ")
    ]
    assert [r[0] for r in rows] == ["batch"]
    for cells in rows:
        assert cells[1] == "150"  # records in the sandbox
        assert cells[-3:] == ["150", "150", "yes"], cells  # rows, distinct ids, lossless
    assert "batch file(s)" in out.read_text()

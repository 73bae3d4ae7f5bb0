"""Benchmark: a dependent resource's fan-out -- the tap against a sequential raw loop.

The sandbox's forum serves N posts (default 500) and their comments, every data request delayed
by L ms (default 20). Each variant reads every post (offset pages of 100) and every post's
comments (one request per post: `posts/{id}/comments`), as a separate child process:

  raw      benchmarks/raw_client.py --children: parent pages, then one request per parent, one at a
           time (requests.Session + orjson, JSON lines out): the sequential floor
  seq      tap-analytics with max_concurrent_requests=1
  default  tap-analytics with its defaults (8 requests in flight: children of 8 posts at once)
  wide     tap-analytics with max_concurrent_requests=16

Measured as `bench.py` does (`harness.run_child`: whole-process wall time, peak RSS from
os.wait4, CPU), plus from the sandbox's stats: the data requests served and the most that were in
flight at once. Every run must deliver every post and comment.

    .venv/bin/python benchmarks/fanout.py                      # 500 posts, 20 ms, raw,seq,default,wide
    .venv/bin/python benchmarks/fanout.py --posts 500 --latency-ms 20 --repeat 3 --output /tmp/f.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    PYTHON,
    ROOT,
    Sandbox,
    code_version,
    command_line,
    machine_facts,
    publish,
    run_child,
    wait_quiet,
)

VARIANTS = {"raw": None, "seq": 1, "default": None, "wide": 16}
RECORD_PATTERNS = (b'\n{"type":"RECORD"', b'\n{"type": "RECORD"')
PAGE = 100
#: The issue-12 target: the fan-out at least this many times faster than the sequential loop.
TARGET = 6.0
KEYS = ("forum/offset/posts", "forum/posts/{id}/comments")


@dataclass
class Run:
    variant: str
    wall: float
    rss_kb: int
    cpu: float
    requests: int
    peak_inflight: int
    received: int
    returncode: int


def tap_config(url: str, concurrency: int | None) -> dict[str, Any]:
    """Posts and their comments in dlt's language, with declared schemas (no discovery probe)."""
    offset = {"type": "offset", "limit": PAGE, "total_path": "total"}
    config: dict[str, Any] = {
        "client": {"base_url": f"{url}/forum"},
        "resources": [
            {
                "name": "posts",
                "endpoint": {"path": "offset/posts", "data_selector": "data", "paginator": offset},
                "schema": {"properties": {k: {} for k in ("id", "title", "body", "user_id", "tags",
                                                          "meta", "score", "created_at", "updated_at")}},
            },
            {
                "name": "comments",
                "endpoint": {"path": "posts/{resources.posts.id}/comments", "data_selector": "data",
                             "paginator": offset},
                "include_from_parent": ["id"],
                "schema": {"properties": {k: {} for k in ("id", "post_id", "body", "updated_at")}},
            },
        ],
    }
    if concurrency is not None:
        config["max_concurrent_requests"] = concurrency
    return config


def command(variant: str, sandbox: Sandbox, work: Path) -> tuple[list[str], tuple[bytes, ...]]:
    base = f"{sandbox.url}/forum"
    if variant == "raw":
        return [PYTHON, str(BENCH_DIR / "raw_client.py"), f"{base}/offset/posts", "--limit", str(PAGE),
                "--children", f"{base}/posts/{{id}}/comments?limit={PAGE}"], (b"\n",)
    config = work / f"tap-{variant}.json"
    config.write_text(json.dumps(tap_config(sandbox.url, VARIANTS[variant])))
    tap = "import sys; from tap_analytics.tap import TapAnalytics; sys.exit(TapAnalytics.cli())"
    return [PYTHON, "-c", tap, "--config", str(config)], RECORD_PATTERNS


def measure(variant: str, sandbox: Sandbox, work: Path, timeout: float, index: int) -> Run:
    cmd, patterns = command(variant, sandbox, work)
    sandbox.control("reset_log", {})
    child = run_child(cmd, patterns, timeout, work / f"{variant}-{index}.stderr")
    stats = sandbox.stats()
    served = stats["data_requests"]
    return Run(variant, child.wall, child.rss_kb, child.cpu, sum(int(served.get(k, 0)) for k in KEYS),
               int(stats["peak_concurrency"]), child.received, child.returncode)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="A dependent resource's fan-out: the tap vs a sequential loop.")
    p.add_argument("--posts", type=int, default=500, help="parents (forum posts; default 500)")
    p.add_argument("--latency-ms", type=float, default=20.0,
                   help="sandbox delay per data request (default 20)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each variant, interleaved (default 1)")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds allowed per child run")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                   help="before each run, wait up to S s for the rest of the machine to go idle")
    p.add_argument("--output", type=Path, help="also write the report (markdown) to this file")
    args = p.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or set(variants) - set(VARIANTS):
        p.error(f"--variants: choose from {', '.join(VARIANTS)}")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    work = Path(tempfile.mkdtemp(prefix="tap-analytics-fanout-"))
    load_before, version = os.getloadavg(), code_version()
    runs: dict[str, list[Run]] = {v: [] for v in variants}
    with Sandbox(10, args.latency_ms, work) as sandbox:
        sandbox.control("records", {"records": {"forum/posts": args.posts}})
        expected = sandbox.stats()["forum"]["posts"]
        for index in range(args.repeat):
            for variant in variants:
                if args.wait_quiet > 0:
                    wait_quiet(args.wait_quiet)
                run = measure(variant, sandbox, work, args.timeout, index)
                runs[variant].append(run)
                print(f"  {variant:8} {run.wall:7.2f} s, {run.rss_kb / 1024:6.1f} MB, "
                      f"{run.requests} requests, peak {run.peak_inflight} in flight, "
                      f"{run.received:,} records, rc {run.returncode}", file=sys.stderr)
    records = {run.received for rs in runs.values() for run in rs if run.returncode == 0}
    header = ("| variant | parents | latency ms | wall s | ratio vs raw | requests | peak in flight "
              "| peak RSS MB | CPU s | records | ok |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    median = {v: sorted(rs, key=lambda r: r.wall)[(len(rs) - 1) // 2] for v, rs in runs.items()}
    raw = median.get("raw")
    failures = 0
    for variant in variants:
        run = median[variant]
        ok = run.returncode == 0 and all(r.received == max(records) for r in runs[variant])
        failures += not ok
        ratio = f"{raw.wall / run.wall:.2f}x" if raw is not None else "-"
        lines.append(
            f"| {variant} | {expected:,} | {args.latency_ms:g} | {run.wall:.2f} | {ratio} | {run.requests:,} "
            f"| {run.peak_inflight} | {max(r.rss_kb for r in runs[variant]) / 1024:.1f} | {run.cpu:.2f} "
            f"| {run.received:,} | {'yes' if ok else 'NO'} |"
        )
    targets = []
    if raw is not None and "default" in median:
        ratio = raw.wall / median["default"].wall
        paired = statistics.median(r.wall / d.wall for r, d in zip(runs["raw"], runs["default"], strict=True))
        verdict = "met" if ratio >= TARGET else "MISSED"
        targets.append(f"- default {ratio:.2f}x the sequential loop (issue 12 >= {TARGET:g}x): {verdict} "
                       f"(median of the {len(runs['raw'])} paired ratios: {paired:.2f}x)")
        floor = math.ceil(expected / PAGE) + expected
        targets.append(f"- requests: {median['default'].requests:,} for {floor:,} needed "
                       f"({math.ceil(expected / PAGE)} parent pages + one per parent)")
    if len(records) > 1:
        targets.append(f"- variants delivered different record counts: {sorted(records)}")
        failures += 1
    meta = machine_facts(version, load_before, (
        f"forum posts -> comments, offset pages of {PAGE}, one child request per post; median of "
        f"{args.repeat} run(s), peak RSS the worst of them"
    ))
    report = "\n".join([f"`{shlex.join(command_line('benchmarks/fanout.py', argv))}`", "", meta, "", *lines,
                        "", "Targets:", *targets, ""])
    publish(report, args.output, work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())

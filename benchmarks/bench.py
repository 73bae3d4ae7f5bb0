"""Benchmark: tap-analytics against a raw sequential ``requests`` + orjson loop, in one run.

For every (records, latency) pair it starts the sandbox (``python -m sandbox``) as its own process,
then runs each variant as a separate child process and measures whole-process wall time, records/s,
peak RSS (``ru_maxrss`` of that child, from ``os.wait4``), CPU time of the child and of the sandbox,
and the data requests the sandbox served (``GET /_control/stats`` before and after). The child's
stdout goes through a pipe in which the parent counts RECORD lines, so every run is also checked to
have delivered all N records.

Variants:
  raw      benchmarks/raw_client.py: sequential requests.Session + orjson, JSON lines out (the floor)
  rawlean  the same with session.trust_env = False (no per-request environment lookups)
  seq      tap-analytics with max_concurrent_requests=1
  default  tap-analytics with its defaults (max_concurrent_requests=8)
  sdk      benchmarks/sdk_tap.py: a minimal stock singer-sdk RESTStream tap, for reference

    .venv/bin/python benchmarks/bench.py --records 100000 --latency-ms 0,20 --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import math
import os
import platform
import select
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from sandbox.data import SPECS_BY_KEY  # noqa: E402  (the repo root is not installed)

PYTHON = sys.executable
VARIANTS = ("raw", "rawlean", "seq", "default", "sdk")
DEFAULT_VARIANTS = ("raw", "seq", "default")
#: APIs whose credentials are static (no OAuth token round trip for the raw loop).
STATIC_AUTH = {"timetracking": "bearer", "statuspage": "api_key"}
TAP_WINDOW = 8  # tap-analytics' default max_concurrent_requests
RECORD_PATTERNS = (b'\n{"type":"RECORD"', b'\n{"type": "RECORD"')
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Every child runs with Python's default buffered stdout: an inherited PYTHONUNBUFFERED
#: (set on some machines and CI images) would make each write of the raw loop a syscall
#: and flatter the tap, which buffers its output itself.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


# ----------------------------------------------------------------------------- sandbox
class Sandbox:
    """``python -m sandbox`` as a child process, stopped on exit whatever happens."""

    def __init__(self, records: int, latency_ms: float, log_dir: Path) -> None:
        self.records = records
        self.latency_ms = latency_ms
        self.log_path = log_dir / f"sandbox-{records}-{latency_ms:g}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.credentials: dict[str, dict[str, str]] = {}

    def __enter__(self) -> Sandbox:
        cmd = [
            PYTHON, "-m", "sandbox", "--port", "0", "--no-log",
            "--records", str(self.records), "--latency-ms", f"{self.latency_ms:g}",
        ]
        with open(self.log_path, "wb") as log:
            # unbuffered: select() on the pipe must see every line readline() has not taken
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE,
                                         stderr=log, bufsize=0)
        try:
            first = self._readline(15.0)
            if not first.startswith("sandbox listening on "):
                raise RuntimeError(f"sandbox did not start: {first!r} (see {self.log_path})")
            self.url = first.rsplit(" ", 1)[1]
            self.credentials = json.loads(self._readline(5.0))
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _readline(self, timeout: float) -> str:
        assert self.proc is not None
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"sandbox printed nothing within {timeout:g} s (see {self.log_path})")
        return self.proc.stdout.readline().decode().strip()

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def data_requests(self, key: str) -> int:
        with urllib.request.urlopen(f"{self.url}/_control/stats", timeout=10) as response:
            return int(json.loads(response.read())["data_requests"].get(key, 0))

    def cpu_seconds(self) -> float:
        """User + system CPU the sandbox process has used so far."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK


# ------------------------------------------------------------------------------ runs
@dataclass
class Run:
    variant: str
    records: int
    latency_ms: float
    wall: float
    rss_kb: int
    cpu: float
    server_cpu: float
    other_cpu: float
    requests: int
    received: int
    returncode: int
    stderr_path: Path


@dataclass
class Resource:
    key: str  # sandbox key, e.g. timetracking/clients
    api: str
    name: str
    path: str
    paging: str  # offset | page
    limit: int

    @classmethod
    def of(cls, key: str) -> Resource:
        spec = SPECS_BY_KEY.get(key)
        if spec is None or spec.api not in STATIC_AUTH:
            usable = [k for k, s in SPECS_BY_KEY.items() if s.api in STATIC_AUTH]
            raise SystemExit(f"--resource: choose one of {', '.join(usable)}")
        return cls(key, spec.api, spec.name, spec.path, spec.paging, spec.default_limit)

    def pages_needed(self, records: int) -> int:
        return max(1, math.ceil(records / self.limit))


@dataclass
class Commands:
    """Builds each variant's command line and files for one sandbox."""

    resource: Resource
    sandbox: Sandbox
    work: Path
    files: dict[str, Path] = field(default_factory=dict)

    def _auth(self) -> tuple[str, str, dict[str, Any]]:
        creds = self.sandbox.credentials[self.resource.api]
        if STATIC_AUTH[self.resource.api] == "bearer":
            return "Authorization", f"Bearer {creds['token']}", {"type": "bearer", "token": creds["token"]}
        auth = {"type": "api_key", "name": "api_key", "location": "header", "api_key": creds["api_key"]}
        return "api_key", creds["api_key"], auth

    def _write(self, name: str, obj: Any) -> Path:
        path = self.work / name
        path.write_text(json.dumps(obj, indent=2))
        return path

    def tap_config(self, concurrency: int | None) -> Path:
        r = self.resource
        _, _, auth = self._auth()
        if r.paging == "offset":
            paginator: dict[str, Any] = {"type": "offset", "limit": r.limit}
        else:
            paginator = {"type": "page_number", "page_param": "page", "limit_param": "per_page",
                         "limit": r.limit}
        config: dict[str, Any] = {
            "client": {"base_url": f"{self.sandbox.url}/{r.api}", "auth": auth},
            "resources": [
                {"name": r.name, "endpoint": {"path": r.path, "data_selector": "data",
                                               "paginator": paginator}}
            ],
        }
        if concurrency is not None:
            config["max_concurrent_requests"] = concurrency
        return self._write(f"tap-{concurrency or 'default'}.json", config)

    def command(self, variant: str) -> tuple[list[str], tuple[bytes, ...]]:
        """The child's argv, and the byte patterns that start one record line of its output."""
        r = self.resource
        header, value, _ = self._auth()
        url = f"{self.sandbox.url}/{r.api}{r.path}"
        if variant in ("raw", "rawlean"):
            cmd = [PYTHON, str(BENCH_DIR / "raw_client.py"), url, "--paging", r.paging,
                   "--limit", str(r.limit), "--header", f"{header}: {value}"]
            return ([*cmd, "--no-trust-env"] if variant == "rawlean" else cmd), (b"\n",)
        if variant in ("seq", "default"):
            config = self.tap_config(1 if variant == "seq" else None)
            tap = "import sys; from tap_analytics.tap import TapAnalytics; sys.exit(TapAnalytics.cli())"
            return [PYTHON, "-c", tap, "--config", str(config)], RECORD_PATTERNS
        if variant == "sdk":
            schema = ROOT / "tap_analytics" / "schemas" / r.api / f"{r.name}.json"
            props = json.loads(schema.read_text()).get("properties", {})
            config = self._write("sdk.json", {
                "url": f"{self.sandbox.url}/{r.api}", "path": r.path, "headers": {header: value},
                "stream": r.name, "paging": r.paging, "limit": r.limit, "schema_path": str(schema),
                "replication_key": "updated_at" if "updated_at" in props else None,
            })
            return [PYTHON, str(BENCH_DIR / "sdk_tap.py"), "--config", str(config)], RECORD_PATTERNS
        raise ValueError(variant)


class LineCounter(threading.Thread):
    """Drains a child's stdout, counting lines that start with one of `patterns`."""

    def __init__(self, fd: int, patterns: tuple[bytes, ...]) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.patterns = patterns
        self.count = 0

    def run(self) -> None:
        keep = max(len(p) for p in self.patterns) - 1
        # Patterns start with the newline that ends the previous line; a virtual one
        # before the output lets the first line count too (not for a bare b"\n").
        tail = b"\n" if keep else b""
        while chunk := os.read(self.fd, 1 << 20):
            data = tail + chunk
            # `tail` is shorter than any pattern, so nothing in it was counted already.
            self.count += sum(data.count(p) for p in self.patterns)
            tail = data[-keep:] if keep else b""


def run_child(
    cmd: list[str], patterns: tuple[bytes, ...] | None, timeout: float, stderr_path: Path
) -> tuple[float, int, float, int, int]:
    """Run one child; (wall s, peak RSS KiB, CPU s, return code, record lines counted).

    With `patterns` None the child's stdout is /dev/null and nothing is counted (-1)."""
    with open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=CHILD_ENV, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL if patterns is None else subprocess.PIPE,
                                stderr=err)
    counter: LineCounter | None = None
    if proc.stdout is not None and patterns is not None:
        with contextlib.suppress(OSError, AttributeError):  # fewer stalls of a fast writer
            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        counter = LineCounter(proc.stdout.fileno(), patterns)
        counter.start()
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    finally:
        killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if counter is not None:
        counter.join(30)
    if proc.stdout is not None:
        proc.stdout.close()
    received = counter.count if counter is not None else -1
    return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, proc.returncode, received


def measure(
    variant: str, commands: Commands, timeout: float, log_dir: Path, index: int | str, count: bool = True
) -> Run:
    sandbox = commands.sandbox
    cmd, patterns = commands.command(variant)
    stderr_path = log_dir / f"{variant}-{sandbox.records}-{sandbox.latency_ms:g}-{index}.stderr"
    before = sandbox.data_requests(commands.resource.key)
    cpu_before = sandbox.cpu_seconds()
    machine_before, self_before = machine_busy_seconds(), own_cpu_seconds()
    wall, rss, cpu, rc, received = run_child(cmd, patterns if count else None, timeout, stderr_path)
    machine, own = machine_busy_seconds() - machine_before, own_cpu_seconds() - self_before
    server_cpu = sandbox.cpu_seconds() - cpu_before
    requests_made = sandbox.data_requests(commands.resource.key) - before
    # CPU the rest of the machine used meanwhile (other jobs on a shared box skew timings)
    other_cpu = max(0.0, machine - cpu - server_cpu - own)
    return Run(variant, sandbox.records, sandbox.latency_ms, wall, rss, cpu, server_cpu, other_cpu,
               requests_made, received, rc, stderr_path)


def wait_quiet(max_wait: float, threshold: float = 0.2) -> float:
    """Wait (at most `max_wait` s) for a second in which the rest of the machine uses under
    `threshold` of a core; returns that last second's foreign CPU use (cores)."""
    deadline = time.monotonic() + max_wait
    while True:
        busy, own, start = machine_busy_seconds(), own_cpu_seconds(), time.monotonic()
        time.sleep(1.0)
        used = (machine_busy_seconds() - busy - (own_cpu_seconds() - own)) / (time.monotonic() - start)
        if used < threshold or time.monotonic() >= deadline:
            return used


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat, not idle or iowait)."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK


def own_cpu_seconds() -> float:
    usage = getrusage(RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ----------------------------------------------------------------------------- report
HEADER = (
    "| variant | records | latency ms | wall s | records/s | ratio vs raw | peak RSS MB "
    "| requests made | pages needed | CPU s | sandbox CPU s | other CPU s | all records |"
)


def pick(runs: list[Run], stat: str) -> Run:
    """The best (fastest) or median run; its peak RSS is replaced by the worst of all runs."""
    ordered = sorted(runs, key=lambda r: r.wall)
    chosen = ordered[0] if stat == "best" else ordered[(len(ordered) - 1) // 2]
    return Run(**{**chosen.__dict__, "rss_kb": max(r.rss_kb for r in runs)})


def row(run: Run, raw: Run | None, pages: int) -> str:
    rate = run.records / run.wall if run.wall > 0 else float("nan")
    ratio = f"{raw.wall / run.wall:.2f}x" if raw is not None else "-"
    ok = "yes" if run.received == run.records and run.returncode == 0 else (
        f"NO: {run.received} (rc {run.returncode})"
    )
    return (
        f"| {run.variant} | {run.records:,} | {run.latency_ms:g} | {run.wall:.2f} | {rate:,.0f} | {ratio} "
        f"| {run.rss_kb / 1024:.1f} | {run.requests:,} | {pages:,} | {run.cpu:.2f} | {run.server_cpu:.2f} "
        f"| {run.other_cpu:.2f} "
        f"| {ok} |"
    )


def check_targets(
    table: dict[tuple[int, float], dict[str, Run]],
    all_runs: dict[tuple[int, float], dict[str, list[Run]]],
    resource: Resource,
) -> list[str]:
    """The issue's targets, for the figures this run has."""
    lines: list[str] = []
    for (n, latency), runs in sorted(table.items()):
        raw, default = runs.get("raw"), runs.get("default")
        if raw is not None and default is not None:
            ratio = raw.wall / default.wall
            # Each repeat runs raw and default back to back: the median of those pairs' ratios
            # is less sensitive to the machine's speed drifting between repeats.
            pairs = zip(all_runs[(n, latency)]["raw"], all_runs[(n, latency)]["default"], strict=True)
            paired = statistics.median(r.wall / d.wall for r, d in pairs)
            goal = 6.0 if latency >= 20 else 0.65 if latency == 0 else None
            if goal is not None:
                verdict = "met" if ratio >= goal else "MISSED"
                lines.append(
                    f"- {n:,} records, {latency:g} ms: default {ratio:.2f}x raw (target >= {goal:g}x): "
                    f"{verdict} (median of the {len(all_runs[(n, latency)]['raw'])} paired ratios: "
                    f"{paired:.2f}x)"
                )
        if default is not None:
            pages = resource.pages_needed(n)
            extra = default.requests - pages
            verdict = "met" if 0 <= extra <= TAP_WINDOW else "MISSED"
            lines.append(
                f"- {n:,} records, {latency:g} ms: default made {default.requests:,} requests for "
                f"{pages:,} pages (+{extra}, target <= +{TAP_WINDOW}): {verdict}"
            )
    rss: dict[int, float] = {}
    for (n, _), runs in table.items():
        if "default" in runs:
            rss[n] = max(rss.get(n, 0.0), runs["default"].rss_kb / 1024)
    if rss:
        peak = max(rss.values())
        spread = ", ".join(f"{n:,}: {mb:.1f} MB" for n, mb in sorted(rss.items()))
        verdict = "met" if peak <= 150 else "MISSED"
        lines.append(f"- default peak RSS {spread} (target <= 150 MB): {verdict}")
        if len(rss) > 1:
            growth = peak - min(rss.values())
            lines.append(f"- default peak RSS spread across record counts: {growth:.1f} MB (target: flat)")
    return lines


def code_version() -> str:
    """The commit measured, and whether tap_analytics/ differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tap_analytics"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "commit unknown"
    return f"commit {head}" + (" + uncommitted changes in tap_analytics/" if dirty else "")


def parse_list(values: list[str], kind: type) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out += [kind(v.replace("_", "")) for v in value.split(",") if v.strip()]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="tap-analytics vs a raw sequential loop, against the sandbox.")
    p.add_argument("--records", action="append", default=[], metavar="N[,N...]",
                   help="records in the resource (repeatable or comma list; default 100000)")
    p.add_argument("--latency-ms", action="append", default=[], metavar="L[,L...]",
                   help="sandbox delay per data request (repeatable or comma list; default 0,20)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each variant (default 1)")
    p.add_argument("--stat", choices=("median", "best"), default="median",
                   help="which of the repeats' wall times to report (default median)")
    p.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                   help=f"comma list of {', '.join(VARIANTS)} (default {','.join(DEFAULT_VARIANTS)})")
    p.add_argument("--resource", default="timetracking/clients",
                   help="sandbox resource key (default timetracking/clients: bearer, offset, limit 100)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per child run")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                   help="before each run, wait up to S s for the rest of the machine to go idle "
                        "(a shared box); the 'other CPU s' column shows what remained")
    p.add_argument("--devnull", action="store_true",
                   help="timed runs write to /dev/null; one extra untimed run per variant counts "
                        "the records (default: timed runs write to a pipe the benchmark counts)")
    p.add_argument("--output", type=Path, help="also write the report (markdown) to this file")
    p.add_argument("--keep-logs", action="store_true", help="keep the children's stderr logs")
    args = p.parse_args(argv)

    records = parse_list(args.records, int) or [100_000]
    latencies = parse_list(args.latency_ms, float) or [0.0, 20.0]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown or not variants:
        p.error(f"--variants: unknown {sorted(unknown)}; choose from {', '.join(VARIANTS)}")
    resource = Resource.of(args.resource)
    # SIGTERM unwinds like Ctrl-C, so the sandbox is stopped by its context manager.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    work = Path(tempfile.mkdtemp(prefix="tap-analytics-bench-"))
    load_before = os.getloadavg()
    version = code_version()
    table: dict[tuple[int, float], dict[str, Run]] = {}
    all_runs: dict[tuple[int, float], dict[str, list[Run]]] = {}
    failures = 0
    print(f"# resource {resource.key} ({resource.paging} paging, limit {resource.limit}); logs in {work}",
          file=sys.stderr)
    for n in records:
        for latency in latencies:
            with Sandbox(n, latency, work) as sandbox:
                commands = Commands(resource, sandbox, work)
                runs: dict[str, list[Run]] = {v: [] for v in variants}
                for index in range(args.repeat):  # interleaved, so drift hits every variant alike
                    for variant in variants:
                        if args.wait_quiet > 0:
                            wait_quiet(args.wait_quiet)
                        run = measure(variant, commands, args.timeout, work, index, not args.devnull)
                        runs[variant].append(run)
                        print(f"  {variant:8} N={n:<9,} L={latency:g} ms: {run.wall:7.2f} s, "
                              f"{run.rss_kb / 1024:6.1f} MB, {run.requests} requests, "
                              f"{run.received:,} records, rc {run.returncode}, "
                              f"other CPU {run.other_cpu:.2f} s", file=sys.stderr)
                all_runs[(n, latency)] = runs
                table[(n, latency)] = chosen = {v: pick(rs, args.stat) for v, rs in runs.items()}
                if args.devnull:  # the timed runs counted nothing: one untimed counting pass each
                    for variant in variants:
                        check = measure(variant, commands, args.timeout, work, "check")
                        failed = max((r.returncode for r in runs[variant]), key=abs)
                        chosen[variant].received = check.received
                        chosen[variant].returncode = failed or check.returncode
                        print(f"  {variant:8} N={n:<9,} L={latency:g} ms: check pass "
                              f"{check.received:,} records, rc {check.returncode}", file=sys.stderr)

    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for (n, latency), chosen in table.items():
        raw = chosen.get("raw")
        for variant in variants:
            run = chosen[variant]
            lines.append(row(run, raw, resource.pages_needed(n)))
            if run.received != n or run.returncode != 0:
                failures += 1
                print(f"FAILED: {variant} N={n} L={latency:g}: see {run.stderr_path}", file=sys.stderr)
                args.keep_logs = True
    targets = check_targets(table, all_runs, resource) or ["- none measured (they need raw and default)"]
    python = os.path.relpath(PYTHON) if PYTHON.startswith(str(ROOT)) else PYTHON
    command = shlex.join([python, *(sys.argv if argv is None else ["benchmarks/bench.py", *argv])])
    meta = (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {version}; nproc {os.cpu_count()}; "
        f"Python {platform.python_version()} ({platform.machine()}, {platform.system()}); "
        f"resource {resource.key}, {resource.paging} paging, limit {resource.limit}; "
        f"{args.stat} of {args.repeat} run(s), peak RSS the worst of them; output to "
        f"{'/dev/null (records counted in a separate pass)' if args.devnull else 'a counted pipe'}; "
        "load average "
        f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    report = "\n".join([
        f"`{command}`", "", meta, "", *lines, "", "Targets (issue 4):", *targets, "",
    ])
    print(report)
    if args.output:
        args.output.write_text(report)
    if not args.keep_logs:
        for path in work.iterdir():
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            work.rmdir()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

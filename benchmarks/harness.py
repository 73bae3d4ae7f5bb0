"""What every benchmark script shares: the sandbox child, timed children, machine facts.

`bench.py` (the tap alone against a raw loop) and `pipeline.py` (API -> PostgreSQL through Meltano
and through dlt) both start ``python -m sandbox`` as a process of its own, run each variant as a
separate child measured from the outside (wall time, ``os.wait4`` rusage), and print one line of
machine facts (commit, nproc, load average) beside their tables, so figures of one run compare.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import platform
import select
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Every child runs with Python's default buffered stdout: an inherited PYTHONUNBUFFERED
#: (set on some machines and CI images) would make each write of the raw loop a syscall
#: and flatter the tap, which buffers its output itself.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
#: The sandbox's token endpoint below each OAuth2 API (sandbox.server.TOKEN_PATH).
TOKEN_PATH = "/oauth/token"


# ----------------------------------------------------------------------------- sandbox
class Sandbox:
    """``python -m sandbox`` as a child process, stopped on exit whatever happens."""

    def __init__(
        self, records: int, latency_ms: float, log_dir: Path, resource_records: dict[str, int] | None = None
    ) -> None:
        self.records = records
        #: Resources holding another number of records than `records` (sandbox key -> count).
        self.resource_records = dict(resource_records or {})
        self.latency_ms = latency_ms
        self.log_path = log_dir / f"sandbox-{records}-{latency_ms:g}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def count(self, key: str) -> int:
        """The records the resource `key` holds."""
        return self.resource_records.get(key, self.records)
        self.url = ""
        self.credentials: dict[str, dict[str, str]] = {}

    def __enter__(self) -> Sandbox:
        cmd = [
            PYTHON, "-m", "sandbox", "--port", "0", "--no-log",
            "--records", str(self.records), "--latency-ms", f"{self.latency_ms:g}",
        ]
        for key, count in self.resource_records.items():
            cmd += ["--resource-records", f"{key}={count}"]
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

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_control/stats", timeout=10) as response:
            return dict(json.loads(response.read()))

    def control(self, name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST one control call (`sandbox.control`: records, reset_log, configure, ...)."""
        request = urllib.request.Request(
            f"{self.url}/_control/{name}", data=json.dumps(payload).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.loads(response.read()))

    def data_requests(self, *keys: str) -> int:
        """Data requests served so far for these resource keys (e.g. timetracking/clients)."""
        served = self.stats()["data_requests"]
        return sum(int(served.get(key, 0)) for key in keys)

    def cpu_seconds(self) -> float:
        """User + system CPU the sandbox process has used so far."""
        assert self.proc is not None
        return process_cpu_seconds(self.proc.pid)

    def token_url(self, api: str) -> str:
        return f"{self.url}/{api}{TOKEN_PATH}"

    def access_token(self, api: str) -> str:
        """One client-credentials access token of `api` (for clients that take a static header)."""
        creds = self.credentials[api]
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": creds["client_id"],
                                       "client_secret": creds["client_secret"]}).encode()
        with urllib.request.urlopen(self.token_url(api), data=body, timeout=10) as response:
            return str(json.loads(response.read())["access_token"])


# ------------------------------------------------------------------------ children
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


@dataclass
class Child:
    """One finished child: wall s, peak RSS KiB (its largest process), CPU s (its whole tree)."""

    wall: float
    rss_kb: int
    cpu: float
    returncode: int
    received: int  #: record lines counted on its stdout; -1 when not counted


def run_child(
    cmd: list[str],
    patterns: tuple[bytes, ...] | None,
    timeout: float,
    stderr_path: Path,
    *,
    stdout: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Child:
    """Run one child to its end, timed from spawn to reap.

    With `patterns` its stdout is a pipe the parent counts; without, it goes to `stdout` (a file)
    or /dev/null. `on_start(pid)` runs right after the spawn (e.g. to start sampling its tree)."""
    out: Any = subprocess.PIPE if patterns is not None else (stdout or subprocess.DEVNULL)
    with open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env or CHILD_ENV), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
    if on_start is not None:
        on_start(proc.pid)
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
    return Child(wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime, proc.returncode, received)


class TreeSampler(threading.Thread):
    """Samples a child's process tree every `interval` s (/proc): each process's command line,
    start, last sighting and peak RSS (VmHWM), and the peak of the tree's summed RSS.

    Why: ``os.wait4`` gives the largest process's peak only, and nothing on the processes a
    child (``meltano run``) starts and reaps itself -- the tap, the target. A process's end is
    its last sighting, so lifetimes are good to about one interval."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.root = 0
        self.procs: dict[int, SampledProcess] = {}
        self.peak_tree_kb = 0
        self._done = threading.Event()

    def watch(self, pid: int) -> None:
        """Start sampling the tree under `pid` (pass it as run_child's on_start)."""
        self.root = pid
        self.start()

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(5)

    def sample(self) -> None:
        now = time.clock_gettime(time.CLOCK_BOOTTIME)  # the clock of /proc/PID/stat's starttime
        total = 0
        for pid in self._tree(self.root):
            proc = self.procs.get(pid)
            try:
                if proc is None:
                    proc = self.procs[pid] = SampledProcess.read(pid)
                cmdline = _cmdline(pid)
                rss, hwm = _memory_kb(pid)
            except (OSError, ValueError):
                continue  # gone meanwhile
            if not hwm:
                continue  # a zombie: it has ended, only its parent has not reaped it yet
            if cmdline != proc.cmdline:
                # Seen between fork and exec, it wore its parent's command line and memory:
                # what counts is the program it became.
                proc.cmdline, proc.hwm_kb = cmdline, 0
            proc.last_seen, proc.hwm_kb = now, max(proc.hwm_kb, hwm)
            total += rss
        self.peak_tree_kb = max(self.peak_tree_kb, total)

    @staticmethod
    def _tree(root: int) -> list[int]:
        pids, todo = [], [root]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            with contextlib.suppress(OSError):
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                        todo += [int(c) for c in fh.read().split()]
        return pids

    def find(self, *needles: str, without: str | None = None) -> list[SampledProcess]:
        """The sampled processes whose command line has every needle (and not `without`)."""
        return [p for p in self.procs.values()
                if all(n in p.cmdline for n in needles) and (without is None or without not in p.cmdline)]


@dataclass
class SampledProcess:
    pid: int
    cmdline: str
    started: float  #: CLOCK_BOOTTIME seconds
    last_seen: float = 0.0
    hwm_kb: int = 0

    @classmethod
    def read(cls, pid: int) -> SampledProcess:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            starttime = int(fh.read().rsplit(")", 1)[1].split()[19])
        return cls(pid, _cmdline(pid), starttime / CLK_TCK)

    @property
    def lifetime(self) -> float:
        return max(0.0, self.last_seen - self.started)


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()


def _memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a live process, KiB."""
    rss = hwm = 0
    with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


# ------------------------------------------------------------------------ machine
def process_cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User + system CPU of one live process (/proc/PID/stat); with `reaped_children`, plus
    that of the children it has waited for (PostgreSQL's ended backends)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat, not idle or iowait)."""
    with open("/proc/stat", encoding="ascii") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK


def own_cpu_seconds() -> float:
    usage = getrusage(RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def machine_facts(version: str, load_before: tuple[float, float, float], details: str) -> str:
    """The line printed above every table: when, what, on which machine, how busy it was."""
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {version}; nproc {os.cpu_count()}; "
        f"Python {platform.python_version()} ({platform.machine()}, {platform.system()}); {details}; "
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )


def command_line(script: str, argv: list[str] | None) -> list[str]:
    """How this run was started, relative to the repo, for the report's first line."""
    python = os.path.relpath(PYTHON, ROOT) if PYTHON.startswith(str(ROOT)) else PYTHON
    return [python, *(sys.argv if argv is None else [script, *argv])]


def parse_list(values: list[str], kind: type) -> list[Any]:
    out: list[Any] = []
    for value in values:
        out += [kind(v.replace("_", "")) for v in value.split(",") if v.strip()]
    return out


def publish(report: str, output: Path | None, work: Path, *, keep_logs: bool = False) -> None:
    """Print the report, also write it to `output`, and remove the work directory unless
    its logs are kept."""
    print(report)
    if output:
        output.write_text(report)
    if keep_logs:
        return
    for path in work.iterdir():
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        work.rmdir()

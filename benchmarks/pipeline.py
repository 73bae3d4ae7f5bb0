"""Benchmark: API -> PostgreSQL as the user waits for it, the tap's pipelines beside dlt's, in one run.

Against one sandbox per (records, latency) pair (``python -m sandbox --records N --latency-ms L``)
and one embedded PostgreSQL (pgserver, started as the demo starts it), for one resource of a seed
API (``--resource API/NAME``), each variant runs as a child process measured from the outside:

  dlt     benchmarks/dlt_pipeline.py: dlt's ``rest_api_source`` -> dlt's postgres destination, on
          the config Meltano hands the tap (same resource, same paging), into schema bench_dlt
  record  ``meltano run --full-refresh tap-analytics-<api> target-postgres-embedded`` (RECORD
          messages), only that stream selected, into schema bench_record
  batch   the same with the tap's ``batch_config`` (jsonl, gzip, a temporary file:// storage
          root) so the target reads BATCH messages, into schema bench_batch
  tap     the tap alone (the plugin's own executable, Meltano's config and catalog) to a file

Per variant: wall s (spawn to exit), rows/s, ratio = dlt wall / variant wall, the tap's own time
(its process's lifetime inside ``meltano run``; dlt's extract step) and its share of the wall time,
peak RSS of the tap process and of the whole tree (sampled every 20 ms from /proc), CPU of the tree,
of the sandbox and of PostgreSQL, and the rows and distinct ids in the table afterwards: every variant
must load exactly N distinct ids (the tap alone: emit them), or the run fails (exit status 1).

    .venv/bin/python benchmarks/pipeline.py --resource timetracking/clients --latency-ms 0,20
    .venv/bin/python benchmarks/pipeline.py --resource devplatform/events --records 200000

Needs ``make setup`` (Meltano, its plugins, pgserver) and dlt's postgres extra: ``pip install -e
'.[bench]'``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    CHILD_ENV,
    PYTHON,
    ROOT,
    Sandbox,
    TreeSampler,
    code_version,
    command_line,
    machine_busy_seconds,
    machine_facts,
    own_cpu_seconds,
    parse_list,
    process_cpu_seconds,
    run_child,
)

sys.path.insert(0, str(ROOT / "scripts"))

import psycopg  # the project's e2e dependency (make setup)
from demo import DEMO_DIR, LOADER, Servers  # the demo's way to start and stop the embedded PostgreSQL
from meltano_pipeline import (
    APIS,
    MELTANO,
    PLUGIN_VENVS,
    emitted_records,
    extractor,
    extractor_env,
    libpq_url,
    meltano_env,
    readable,
)

VARIANTS = ("dlt", "record", "batch", "tap")
TAP_EXE = PLUGIN_VENVS / "extractors" / "tap-analytics" / "venv" / "bin" / "tap-analytics"
DLT_TARGET = 2.0  # issue 12: API -> PostgreSQL >= 2x dlt's pipeline (rows/s, lossless)
RSS_TARGET_MB = 150


@dataclass
class Result:
    variant: str
    records: int
    latency_ms: float
    wall: float = 0.0
    extract: float | None = None  #: the tap's own time (dlt: its extract step)
    tap_rss_kb: int | None = None
    tree_rss_kb: int = 0
    cpu: float = 0.0
    server_cpu: float = 0.0
    pg_cpu: float = 0.0
    other_cpu: float = 0.0
    rows: int = 0
    distinct: int = 0
    returncode: int = 0
    log: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lossless(self) -> bool:
        return self.returncode == 0 and self.rows == self.records and self.distinct == self.records


class Pipelines:
    """The variants' command lines, environments and checks for one sandbox and one PostgreSQL."""

    def __init__(self, api: str, name: str, sandbox: Sandbox, pg_url: str, work: Path) -> None:
        self.api, self.name, self.sandbox, self.pg_url, self.work = api, name, sandbox, pg_url, work
        self.label = f"{sandbox.records}-{sandbox.latency_ms:g}"
        self.system_db = work / "meltano.db"  # one for the run: --full-refresh ignores its state
        self.config_path = work / f"tap-config-{self.label}.json"
        self.catalog_path = work / f"tap-catalog-{self.label}.json"

    def env(self, variant: str) -> dict[str, str]:
        """Meltano's environment: this sandbox, only our stream, our schema, BATCH if asked."""
        prefix = extractor(self.api).upper().replace("-", "_")
        extra = {
            "EMBEDDED_POSTGRES_URL": self.pg_url,
            **extractor_env(self.api, f"{self.sandbox.url}/{self.api}", self.sandbox.credentials[self.api]),
            f"{prefix}__SELECT": json.dumps([f"{self.name}.*"]),
            f"{LOADER.upper().replace('-', '_')}_DEFAULT_TARGET_SCHEMA": schema(variant),
        }
        if variant == "batch":
            root = self.batch_root()
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir(parents=True)
            extra[f"{prefix}_BATCH_CONFIG"] = json.dumps({
                "encoding": {"format": "jsonl", "compression": "gzip"},
                "storage": {"root": root.as_uri(), "prefix": "bench-"},
            })
        return {k: v for k, v in meltano_env(system_db=self.system_db, extra=extra).items()
                if k != "PYTHONUNBUFFERED"}

    def batch_root(self) -> Path:
        return self.work / f"batches-{self.label}"

    def prepare(self, variants: list[str]) -> None:
        """What Meltano hands the tap (its config; the catalog with only our stream selected, for
        the tap alone), untimed; it also creates Meltano's system DB, so no timed run pays its
        migrations."""
        dumps = ["config", "catalog"] if "tap" in variants else ["config"]
        for what in dumps:
            dump = [str(MELTANO), "invoke", f"--dump={what}", extractor(self.api)]
            path = self.config_path if what == "config" else self.catalog_path
            path.write_text(run_quiet(dump, self.env("record")))
        names = [r if isinstance(r, str) else r.get("name") for r in self.config()["resources"]]
        if self.name not in names:
            raise SystemExit(f"--resource: {extractor(self.api)} has no resource {self.name!r} ({names})")

    def config(self) -> dict[str, Any]:
        return dict(json.loads(self.config_path.read_text()))

    def command(self, variant: str) -> list[str]:
        if variant == "dlt":
            return [PYTHON, str(BENCH_DIR / "dlt_pipeline.py"), "--config", str(self.config_path),
                    "--resource", self.name, "--postgres", libpq_url(self.pg_url),
                    "--dataset", schema(variant), "--pipelines-dir", str(self.work / f"dlt-{self.label}")]
        if variant in ("record", "batch"):
            return [str(MELTANO), "--log-level=info", "--log-format=json", "run", "--full-refresh",
                    extractor(self.api), LOADER]
        return [str(TAP_EXE), "--config", str(self.config_path), "--catalog", str(self.catalog_path)]

    def measure(self, variant: str, timeout: float, pg_pid: int) -> Result:
        result = Result(variant, self.sandbox.records, self.sandbox.latency_ms)
        with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as conn:
            conn.execute(f'drop schema if exists "{schema(variant)}" cascade')
        shutil.rmtree(self.work / f"dlt-{self.label}", ignore_errors=True)
        env = self.env(variant) if variant in ("record", "batch") else CHILD_ENV
        out_path = self.work / f"{variant}-{self.label}.out"
        result.log = self.work / f"{variant}-{self.label}.log"
        sampler = TreeSampler()
        before = (machine_busy_seconds(), own_cpu_seconds(), self.sandbox.cpu_seconds(), pg_cpu(pg_pid))
        with open(out_path, "wb") as out:
            child = run_child(self.command(variant), None, timeout, result.log, stdout=out, env=env,
                              on_start=sampler.watch)
        sampler.stop()
        busy, own, server, pg = before
        result.wall, result.cpu, result.returncode = child.wall, child.cpu, child.returncode
        result.server_cpu = self.sandbox.cpu_seconds() - server
        result.pg_cpu = pg_cpu(pg_pid) - pg
        result.other_cpu = max(0.0, machine_busy_seconds() - busy - child.cpu - result.server_cpu
                               - result.pg_cpu - (own_cpu_seconds() - own))
        result.tree_rss_kb = sampler.peak_tree_kb
        {"dlt": self._dlt, "record": self._meltano, "batch": self._meltano, "tap": self._tap}[variant](
            result, sampler, child.rss_kb, out_path)
        return result

    def _dlt(self, result: Result, sampler: TreeSampler, rss_kb: int, out: Path) -> None:
        result.tree_rss_kb = max(result.tree_rss_kb, rss_kb)
        lines = out.read_text().strip().splitlines()
        with contextlib.suppress(ValueError, IndexError):
            steps = json.loads(lines[-1])
            result.extract = steps["extract"]
            result.notes.append("dlt steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items() if v))
        result.rows, result.distinct = self.count(schema("dlt"))

    def _meltano(self, result: Result, sampler: TreeSampler, rss_kb: int, out: Path) -> None:
        taps = sampler.find("bin/tap-analytics", without="--discover")
        discovery = sampler.find("bin/tap-analytics", "--discover")
        targets = sampler.find("bin/target-postgres")
        if taps:
            result.extract = sum(p.lifetime for p in taps)
            result.tap_rss_kb = max(p.hwm_kb for p in taps)
        result.tree_rss_kb = max(result.tree_rss_kb, rss_kb)
        parts = [f"meltano run {result.wall:.2f} s"]
        if discovery:
            parts.append(f"discovery {sum(p.lifetime for p in discovery):.2f} s")
        if taps:
            parts.append(f"tap sync {result.extract:.2f} s")
        if targets:
            parts.append(f"target {max(p.lifetime for p in targets):.2f} s, "
                         f"{max(p.hwm_kb for p in targets) / 1024:.0f} MB")
        log = out.read_text(errors="replace") + (result.log.read_text(errors="replace") if result.log else "")
        emitted = emitted_records(log).get(self.name)
        if emitted is not None:
            parts.append(f"tap's record_count {emitted:,}")
        if result.variant == "batch":
            files = [f for f in self.batch_root().rglob("*") if f.is_file()]
            size = sum(f.stat().st_size for f in files) / 1e6
            parts.append(f"{len(files)} batch file(s), {size:.1f} MB, left in the storage root after the "
                         "run (removed by the benchmark)")
            shutil.rmtree(self.batch_root(), ignore_errors=True)
        result.notes.append("; ".join(parts))
        if result.returncode != 0:
            result.notes.append("meltano failed:\n" + "\n".join(readable(log).splitlines()[-15:]))
        result.rows, result.distinct = self.count(schema(result.variant))

    def _tap(self, result: Result, sampler: TreeSampler, rss_kb: int, out: Path) -> None:
        result.extract, result.tap_rss_kb = result.wall, rss_kb
        result.tree_rss_kb = max(result.tree_rss_kb, rss_kb)
        ids: set[Any] = set()
        with open(out, "rb") as fh:
            for line in fh:
                if line.startswith(b'{"type":"RECORD"') or line.startswith(b'{"type": "RECORD"'):
                    message = json.loads(line)
                    if message.get("stream") == self.name:
                        result.rows += 1
                        ids.add(message["record"].get("id"))
        result.distinct = len(ids)
        out.unlink()

    def count(self, schema_name: str) -> tuple[int, int]:
        """(rows, distinct ids) of our table; (0, 0) when the variant created none."""
        with psycopg.connect(libpq_url(self.pg_url), autocommit=True) as conn:
            try:
                row = conn.execute(
                    f'select count(*), count(distinct id) from "{schema_name}"."{self.name}"'
                ).fetchone()
            except psycopg.errors.UndefinedTable:
                return 0, 0
        assert row is not None
        return int(row[0]), int(row[1])


def schema(variant: str) -> str:
    return f"bench_{variant}"


def pg_cpu(pid: int) -> float:
    """CPU of the PostgreSQL server: the postmaster and the backends it has reaped."""
    try:
        return process_cpu_seconds(pid, reaped_children=True)
    except OSError:
        return 0.0


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def run_quiet(cmd: list[str], env: dict[str, str]) -> str:
    """A short untimed command's stdout; its stderr if it fails."""
    import subprocess  # noqa: PLC0415 - only here: everything timed goes through run_child

    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} exited {proc.returncode}:\n{readable(proc.stderr)[-3000:]}")
    return proc.stdout


# ----------------------------------------------------------------------------- report
HEADER = (
    "| variant | records | latency ms | wall s | rows/s | ratio vs dlt | tap s (share) | tap peak RSS MB "
    "| pipeline peak RSS MB | CPU s | sandbox CPU s | PostgreSQL CPU s | other CPU s | rows | distinct ids "
    "| lossless |"
)


def row(r: Result, dlt: Result | None) -> str:
    rate = r.records / r.wall if r.wall > 0 else float("nan")
    ratio = f"{dlt.wall / r.wall:.2f}x" if dlt is not None and r.wall > 0 else "-"
    share = f"{r.extract:.2f} ({r.extract / r.wall:.0%})" if r.extract is not None and r.wall > 0 else "-"
    tap_rss = f"{r.tap_rss_kb / 1024:.1f}" if r.tap_rss_kb else "-"
    ok = "yes" if r.lossless else f"NO (rc {r.returncode})"
    return (
        f"| {r.variant} | {r.records:,} | {r.latency_ms:g} | {r.wall:.2f} | {rate:,.0f} | {ratio} | {share} "
        f"| {tap_rss} | {r.tree_rss_kb / 1024:.1f} | {r.cpu:.2f} | {r.server_cpu:.2f} | {r.pg_cpu:.2f} "
        f"| {r.other_cpu:.2f} | {r.rows:,} | {r.distinct:,} | {ok} |"
    )


def targets(results: dict[tuple[int, float], dict[str, Result]]) -> list[str]:
    lines = []
    for (n, latency), runs in results.items():
        dlt = runs.get("dlt")
        for variant in ("record", "batch"):
            r = runs.get(variant)
            if r is not None and dlt is not None and r.wall > 0:
                ratio = dlt.wall / r.wall
                verdict = "met" if ratio >= DLT_TARGET and r.lossless and dlt.lossless else "MISSED"
                lines.append(f"- {n:,} records, {latency:g} ms: meltano {variant.upper()} {ratio:.2f}x dlt's "
                             f"pipeline (issue 12 >= {DLT_TARGET:g}x, lossless): {verdict}")
    peaks = [r.tap_rss_kb / 1024 for runs in results.values() for r in runs.values() if r.tap_rss_kb]
    if peaks:
        verdict = "met" if max(peaks) <= RSS_TARGET_MB else "MISSED"
        lines.append(f"- tap peak RSS at most {max(peaks):.1f} MB (target <= {RSS_TARGET_MB} MB): {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resource", default="timetracking/clients",
                   help="API/NAME of a seed extractor's resource (default timetracking/clients: bearer, "
                        "offset, limit 100; devplatform/events: nested objects, OAuth2)")
    p.add_argument("--records", action="append", default=[], metavar="N[,N...]",
                   help="records in the resource (repeatable or comma list; default 50000)")
    p.add_argument("--latency-ms", action="append", default=[], metavar="L[,L...]",
                   help="sandbox delay per data request (repeatable or comma list; default 0,20)")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"comma list of {', '.join(VARIANTS)} (default all, in that order)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per child run")
    p.add_argument("--output", type=Path, help="also write the report (markdown) to this file")
    p.add_argument("--keep-logs", action="store_true", help="keep the children's logs")
    args = p.parse_args(argv)

    api, _, name = args.resource.partition("/")
    if api not in APIS or not name:
        p.error(f"--resource: API/NAME with API one of {', '.join(APIS)}")
    records = parse_list(args.records, int) or [50_000]
    latencies = parse_list(args.latency_ms, float) or [0.0, 20.0]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if set(variants) - set(VARIANTS) or not variants:
        p.error(f"--variants: choose from {', '.join(VARIANTS)}")
    if "dlt" in variants and api == "helpdesk":
        p.error("dlt's rest_api has no refresh-token grant: leave out the dlt variant for helpdesk")
    for path in (MELTANO, TAP_EXE):
        if not path.exists():
            p.error(f"{path} is missing: run `make setup`")
    # SIGTERM unwinds like Ctrl-C, so the sandbox and PostgreSQL are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    work = Path(tempfile.mkdtemp(prefix="tap-analytics-pipeline-"))
    load_before, version = os.getloadavg(), code_version()
    results: dict[tuple[int, float], dict[str, Result]] = {}
    servers = Servers()
    print(f"# resource {args.resource}; logs in {work}", file=sys.stderr)
    try:
        (DEMO_DIR / "logs").mkdir(parents=True, exist_ok=True)  # where Servers keeps PostgreSQL's log
        servers.start_postgres(work / "pgdata", work / "pg.url")
        pg_pid = postmaster_pid(work / "pgdata")
        for n in records:
            for latency in latencies:
                with Sandbox(n, latency, work) as sandbox:
                    pipelines = Pipelines(api, name, sandbox, servers.pg_url, work)
                    pipelines.prepare(variants)
                    runs = results[(n, latency)] = {}
                    for variant in variants:
                        r = runs[variant] = pipelines.measure(variant, args.timeout, pg_pid)
                        print(f"  {variant:7} N={n:<9,} L={latency:g} ms: {r.wall:7.2f} s, {r.rows:,} rows "
                              f"({r.distinct:,} distinct), rc {r.returncode}", file=sys.stderr)
    finally:
        servers.stop()

    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    notes: list[str] = []
    failures = 0
    for (n, latency), runs in results.items():
        for variant in variants:
            r = runs[variant]
            lines.append(row(r, runs.get("dlt")))
            notes += [f"- {variant}, {n:,} records, {latency:g} ms: {note}" for note in r.notes]
            if not r.lossless:
                failures += 1
                print(f"FAILED: {variant} N={n:,} L={latency:g}: {r.rows:,} rows, {r.distinct:,} "
                      f"distinct ids for {n:,} records, rc {r.returncode} (see {r.log})", file=sys.stderr)
    command = shlex.join(command_line("benchmarks/pipeline.py", argv))
    meta = machine_facts(version, load_before, f"resource {args.resource}; one run of each variant; "
                         "tap s = the tap process's lifetime inside meltano run (dlt: its extract step)")
    report = "\n".join([f"`{command}`", "", meta, "", *lines, "", *notes, "",
                        "Targets (issue 12):", *(targets(results) or ["- none measured"]), ""])
    print(report)
    if args.output:
        args.output.write_text(report)
    if failures:
        print(f"{failures} run(s) did not load exactly N distinct ids: logs kept in {work}", file=sys.stderr)
    elif not args.keep_logs:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

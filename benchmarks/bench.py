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
  whole    tap-analytics with its defaults on every resource of the --resource's API in one run
           (N records each, or M with --sibling-records M), to compare with `default` on that
           API's largest stream alone

    .venv/bin/python benchmarks/bench.py --records 100000 --latency-ms 0,20 --repeat 3
    .venv/bin/python benchmarks/bench.py --resource devplatform/events   # nested records, OAuth2
    .venv/bin/python benchmarks/bench.py --latency-ms 20 --variants default,whole
    .venv/bin/python benchmarks/bench.py --latency-ms 20 --variants default,whole --sibling-records 1000
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    CHILD_ENV,
    PYTHON,
    ROOT,
    Sandbox,
    code_version,
    command_line,
    machine_busy_seconds,
    machine_facts,
    own_cpu_seconds,
    parse_list,
    publish,
    run_child,
    wait_quiet,
)

sys.path.insert(0, str(ROOT))

from sandbox.data import SPECS, SPECS_BY_KEY  # the repo root is not installed: path above

VARIANTS = ("raw", "rawlean", "seq", "default", "sdk", "whole")
#: `default@base`, `whole@base`, `seq@base`: the same run of the tap from --base-tree's checkout.
BASE_SUFFIX = "@base"


def plain(variant: str) -> str:
    """The variant without its `@base` suffix."""
    return variant.removesuffix(BASE_SUFFIX)
DEFAULT_VARIANTS = ("raw", "seq", "default")
#: How each API's clients authenticate: static credentials, or an OAuth2 client-credentials token
#: (the raw loop fetches one first; helpdesk's rotating refresh token is left out).
API_AUTH = {"timetracking": "bearer", "statuspage": "api_key", "devplatform": "oauth2",
            "generic": "oauth2"}
TAP_WINDOW = 8  # tap-analytics' default max_concurrent_requests
RECORD_PATTERNS = (b'\n{"type":"RECORD"', b'\n{"type": "RECORD"')
WHOLE_API_TARGET = 1.5  # issue 12: a whole seed API within 1.5x its largest stream's time


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
    pages: int  #: pages needed for all its records


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
        if spec is None or spec.api not in API_AUTH:
            usable = [k for k, s in SPECS_BY_KEY.items() if s.api in API_AUTH]
            raise SystemExit(f"--resource: choose one of {', '.join(usable)}")
        return cls(key, spec.api, spec.name, spec.path, spec.paging, spec.default_limit)

    def pages_needed(self, records: int) -> int:
        return max(1, math.ceil(records / self.limit))

    def siblings(self) -> list[Resource]:
        """Every resource of this one's API, in the sandbox's (and the seed's) order."""
        return [Resource.of(s.key) for s in SPECS if s.api == self.api]

    def tap_resource(self) -> dict[str, Any]:
        """This resource in the tap's (dlt's rest_api) language."""
        if self.paging == "offset":
            paginator: dict[str, Any] = {"type": "offset", "limit": self.limit}
        else:
            paginator = {"type": "page_number", "page_param": "page", "limit_param": "per_page",
                         "limit": self.limit}
        return {"name": self.name, "endpoint": {"path": self.path, "data_selector": "data",
                                                "paginator": paginator}}


@dataclass
class Commands:
    """Builds each variant's command line and files for one sandbox."""

    resource: Resource
    sandbox: Sandbox
    work: Path
    files: dict[str, Path] = field(default_factory=dict)
    #: Another checkout of the tap, which the `...@base` variants run (an A/B in one run).
    base_tree: Path | None = None

    def resources(self, variant: str) -> list[Resource]:
        """What a variant reads: the whole API for `whole`, else the one resource."""
        return self.resource.siblings() if plain(variant) == "whole" else [self.resource]

    def expected(self, variant: str) -> int:
        return sum(self.sandbox.count(r.key) for r in self.resources(variant))

    def pages_needed(self, variant: str) -> int:
        return sum(r.pages_needed(self.sandbox.count(r.key)) for r in self.resources(variant))

    def tap_auth(self) -> dict[str, Any]:
        api = self.resource.api
        creds = self.sandbox.credentials[api]
        kind = API_AUTH[api]
        if kind == "bearer":
            return {"type": "bearer", "token": creds["token"]}
        if kind == "api_key":
            return {"type": "api_key", "name": "api_key", "location": "header", "api_key": creds["api_key"]}
        return {"type": "oauth2", "client_id": creds["client_id"], "client_secret": creds["client_secret"],
                "token_url": self.sandbox.token_url(api)}

    def _static_header(self) -> tuple[str, str]:
        """A header carrying the API's credentials; an OAuth2 API's is a token fetched now."""
        api = self.resource.api
        creds = self.sandbox.credentials[api]
        kind = API_AUTH[api]
        if kind == "api_key":
            return "api_key", creds["api_key"]
        token = creds["token"] if kind == "bearer" else self.sandbox.access_token(api)
        return "Authorization", f"Bearer {token}"

    def _write(self, name: str, obj: Any) -> Path:
        path = self.work / name
        path.write_text(json.dumps(obj, indent=2))
        return path

    def tap_config(self, variant: str, concurrency: int | None) -> Path:
        r = self.resource
        config: dict[str, Any] = {
            "client": {"base_url": f"{self.sandbox.url}/{r.api}", "auth": self.tap_auth()},
            "resources": [res.tap_resource() for res in self.resources(variant)],
        }
        if concurrency is not None:
            config["max_concurrent_requests"] = concurrency
        return self._write(f"tap-{variant}.json", config)

    def command(self, variant: str) -> tuple[list[str], tuple[bytes, ...]]:
        """The child's argv, and the byte patterns that start one record line of its output."""
        r = self.resource
        url = f"{self.sandbox.url}/{r.api}{r.path}"
        if variant in ("raw", "rawlean"):
            cmd = [PYTHON, str(BENCH_DIR / "raw_client.py"), url, "--paging", r.paging,
                   "--limit", str(r.limit)]
            if API_AUTH[r.api] == "oauth2":  # the raw loop fetches its token itself, as the tap does
                creds = self.sandbox.credentials[r.api]
                cmd += ["--token-url", self.sandbox.token_url(r.api), "--client-id", creds["client_id"],
                        "--client-secret", creds["client_secret"]]
            else:
                header, value = self._static_header()
                cmd += ["--header", f"{header}: {value}"]
            return ([*cmd, "--no-trust-env"] if variant == "rawlean" else cmd), (b"\n",)
        if plain(variant) in ("seq", "default", "whole"):
            config = self.tap_config(variant, 1 if plain(variant) == "seq" else None)
            tap = "import sys; from tap_analytics.tap import TapAnalytics; sys.exit(TapAnalytics.cli())"
            if variant.endswith(BASE_SUFFIX):
                if self.base_tree is None:
                    raise SystemExit(f"--variants {variant}: needs --base-tree DIR")
                # The venv's editable install points at this checkout: drop its finder first.
                tap = (f"import sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' "
                       f"not in type(f).__module__]; sys.path.insert(0, {str(self.base_tree)!r}); {tap}")
            return [PYTHON, "-c", tap, "--config", str(config)], RECORD_PATTERNS
        if variant == "sdk":
            header, value = self._static_header()  # OAuth2: a token fetched by the benchmark
            schema = ROOT / "tap_analytics" / "schemas" / r.api / f"{r.name}.json"
            props = json.loads(schema.read_text()).get("properties", {})
            config = self._write("sdk.json", {
                "url": f"{self.sandbox.url}/{r.api}", "path": r.path, "headers": {header: value},
                "stream": r.name, "paging": r.paging, "limit": r.limit, "schema_path": str(schema),
                "replication_key": "updated_at" if "updated_at" in props else None,
            })
            return [PYTHON, str(BENCH_DIR / "sdk_tap.py"), "--config", str(config)], RECORD_PATTERNS
        raise ValueError(variant)


def measure(
    variant: str, commands: Commands, timeout: float, log_dir: Path, index: int | str, count: bool = True
) -> Run:
    sandbox = commands.sandbox
    cmd, patterns = commands.command(variant)
    keys = [r.key for r in commands.resources(variant)]
    stderr_path = log_dir / f"{variant}-{sandbox.records}-{sandbox.latency_ms:g}-{index}.stderr"
    before = sandbox.data_requests(*keys)
    cpu_before = sandbox.cpu_seconds()
    machine_before, self_before = machine_busy_seconds(), own_cpu_seconds()
    child = run_child(cmd, patterns if count else None, timeout, stderr_path, env=CHILD_ENV)
    machine, own = machine_busy_seconds() - machine_before, own_cpu_seconds() - self_before
    server_cpu = sandbox.cpu_seconds() - cpu_before
    requests_made = sandbox.data_requests(*keys) - before
    # CPU the rest of the machine used meanwhile (other jobs on a shared box skew timings)
    other_cpu = max(0.0, machine - child.cpu - server_cpu - own)
    return Run(variant, commands.expected(variant), sandbox.latency_ms, child.wall, child.rss_kb, child.cpu,
               server_cpu, other_cpu, requests_made, child.received, child.returncode, stderr_path,
               commands.pages_needed(variant))


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


def row(run: Run, raw: Run | None) -> str:
    rate = run.records / run.wall if run.wall > 0 else float("nan")
    # `whole` reads more resources than raw does: its comparison is with `default` (targets)
    ratio = f"{raw.wall / run.wall:.2f}x" if raw is not None and plain(run.variant) != "whole" else "-"
    ok = "yes" if run.received == run.records and run.returncode == 0 else (
        f"NO: {run.received} (rc {run.returncode})"
    )
    return (
        f"| {run.variant} | {run.records:,} | {run.latency_ms:g} | {run.wall:.2f} | {rate:,.0f} | {ratio} "
        f"| {run.rss_kb / 1024:.1f} | {run.requests:,} | {run.pages:,} | {run.cpu:.2f} "
        f"| {run.server_cpu:.2f} | {run.other_cpu:.2f} "
        f"| {ok} |"
    )


def check_targets(
    table: dict[tuple[int, float], dict[str, Run]],
    all_runs: dict[tuple[int, float], dict[str, list[Run]]],
    resource: Resource,
    sibling_records: int | None = None,
) -> list[str]:
    """The issues' targets (4, then the speed issue 12), for the figures this run has."""
    lines: list[str] = []
    for (n, latency), runs in sorted(table.items()):
        raw, default, whole = runs.get("raw"), runs.get("default"), runs.get("whole")
        if raw is not None and default is not None:
            ratio = raw.wall / default.wall
            # Each repeat runs raw and default back to back: the median of those pairs' ratios
            # is less sensitive to the machine's speed drifting between repeats.
            pairs = zip(all_runs[(n, latency)]["raw"], all_runs[(n, latency)]["default"], strict=True)
            paired = statistics.median(r.wall / d.wall for r, d in pairs)
            goals = [(4, 6.0), (12, 7.0)] if latency >= 20 else [(4, 0.65), (12, 0.9)] if latency == 0 else []
            if goals:
                verdicts = "; ".join(f"issue {issue} >= {goal:g}x: {'met' if ratio >= goal else 'MISSED'}"
                                     for issue, goal in goals)
                lines.append(
                    f"- {n:,} records, {latency:g} ms: default {ratio:.2f}x raw ({verdicts}) "
                    f"(median of the {len(all_runs[(n, latency)]['raw'])} paired ratios: {paired:.2f}x)"
                )
        if default is not None:
            extra = default.requests - default.pages
            verdict = "met" if 0 <= extra <= TAP_WINDOW else "MISSED"
            lines.append(
                f"- {n:,} records, {latency:g} ms: default made {default.requests:,} requests for "
                f"{default.pages:,} pages (+{extra}, target <= +{TAP_WINDOW}): {verdict}"
            )
        if whole is not None and default is not None:
            times = whole.wall / default.wall
            verdict = "met" if times <= WHOLE_API_TARGET else "MISSED"
            streams = len(resource.siblings())
            lines.append(
                f"- {n:,} records, {latency:g} ms: the whole {resource.api} API ({streams} streams) took "
                f"{times:.2f}x the time of {resource.name} alone"
                f"{'' if sibling_records is None else f' (the others {sibling_records:,} records each)'} "
                f"(issue 12 <= {WHOLE_API_TARGET:g}x): "
                f"{verdict}"
            )
            others = n if sibling_records is None else sibling_records
            pages = {r.key: r.pages_needed(n if r.key == resource.key else others)
                     for r in resource.siblings()}
            largest = max(resource.siblings(), key=lambda r: pages[r.key])
            if pages[largest.key] > resource.pages_needed(n):
                lines.append(f"  (note: {largest.key} needs more pages than {resource.key}: "
                             "pass it as --resource to compare with the largest stream)")
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
    p.add_argument("--sibling-records", type=int, metavar="M",
                   help="records in each other resource of the API (for `whole`: one large stream "
                        "among smaller ones, as real APIs have them; default: N like the resource)")
    p.add_argument("--base-tree", type=Path, metavar="DIR",
                   help="another checkout of this repo (e.g. `git worktree add /tmp/base HEAD~1`): the "
                        "variants default@base, whole@base and seq@base run the tap from it, for an A/B "
                        "of a change in one run")
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
    unknown = {v for v in variants if v not in VARIANTS and not (
        v.endswith(BASE_SUFFIX) and plain(v) in ("seq", "default", "whole"))}
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
            siblings = {r.key: args.sibling_records for r in resource.siblings() if r.key != resource.key}
            with Sandbox(n, latency, work, siblings if args.sibling_records is not None else None) as sandbox:
                commands = Commands(resource, sandbox, work, base_tree=args.base_tree)
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
            lines.append(row(run, raw))
            if run.received != run.records or run.returncode != 0:
                failures += 1
                print(f"FAILED: {variant} N={n} L={latency:g}: see {run.stderr_path}", file=sys.stderr)
                args.keep_logs = True
    targets = check_targets(table, all_runs, resource, args.sibling_records) or [
        "- none measured (they need raw and default)"
    ]
    command = shlex.join(command_line("benchmarks/bench.py", argv))
    sizes = "" if args.sibling_records is None else (
        f"the other resources {args.sibling_records:,} records each; "
    )
    meta = machine_facts(version, load_before, (
        f"resource {resource.key}, {resource.paging} paging, limit {resource.limit}; "
        f"{sizes}"
        f"{args.stat} of {args.repeat} run(s), peak RSS the worst of them; output to "
        f"{'/dev/null (records counted in a separate pass)' if args.devnull else 'a counted pipe'}"
    ))
    report = "\n".join([
        f"`{command}`", "", meta, "", *lines, "", "Targets (issues 4 and 12):", *targets, "",
    ])
    publish(report, args.output, work, keep_logs=args.keep_logs)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

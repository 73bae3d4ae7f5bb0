"""Shared by the demo (scripts/demo.py) and the e2e tests: drive `meltano run` and read the results.

Kept in one place so the demo shows exactly what the tests check: which env vars a seed extractor
needs, how many records the tap emitted per stream (from its `record_count` METRIC log lines), and
what landed in PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
PLUGIN_VENVS = ROOT / ".meltano"
TARGET_POSTGRES = PLUGIN_VENVS / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"

#: The seed APIs in seed order; `tap-analytics-<api>` in meltano.yml, `/<api>` in the sandbox.
APIS: tuple[str, ...] = ("devplatform", "generic", "helpdesk", "timetracking", "statuspage")
#: Singer SDK counter lines, as Meltano relays the tap's stderr: `... METRIC: {"type": "counter", ...}`.
_METRIC = re.compile(r"METRIC: (\{.*\})\s*$")


def extractor(api: str) -> str:
    return f"tap-analytics-{api}"


def extractor_env(api: str, base_url: str, credentials: Mapping[str, str]) -> dict[str, str]:
    """The env vars that complete `tap-analytics-<api>`: base URL and that API's credentials.

    `base_url` is the API root (e.g. http://127.0.0.1:8765/helpdesk); OAuth2 APIs get their token
    endpoint below it, as the seeds' token URLs are.
    """
    prefix = f"TAP_ANALYTICS_{api.upper()}_CLIENT_"
    env = {f"{prefix}BASE_URL": base_url}
    for key, value in credentials.items():
        env[f"{prefix}AUTH_{key.upper()}"] = value
    if "client_id" in credentials:
        env[f"{prefix}AUTH_TOKEN_URL"] = f"{base_url}/oauth/token"
    return env


def meltano_env(*, system_db: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A child environment for Meltano: our project, our system DB (state), no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_ANALYTICS_", "TARGET_POSTGRES"))}
    env.update(
        MELTANO_PROJECT_ROOT=str(ROOT),
        MELTANO_DATABASE_URI=f"sqlite:///{system_db}",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_DISABLE_TRACKING="true",
        NO_COLOR="1",
    )
    env.update(extra or {})
    return env


@dataclass
class RunResult:
    """One `meltano run`: exit code, full log, records the tap emitted per stream, wall time."""

    command: list[str]
    returncode: int
    log: str
    seconds: float
    emitted: dict[str, int] = field(default_factory=dict)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(readable(self.log).splitlines()[-lines:])

    def check(self) -> RunResult:
        if self.returncode != 0:
            raise RuntimeError(f"{' '.join(self.command)} exited {self.returncode}:\n{self.tail()}")
        return self


def readable(log: str) -> str:
    """Meltano's JSON log lines as `plugin: message` text, for error messages."""
    out = []
    for line in log.splitlines():
        try:
            event = json.loads(line) if line.startswith("{") else None
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict):
            extra = f" {event['metric_info']}" if "metric_info" in event else ""
            out.append(f"{event.get('string_id') or 'meltano'}: {event.get('event', '')}{extra}")
        else:
            out.append(line)
    return "\n".join(out)


def emitted_records(log: str) -> dict[str, int]:
    """Sum the tap's `record_count` counters per stream (the SDK logs them in increments).

    Reads Meltano's JSON log lines (`--log-format=json`, where a structured-logging tap's metrics
    keep their tags) and, as a fallback, plain `METRIC: {...}` lines.
    """
    counts: dict[str, int] = {}
    for line in log.splitlines():
        metric: Any = None
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if event.get("producer") and isinstance(event.get("metric_info"), dict):
                metric = event["metric_info"]
        elif match := _METRIC.search(line):
            try:
                metric = json.loads(match.group(1))
            except json.JSONDecodeError:
                continue
        if isinstance(metric, dict) and metric.get("metric") == "record_count":
            stream = str((metric.get("tags") or {}).get("stream"))
            counts[stream] = counts.get(stream, 0) + int(metric.get("value") or 0)
    return counts


def meltano_run(
    extractor_name: str,
    loader: str,
    env: Mapping[str, str],
    *,
    log_file: Path | None = None,
    timeout: float = 600,
) -> RunResult:
    """`meltano run <extractor> <loader>` with a log we can parse (and keep for a human)."""
    command = [str(MELTANO), "--log-level=info", "--log-format=json", "run", extractor_name, loader]
    started = time.monotonic()
    proc = subprocess.run(  # noqa: S603 - meltano from our venv, fixed arguments
        command,
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    log = proc.stdout + proc.stderr
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(log, encoding="utf-8")
    return RunResult(command, proc.returncode, log, time.monotonic() - started, emitted_records(log))


def libpq_url(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... -> postgresql://... (what psycopg.connect accepts)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", sqlalchemy_url)


def sqlalchemy_url(url: str) -> str:
    """postgres(ql)://... -> postgresql+psycopg://... (what target-postgres accepts)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


def table_stats(conn: Any, schema: str) -> dict[str, tuple[int, int]]:
    """table -> (rows, distinct ids) for every table of `schema` (psycopg connection)."""
    tables = [
        r[0]
        for r in conn.execute(
            "select table_name from information_schema.tables "
            "where table_schema = %s and table_type = 'BASE TABLE' order by 1",
            (schema,),
        )
    ]
    stats: dict[str, tuple[int, int]] = {}
    for table in tables:
        row = conn.execute(
            f'select count(*), count(distinct id) from "{schema}"."{table}"'  # noqa: S608 - identifiers from the catalog
        ).fetchone()
        stats[table] = (int(row[0]), int(row[1]))
    return stats


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain aligned text table (no dependency), numbers right-aligned."""
    cells = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str], source: list[Any]) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = isinstance(source[i], int | float) and not isinstance(source[i], bool)
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(c, r) for c, r in zip(cells[1:], rows, strict=True)]
    return "\n".join([line(cells[0], headers), rule, *body])

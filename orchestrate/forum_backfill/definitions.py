"""The backfill job: `[start, end)` cut into windows, one `meltano run` per window, in parallel.

Each window is a separate `meltano run` restricted to it by the tap's `window_start` /
`window_end` settings (env vars of the extractor) and with a state id of its own
(`--state-id-suffix`), so the processes share nothing but the destination: windows are
disjoint by construction and the target's merge on the primary key makes any overlap
harmless. Dagster's multiprocess executor runs them side by side; nothing else coordinates
them. The windows are cut by the tap's own `tap_analytics.windows`, as `endpoint.incremental.window`
cuts them within one run.

One step comes first: a run over an empty window creates the destination's tables, because
target-postgres creates a missing table without locking and concurrent first runs would race
on PostgreSQL's catalog (`CREATE TABLE` of one name at once: one wins, the others fail).
"""

import os
import re
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dagster import (
    ConfigurableResource,
    Definitions,
    DynamicOut,
    DynamicOutput,
    Failure,
    In,
    MetadataValue,
    Nothing,
    OpExecutionContext,
    job,
    multiprocess_executor,
    op,
)

from tap_analytics.windows import CursorRange, parse_window

ROOT = Path(__file__).resolve().parents[2]
#: Lines of a failed run's log shown in Dagster.
LOG_TAIL_LINES = 40
#: Where Meltano installs plugins, under its system directory (`.meltano/`).
PLUGIN_DIRS = ("extractors", "loaders", "mappers", "utilities", "transformers", "files")


class Meltano(ConfigurableResource):  # type: ignore[misc]
    """The Meltano project, and the extractor/loader pair every window runs."""

    project_root: str = str(ROOT)
    executable: str = str(ROOT / ".venv-meltano" / "bin" / "meltano")
    extractor: str = "tap-analytics-forum"
    loader: str = "target-postgres-embedded"
    environment: str = "dev"
    timeout_seconds: float = 3600

    def state_id(self, suffix: str) -> str:
        """Meltano's state id of one window's pipeline."""
        return f"{self.environment}:{self.extractor}-to-{self.loader}:{suffix}"

    def window_env(self, start: Any, end: Any) -> dict[str, str]:
        """The extractor's `window_start` / `window_end` settings as Meltano's env vars."""
        prefix = re.sub(r"[^A-Za-z0-9]", "_", self.extractor).upper()
        env = {f"{prefix}_WINDOW_START": str(start)}
        if end is not None:
            env[f"{prefix}_WINDOW_END"] = str(end)
        return env

    def own_system_dir(self, suffix: str) -> dict[str, str]:
        """A `.meltano` directory of this run's own, linking the installed plugins, with the
        project's one system database (where every window's state lives).

        Meltano 4.4 keeps an extractor's catalog and `state.json` in one directory per project
        (`.meltano/run/<plugin>/`, meltano/meltano#8763): two runs of one extractor at once would
        read each other's. Isolating each run is not coordinating them: they never wait for
        one another."""
        shared = Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or Path(self.project_root) / ".meltano")
        own = shared / "run" / "windows" / suffix
        own.mkdir(parents=True, exist_ok=True)
        for kind in PLUGIN_DIRS:
            link = own / kind
            if (shared / kind).is_dir() and not link.exists():
                link.symlink_to(shared / kind, target_is_directory=True)
        env = {"MELTANO_SYS_DIR_ROOT": str(own)}
        if not os.environ.get("MELTANO_DATABASE_URI"):
            env["MELTANO_DATABASE_URI"] = f"sqlite:///{shared / 'meltano.db'}"
        return env

    def run_window(self, context: OpExecutionContext, suffix: str, start: Any, end: Any) -> dict[str, Any]:
        """`meltano run --state-id-suffix=<suffix> <extractor> <loader>` for `[start, end)`."""
        command = [
            self.executable, f"--environment={self.environment}", "run",
            f"--state-id-suffix={suffix}", self.extractor, self.loader,
        ]
        env = {
            **os.environ,
            "MELTANO_PROJECT_ROOT": self.project_root,
            **self.own_system_dir(suffix),
            **self.window_env(start, end),
        }
        context.log.info(f"window [{start}, {end}): {' '.join(command[1:])}")
        started = time.monotonic()
        proc = subprocess.run(  # noqa: S603 - our project's meltano, fixed arguments
            command, cwd=self.project_root, env=env, capture_output=True, text=True,
            timeout=self.timeout_seconds, check=False,
        )
        seconds = round(time.monotonic() - started, 2)
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-LOG_TAIL_LINES:])
        if proc.returncode != 0:
            raise Failure(
                description=f"meltano run of window [{start}, {end}) exited {proc.returncode}:\n{tail}",
                metadata={"log": MetadataValue.text(tail), "state_id": self.state_id(suffix)},
            )
        return {"start": start, "end": end, "state_id": self.state_id(suffix), "seconds": seconds}


class Backfill(ConfigurableResource):  # type: ignore[misc]
    """The range to backfill and the window size (an ISO 8601 duration, or a number for a
    numeric cursor). Without `end`, the last window is open-ended (up to now and beyond)."""

    start: str = "2024-03-01T00:00:00Z"
    end: str | None = "2024-03-11T00:00:00Z"
    window: str = "P3D"

    def windows(self) -> list[CursorRange]:
        window = parse_window(float(self.window) if _is_number(self.window) else self.window)
        return list(CursorRange(self.start, self.end).windows(window, datetime.now(UTC)))


def _is_number(text: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+)?", text.strip()) is not None


def _suffix(index: int, span: CursorRange) -> str:
    """A state id suffix naming the window: `window-2-2024-03-07T00-00-00Z`."""
    return f"window-{index}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(span.start))


@op
def create_tables(context: OpExecutionContext, backfill: Backfill, meltano: Meltano) -> None:
    """One run over the empty window `[start, start)`: the target creates its tables (from the
    SCHEMA messages) before the windows' runs start side by side."""
    meltano.run_window(context, "tables", backfill.start, backfill.start)


@op(ins={"tables": In(Nothing)}, out=DynamicOut(dict))
def plan_windows(context: OpExecutionContext, backfill: Backfill) -> Any:
    """One output per window, mapped to `sync_window`."""
    spans = backfill.windows()
    context.log.info(f"{len(spans)} windows of {backfill.window} in [{backfill.start}, {backfill.end})")
    for index, span in enumerate(spans):
        yield DynamicOutput(
            {"index": index, "start": span.start, "end": span.end, "suffix": _suffix(index, span)},
            mapping_key=f"w{index}",
        )


@op
def sync_window(context: OpExecutionContext, window: dict[str, Any], meltano: Meltano) -> dict[str, Any]:
    """The window's own `meltano run` (its own process, its own state id)."""
    result = meltano.run_window(context, window["suffix"], window["start"], window["end"])
    context.log.info(f"window {window['index']} done in {result['seconds']} s ({result['state_id']})")
    return result


@op
def report(context: OpExecutionContext, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every window's run, in window order."""
    done = sorted(results, key=lambda r: str(r["start"]))
    for result in done:
        context.log.info(f"[{result['start']}, {result['end']}): {result['seconds']} s, {result['state_id']}")
    return done


@job(executor_def=multiprocess_executor)
def forum_backfill() -> None:
    """Create the tables, then every window's `meltano run` in parallel (run config
    `execution.config.max_concurrent` caps how many at once)."""
    report(plan_windows(tables=create_tables()).map(sync_window).collect())


defs = Definitions(jobs=[forum_backfill], resources={"meltano": Meltano(), "backfill": Backfill()})

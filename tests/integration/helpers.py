"""Helpers shared by the integration tests: the fake clock, tap runners, Singer parsing."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.tap import TapAnalytics

from .seeds import seed_config

REPO = Path(__file__).resolve().parents[2]
#: The console script of the venv running the tests (the repo's .venv in CI).
TAP_BIN = str(
    next(
        (
            p
            for p in (Path(sys.executable).with_name("tap-analytics"), REPO / ".venv/bin/tap-analytics")
            if p.exists()
        ),
        "tap-analytics",
    )
)
CLI_TIMEOUT = 60


# --------------------------------------------------------------------------- clock
def config_for(srv: SandboxServer, api: str, **top_level: Any) -> dict[str, Any]:
    """The seed config of `api` pointed at `srv`, with its current credentials."""
    return seed_config(api, srv.api_url(api), srv.credentials[api], **top_level)


def pages_needed(count: int, page_size: int) -> int:
    """Requests a stream needs when the server announces a total (an empty first page is one)."""
    return max(1, math.ceil(count / page_size))


# ------------------------------------------------------------------------- running
@dataclass
class SyncResult:
    """Parsed Singer output of one tap run."""

    messages: list[dict[str, Any]]
    error: BaseException | None = None
    stderr: str = ""
    stdout: str = ""
    returncode: int = 0
    tap: TapAnalytics | None = field(default=None, repr=False)

    def of_type(self, kind: str, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m for m in self.messages if m["type"] == kind and (stream is None or m.get("stream") == stream)
        ]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of_type("RECORD", stream)]

    def ids(self, stream: str) -> list[str]:
        return [str(r["id"]) for r in self.records(stream)]

    @property
    def streams(self) -> set[str]:
        return {m["stream"] for m in self.of_type("RECORD")}

    @property
    def state(self) -> dict[str, Any]:
        """The last STATE message's value ({} when none was emitted)."""
        states = self.of_type("STATE")
        return states[-1]["value"] if states else {}

    def bookmark(self, stream: str) -> Any:
        return self.state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")

    def record_sequence(self) -> list[tuple[str, str]]:
        """(stream, serialized record) in output order, for equivalence checks."""
        return [(m["stream"], json.dumps(m["record"], sort_keys=True)) for m in self.of_type("RECORD")]


def parse_messages(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    expect_error: bool = False,
) -> SyncResult:
    """Run the tap in-process (`sync_all`) and parse what it writes to stdout.

    An exception from the sync fails the test unless `expect_error`; then it is returned.
    """
    out = io.StringIO()
    error: BaseException | None = None
    tap: TapAnalytics | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap = TapAnalytics(config=config, state=state, catalog=catalog, parse_env_config=False)
            tap.sync_all()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
    if expect_error and error is None:
        pytest.fail("the tap run was expected to fail but succeeded")
    return SyncResult(parse_messages(out.getvalue()), error=error, tap=tap)


def run_cli(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> SyncResult:
    """Run the real console script in a subprocess with the config (and state) as files."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    argv = [TAP_BIN, "--config", str(config_file), *args]
    if state is not None:
        state_file = tmp_path / "state.json"
        state_file.write_text(json.dumps(state))
        argv += ["--state", str(state_file)]
    if catalog is not None:
        catalog_file = tmp_path / "catalog.json"
        catalog_file.write_text(json.dumps(catalog))
        argv += ["--catalog", str(catalog_file)]
    base_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_PROXY": "*", "no_proxy": "*"}
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=tmp_path,
        env={**base_env, **(env or {})},
        check=False,
    )
    messages = parse_messages(proc.stdout) if "--discover" not in args and "--about" not in args else []
    return SyncResult(messages, stderr=proc.stderr, stdout=proc.stdout, returncode=proc.returncode)


def error_lines(stderr: str) -> list[str]:
    """The ERROR log lines of a CLI run."""
    return [line for line in stderr.splitlines() if "ERROR" in line]


def meet(barrier: threading.Barrier) -> bool:
    """Wait at `barrier` for the other requests a test holds; False when they never came
    (its timeout passed)."""
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return False
    return True

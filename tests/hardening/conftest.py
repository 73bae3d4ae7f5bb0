"""Fixtures of the hardening suite: the fake clock for in-process runs and a sandbox
factory whose servers are all stopped at the end of the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics import retry
from tests.fakes import FakeClock

from .helpers import TapProcess


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """In-process runs never really sleep through a backoff (subprocess runs instead get
    Retry-After 0 and a zero backoff factor)."""
    fake = FakeClock()
    monkeypatch.setattr(retry, "sleep", fake.sleep)
    monkeypatch.setattr(retry, "clock", fake.clock)
    return fake


@pytest.fixture(autouse=True)
def _no_tap_left_running() -> Iterator[None]:
    """A test that fails while a tap process it started still runs kills that process."""
    yield
    while TapProcess.started:
        TapProcess.started.pop().kill_if_running()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with the given options; all are stopped after the test."""
    started: list[SandboxServer] = []

    def make(**options: Any) -> SandboxServer:
        srv = SandboxServer(**options).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def scenario_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """Run a scenario of `scenarios.py` through the CLI once per session (with extra CLI
    arguments, e.g. --log-level=debug), so test_bad_input and test_secrets share runs."""
    from .scenarios import BY_ID, run_scenario  # noqa: PLC0415 - conftest imports stay light

    cache: dict[tuple[str, tuple[str, ...]], Any] = {}

    def run(scenario_id: str, *args: str) -> Any:
        key = (scenario_id, args)
        if key not in cache:
            workdir = tmp_path_factory.mktemp(scenario_id)
            cache[key] = run_scenario(BY_ID[scenario_id], workdir, *args)
        return cache[key]

    return run

"""Integration fixtures: the sandbox on a free loopback port and a fake clock.

Nothing here touches the network beyond 127.0.0.1, and nothing really sleeps: the tap's
two time indirections (`tap_analytics.retry.sleep` and `.clock`, which `RateGate` uses
too) are replaced by a fake clock for every test, so backoffs are recorded, not waited.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics import retry
from tests.fakes import FakeClock


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Every integration test runs with the fake clock: no backoff ever really sleeps."""
    fake = FakeClock()
    monkeypatch.setattr(retry, "sleep", fake.sleep)
    monkeypatch.setattr(retry, "clock", fake.clock)
    return fake


# ------------------------------------------------------------------------- sandbox
@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    """A fresh sandbox per test; options via ``@pytest.mark.sandbox(records=..., ...)``."""
    marker = request.node.get_closest_marker("sandbox")
    options: dict[str, Any] = {"records": 130}
    if marker is not None:
        options.update(marker.kwargs)
    srv = SandboxServer(**options).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[SandboxServer]:
    """One sandbox for a whole module, for tests that only read."""
    srv = SandboxServer(records=130).start()
    try:
        yield srv
    finally:
        srv.stop()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox(**options): SandboxServer options for the `sandbox` fixture")

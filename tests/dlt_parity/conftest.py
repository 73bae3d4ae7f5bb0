"""Fixtures of the dlt parity suite: dlt confined to a tmp dir, the sandbox, the fake clock.

The sandbox and the fake clock are the integration suite's own fixtures, re-used (not copied):
`sandbox` (fresh per test, options via ``@pytest.mark.sandbox(...)``), `module_sandbox` (one per
module, for tests that only read) and the autouse `fake_clock` (the tap never really sleeps).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dlt
import pytest
from dlt import Pipeline

from tests.integration.conftest import fake_clock, module_sandbox, sandbox

from .harness import dlt_environment

__all__ = ["fake_clock", "module_sandbox", "sandbox"]


@pytest.fixture(scope="package", autouse=True)
def dlt_isolation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """While this suite runs dlt writes only under one tmp dir, sends no telemetry, never sleeps
    (package scope: the variables are restored before any other suite runs)."""
    root = tmp_path_factory.mktemp("dlt")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in dlt_environment(root).items():
            mp.setenv(name, value)
        yield root


@pytest.fixture
def dlt_pipeline(tmp_path: Path) -> Pipeline:
    """A destination-less dlt pipeline in a tmp dir, for runs that carry incremental state."""
    return dlt.pipeline(pipeline_name="parity", pipelines_dir=str(tmp_path / "dlt-pipelines"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox(**options): SandboxServer options for the `sandbox` fixture")

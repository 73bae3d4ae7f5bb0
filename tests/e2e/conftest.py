"""Fixtures for the end-to-end tests: Meltano and its plugins, a real PostgreSQL, the sandbox API.

Nothing here is mocked. The session installs what it needs through scripts/setup.sh (a no-op when
the environments are current), uses TAP_ANALYTICS_TEST_POSTGRES_URL when set and otherwise starts an
embedded PostgreSQL (pgserver) for the session, and serves the five fake APIs from the sandbox.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer

from .helpers import RECORDS, ROOT, mp


@pytest.fixture(scope="session")
def meltano_ready() -> Path:
    """Meltano and the plugins of meltano.yml, installed by the project's own setup script."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            "scripts/setup.sh could not install Meltano and its plugins (needs PyPI access);\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    for path in (mp.MELTANO, mp.TARGET_POSTGRES):
        assert path.exists(), f"{path} missing after scripts/setup.sh"
    return mp.MELTANO


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL: $TAP_ANALYTICS_TEST_POSTGRES_URL or an embedded one."""
    if url := os.environ.get("TAP_ANALYTICS_TEST_POSTGRES_URL"):
        yield mp.sqlalchemy_url(url)
        return
    if importlib.util.find_spec("pgserver") is None:
        pytest.fail("pgserver is not installed: run `make setup` (scripts/setup.sh)", pytrace=False)
    workdir = tmp_path_factory.mktemp("postgres")
    url_file, log_file = workdir / "url", workdir / "postgres.log"
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "embedded_postgres.py"), "--data",
             str(workdir / "data"), "--url-file", str(url_file), "--delete"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not url_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"embedded PostgreSQL did not start:\n{log_file.read_text()}", pytrace=False)
            time.sleep(0.2)
        yield url_file.read_text().strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Any]:
    """An autocommit psycopg connection to the test PostgreSQL."""
    import psycopg  # noqa: PLC0415

    with psycopg.connect(mp.libpq_url(postgres_url), autocommit=True) as conn:
        conn.execute("set timezone = 'UTC'")
        yield conn


@pytest.fixture
def schema(pg: Any) -> Iterator[str]:
    """A fresh PostgreSQL schema name for one test, dropped afterwards (safe on a shared server)."""
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    yield name
    pg.execute(f'drop schema if exists "{name}" cascade')


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    """The five fake APIs on a free loopback port (each test mutates only its own API's data)."""
    with SandboxServer(records=RECORDS) as server:
        yield server

"""The same pipelines without Meltano: plain JSON config, `tap-analytics | target-postgres`, `--discover`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer

from .helpers import APIS, ROOT, catalogs, mp, streams_of, tap_config

TAP = str(Path(sys.executable).with_name("tap-analytics"))


def pipe(config: dict[str, Any], target: dict[str, Any], tmp_path: Path, catalog: Path | None = None) -> str:
    """`tap-analytics --config c.json [--catalog ...] | target-postgres --config t.json`: its stdout."""
    (tmp_path / "c.json").write_text(json.dumps(config))
    (tmp_path / "t.json").write_text(json.dumps(target))
    tap_args = [TAP, "--config", str(tmp_path / "c.json")]
    if catalog is not None:
        tap_args += ["--catalog", str(catalog)]
    with (tmp_path / "tap.log").open("w") as tap_log:
        tap = subprocess.Popen(tap_args, stdout=subprocess.PIPE, stderr=tap_log)
        loaded = subprocess.run(
            [str(mp.TARGET_POSTGRES), "--config", str(tmp_path / "t.json")],
            stdin=tap.stdout, capture_output=True, text=True, timeout=300, check=False,
            env={**os.environ, "PGOPTIONS": "-c TimeZone=UTC"},  # as meltano.yml sets it
        )  # fmt: skip
        assert tap.stdout is not None
        tap.stdout.close()
        tap_rc = tap.wait(timeout=60)
    assert tap_rc == 0, (tmp_path / "tap.log").read_text()[-3000:]
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return loaded.stdout


@pytest.mark.parametrize("api", APIS)
def test_tap_pipe_target_postgres(
    api: str,
    meltano_ready: Path,
    sandbox: SandboxServer,
    postgres_url: str,
    pg: Any,
    schema: str,
    tmp_path: Path,
) -> None:
    target = {"sqlalchemy_url": postgres_url, "default_target_schema": schema}
    out = pipe(tap_config(api, sandbox), target, tmp_path, catalog=ROOT / "catalog" / f"{api}.json")

    for stream in streams_of(api):
        total, distinct = pg.execute(
            f'select count(*), count(distinct id) from "{schema}"."{stream.name}"'
        ).fetchone()
        assert total == distinct == len(sandbox.records(stream.resource_key)), stream.name
    final_state = json.loads(out.strip().splitlines()[-1])
    for stream in streams_of(api):
        if stream.replication_key:
            assert final_state["bookmarks"][stream.name]["replication_key"] == stream.replication_key


@pytest.mark.parametrize("api", APIS)
def test_discover_matches_committed_catalog(api: str, sandbox: SandboxServer, tmp_path: Path) -> None:
    """With real credentials and base URL, discovery gives exactly catalog/<api>.json."""
    config = tmp_path / "c.json"
    config.write_text(json.dumps(tap_config(api, sandbox)))
    out = subprocess.run(
        [TAP, "--config", str(config), "--discover"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    committed = (ROOT / "catalog" / f"{api}.json").read_text()
    assert catalogs.render(json.loads(out.stdout)) == committed, "refresh with: make catalogs"


def test_replace_disposition_retires_vanished_rows(
    meltano_ready: Path, postgres_url: str, pg: Any, schema: str, tmp_path: Path
) -> None:
    """write_disposition `replace`: the tap sends ACTIVATE_VERSION, so rows the API stopped serving
    are marked `_sdc_deleted_at`, or deleted when the target has hard_delete."""
    target = {"sqlalchemy_url": postgres_url, "default_target_schema": schema}
    replace = {"resource_defaults": {"write_disposition": "replace"}, "resources": ["agents"]}

    def counts() -> tuple[int, int]:
        query = f'select count(*), count(_sdc_deleted_at) from "{schema}".agents'
        rows, deleted = pg.execute(query).fetchone()
        return rows, deleted

    with SandboxServer(records=30) as own:  # its own server: the shared one's data stays intact
        pipe(catalogs.deep_merge(tap_config("helpdesk", own), replace), target, tmp_path)
        own.set_records({"helpdesk/agents": 20})  # ten agents vanish from the API
        pipe(catalogs.deep_merge(tap_config("helpdesk", own), replace), target, tmp_path)
        assert counts() == (30, 10)
        hard = {**target, "hard_delete": True}
        pipe(catalogs.deep_merge(tap_config("helpdesk", own), replace), hard, tmp_path)
        assert counts() == (20, 0)

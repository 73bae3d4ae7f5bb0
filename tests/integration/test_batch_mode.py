"""BATCH mode against the sandbox: the same records as RECORD mode, the fast writer when records
go out as they are, the SDK's batcher when a stream map shapes them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox import SandboxServer

from .helpers import config_for, run_tap


def batch_config(root: Path) -> dict[str, Any]:
    return {"encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": root.as_uri()}, "batch_size": 40}


def batched(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                with gzip.open(urlsplit(url).path, "rt") as handle:
                    out.setdefault(message["stream"], []).extend(json.loads(line) for line in handle)
    return out


@pytest.mark.sandbox(records=130)
@pytest.mark.parametrize("api", ["timetracking", "devplatform"])
def test_batch_files_hold_exactly_the_records_of_a_record_mode_run(
    sandbox: SandboxServer, tmp_path: Path, api: str
) -> None:
    records = run_tap(config_for(sandbox, api))
    batch = run_tap({**config_for(sandbox, api), "batch_config": batch_config(tmp_path)})
    files = batched(batch.messages)
    assert set(files) == records.streams
    for stream in records.streams:
        assert files[stream] == records.records(stream)
    # 130 records in files of 40: 4 files a stream. Once records flow, a STATE comes only
    # right after a BATCH message (none when nothing new was checkpointed since the last).
    kinds = [m["type"] for m in batch.messages]
    first = kinds.index("BATCH")
    assert kinds.count("BATCH") == 4 * len(records.streams)
    assert all(kinds[i - 1] == "BATCH" for i in range(first, len(kinds)) if kinds[i] == "STATE")


@pytest.mark.sandbox(records=50)
def test_a_stream_map_in_batch_mode_uses_the_sdks_batcher(sandbox: SandboxServer, tmp_path: Path) -> None:
    config = {**config_for(sandbox, "timetracking"), "batch_config": batch_config(tmp_path),
              "stream_maps": {"clients": {"name": "__NULL__"}}}
    result = run_tap(config)
    clients = batched(result.messages)["clients"]
    assert len(clients) == 50
    assert all("name" in record for record in clients)  # the SDK batcher writes raw records

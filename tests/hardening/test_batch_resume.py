"""BATCH mode is lossless: no STATE claims a record that no BATCH message before it delivered.

With `batch_config`, records travel in jsonl.gz files named by BATCH messages. A target may
persist a STATE as soon as it has processed the messages before it, so a run stopped right
after any STATE and resumed from it must, together with what was delivered before that
STATE, hold every record of every stream.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox import SandboxServer
from tests.integration.helpers import run_tap
from tests.integration.seeds import STREAMS

from .helpers import ground_truth, small_config

RECORDS = 45
PAGE = 10
BATCH_SIZE = 25  # not a multiple of the page: batch boundaries fall inside pages too


def batch_config(root: Path) -> dict[str, Any]:
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": root.as_uri(), "prefix": "batch-"},
        "batch_size": BATCH_SIZE,
    }


def batch_records(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of the files a BATCH message names."""
    records = []
    for url in message["manifest"]:
        with gzip.open(urlsplit(url).path, "rt") as handle:
            records += [json.loads(line) for line in handle if line.strip()]
    return records


def delivered_before(messages: list[dict[str, Any]], stop: int) -> dict[str, set[str]]:
    """stream -> ids delivered by the RECORD and BATCH messages before index `stop`."""
    out: dict[str, set[str]] = {}
    for message in messages[:stop]:
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], set()).add(str(message["record"]["id"]))
        elif message["type"] == "BATCH":
            ids = {str(r["id"]) for r in batch_records(message)}
            out.setdefault(message["stream"], set()).update(ids)
    return out


@pytest.mark.parametrize("api", ["timetracking", "devplatform"])
@pytest.mark.parametrize("concurrency", [1, 8])
def test_every_state_of_a_batch_sync_resumes_without_loss(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, api: str, concurrency: int
) -> None:
    sandbox = make_sandbox(records=RECORDS)
    config = small_config(sandbox, api, limit=PAGE, max_concurrent_requests=concurrency)
    config["batch_config"] = batch_config(tmp_path / "full")
    truth = {name: set(ids) for name, ids in ground_truth(sandbox, api).items()}
    full = run_tap(config)
    messages = full.messages
    assert full.of_type("BATCH"), "the sync ran in batch mode"
    assert not full.of_type("RECORD")

    states = [i for i, m in enumerate(messages) if m["type"] == "STATE"]
    seen: set[str] = set()
    checked = 0
    for index in states:
        value = messages[index]["value"]
        key = json.dumps(value, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        before = delivered_before(messages, index)
        resumed_config = {**config, "batch_config": batch_config(tmp_path / f"resume{index}")}
        resumed = run_tap(resumed_config, state=value)
        after = delivered_before(resumed.messages, len(resumed.messages))
        for name, _key, _, _ in STREAMS[api]:
            union = before.get(name, set()) | after.get(name, set())
            missing = truth[name] - union
            assert not missing, (
                f"{api}/{name}: resuming from STATE #{index} ({value}) lost {sorted(missing)[:5]}"
            )
        checked += 1
    assert checked >= 3, "a multi-page batch sync writes several distinct STATEs"

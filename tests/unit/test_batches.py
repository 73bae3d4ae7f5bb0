"""BATCH files: every record once, in order, in files rotated by count or size, readable by the SDK."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from singer_sdk.helpers._batch import BatchConfig

from tap_analytics.batches import supports, write_batches


def config(root: Path, *, compression: str = "gzip", batch_size: int = 10) -> BatchConfig:
    return BatchConfig.from_dict({
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "b-"},
        "batch_size": batch_size,
    })


def read(url: str) -> list[dict[str, Any]]:
    path = urlsplit(url).path
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as handle:  # type: ignore[operator]
        return [json.loads(line) for line in handle]


RECORDS = [{"id": str(i), "n": Decimal("1.5") * i, "nested": {"k": [i, None]}} for i in range(25)]


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_files_hold_every_record_once_in_order(tmp_path: Path, compression: str) -> None:
    manifests = list(write_batches(RECORDS, config(tmp_path, compression=compression),
                                   tap_name="tap-analytics", stream_name="things"))
    assert [len(m) for m in manifests] == [1, 1, 1]
    records = [r for m in manifests for r in read(m[0])]
    assert [r["id"] for r in records] == [str(i) for i in range(25)]
    assert records[3]["n"] == 4.5  # decimals as JSON numbers, as the SDK writes them
    assert all(Path(urlsplit(m[0]).path).name.startswith("b-tap-analytics--things-") for m in manifests)


def test_a_file_is_named_only_once_it_is_closed(tmp_path: Path) -> None:
    seen: list[int] = []

    def records() -> Any:
        for i, record in enumerate(RECORDS):
            seen.append(i)
            yield record

    batches = write_batches(records(), config(tmp_path), tap_name="t", stream_name="s")
    first = next(batches)
    assert len(seen) == 10  # the 10th record closed the first file; the 11th was not read yet
    assert [r["id"] for r in read(first[0])] == [str(i) for i in range(10)]


def test_files_rotate_by_size_too(tmp_path: Path) -> None:
    big = [{"id": str(i), "text": "x" * 4000} for i in range(600)]  # ~2.4 MB
    manifests = list(write_batches(big, config(tmp_path, batch_size=10_000),
                                   tap_name="t", stream_name="s", max_megabytes=1))
    assert len(manifests) == 3
    assert sum(len(read(m[0])) for m in manifests) == 600


def test_a_failure_mid_file_names_no_file(tmp_path: Path) -> None:
    def records() -> Any:
        yield from RECORDS[:15]
        raise RuntimeError("the API broke")

    out: list[list[str]] = []
    with pytest.raises(RuntimeError):
        out.extend(write_batches(records(), config(tmp_path), tap_name="t", stream_name="s"))
    assert len(out) == 1  # the full first file; the half-written second one is in no manifest


def test_only_jsonl_gzip_or_plain_is_written_here(tmp_path: Path) -> None:
    assert supports(config(tmp_path))
    assert supports(config(tmp_path, compression="none"))
    parquet = BatchConfig.from_dict(
        {"encoding": {"format": "parquet"}, "storage": {"root": tmp_path.as_uri()}}
    )
    assert not supports(parquet)

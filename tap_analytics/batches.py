"""BATCH files written fast: each record encoded once (msgspec) into a jsonl file, gzip at a
fast level, a new file every `batch_size` records or `batch_file_max_megabytes`.

The SDK's own JSONL batcher serializes each record with the standard library and gzips
at level 9; for a SQL target the files are the fast path, so their cost counts. The file
names, the storage (fsspec through the SDK's `StorageTarget`) and the manifest are the
SDK's conventions, so any SDK target reads them; the tap never deletes a file it handed
to a target (the target, or whoever runs it, does that once it has loaded them).
"""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterable, Iterator
from typing import IO, Any
from uuid import uuid4

from singer_sdk.contrib.msgspec import encoder
from singer_sdk.helpers._batch import BatchConfig

#: Compression level of gzip batch files: level 1 is several times faster than the
#: default 9 and the files are transient.
GZIP_LEVEL = 1
DEFAULT_MAX_MEGABYTES = 100
#: Encoded records are written to the file in chunks of this size.
CHUNK_BYTES = 1024 * 1024


def supports(config: BatchConfig) -> bool:
    """Whether this writer can produce the configured encoding (else the SDK's batcher does)."""
    compression = (config.encoding.compression or "none").lower()
    return config.encoding.format == "jsonl" and compression in {"gzip", "none"}


def write_batches(
    records: Iterable[dict[str, Any]],
    config: BatchConfig,
    *,
    tap_name: str,
    stream_name: str,
    max_megabytes: float = DEFAULT_MAX_MEGABYTES,
) -> Iterator[list[str]]:
    """The manifest (one file URL) of each batch file written from `records`, as soon as
    the file is closed -- so the caller's BATCH message, and the STATE after it, never
    name a record that is not in a closed file."""
    sync_id = f"{tap_name}--{stream_name}-{uuid4()}"
    max_records = max(1, int(config.batch_size))
    max_bytes = max(1, int(max_megabytes * 1024 * 1024))
    current: _BatchFile | None = None
    number = 0
    try:
        for record in records:
            if current is None:
                number += 1
                current = _BatchFile(config, f"{sync_id}-{number}")
            current.add(encoder.encode(record))
            if current.records >= max_records or current.size >= max_bytes:
                closed, current = current.close(), None
                yield [closed]
        if current is not None:
            closed, current = current.close(), None
            yield [closed]
    finally:
        if current is not None:  # a failure mid-file: close it, name it in no message
            current.close()


class _BatchFile:
    """One batch file being written: records buffered, written in large chunks."""

    def __init__(self, config: BatchConfig, stem: str) -> None:
        self.storage = config.storage
        compressed = (config.encoding.compression or "none").lower() == "gzip"
        self.filename = f"{self.storage.prefix or ''}{stem}{'.json.gz' if compressed else '.json'}"
        self.files = contextlib.ExitStack()
        raw: IO[bytes] = self.files.enter_context(self.storage.open(self.filename, "wb"))
        self.out: IO[bytes] | gzip.GzipFile = raw
        if compressed:
            self.out = self.files.enter_context(
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL)
            )
        self.buffer = bytearray()
        self.records = 0
        self.size = 0

    def add(self, line: bytes) -> None:
        self.buffer += line
        self.buffer += b"\n"
        self.records += 1
        self.size += len(line) + 1
        if len(self.buffer) >= CHUNK_BYTES:
            self.out.write(self.buffer)
            self.buffer.clear()

    def close(self) -> str:
        """Write what is left, close the file and return its URL."""
        with self.files:
            self.out.write(self.buffer)
            self.buffer.clear()
        return str(self.storage.get_url(self.filename))

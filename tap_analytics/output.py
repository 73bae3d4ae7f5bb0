"""Singer output: msgspec encoding, RECORD lines from a head and tail built once, chunked writes."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder, serialize_jsonl
from singer_sdk.mapper import SameRecordTransform, StreamMap
from singer_sdk.singerlib import RecordMessage, StateMessage
from singer_sdk.singerlib.encoding.simple import Message

#: Pending output is written once it reaches this size (and at every non-RECORD message).
CHUNK_BYTES = 64 * 1024


class SingerOutput(MsgSpecWriter):
    """The SDK's msgspec writer, without a write and a flush (two syscalls, whatever
    PYTHONUNBUFFERED says) for every RECORD.

    Records collect in a buffer written out at `CHUNK_BYTES` and before every STATE or
    SCHEMA message, so a target never sees a STATE before the records it covers, and a
    killed tap loses only records that no emitted STATE vouched for. A stream flushes it
    when its sync ends, failed or not (`AnalyticsStream._sync_records`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()
        #: True while bytes are on their way to stdout (a write or flush may block on
        #: a slow target): a signal handler arriving then must not write (see `mid_write`).
        self._writing = False

    @property
    def mid_write(self) -> bool:
        """Whether a write to stdout was interrupted: then part of a line may be out, and
        anything written now would corrupt it."""
        return self._writing

    def serialize_message(self, message: Message) -> bytearray:
        # A STATE goes out before every page: the generic `to_dict` (dataclasses.asdict)
        # deep-copies the whole state for it. Same JSON, without the copy.
        if isinstance(message, StateMessage):
            return serialize_jsonl({"type": "STATE", "value": message.value})
        return super().serialize_message(message)

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if not isinstance(message, RecordMessage):
            self.flush()
        elif len(self._pending) >= CHUNK_BYTES:
            self._write_pending()

    def write_record(self, head: bytes, record: dict[str, Any], tail: bytes) -> None:
        """Append one RECORD line, `head` + the record as JSON + `tail`: the stream's
        fast path, which builds the constant parts of its lines once (see
        `AnalyticsStream._write_record_message`).

        The line is appended whole, in one step: a signal handler (SIGTERM writes the
        last STATE) runs between two steps, and must never find half a record."""
        pending = self._pending
        pending += b"".join((head, encoder.encode(record), tail))
        if len(pending) >= CHUNK_BYTES:
            self._write_pending()

    def flush(self) -> None:
        self._write_pending()
        self._writing = True
        try:
            sys.stdout.flush()
        finally:
            self._writing = False

    def _write_pending(self) -> None:
        if not self._pending:
            return
        stream = sys.stdout
        binary = getattr(stream, "buffer", None)
        self._writing = True
        try:
            if binary is not None:
                binary.write(self._pending)
            else:  # an in-memory text stream (tests)
                stream.write(self._pending.decode())
        finally:
            self._writing = False
        self._pending.clear()


# --- direct RECORD encoding: a record line is head + the record + tail ---------------


def record_line_head(name: str, maps: list[StreamMap], *, all_selected: bool) -> bytes | None:
    """The start of every RECORD line of stream `name` when its records go out as they
    are; None when the SDK must shape them (stream maps, flattening, deselected fields)."""
    plain = (
        len(maps) == 1
        and type(maps[0]) is SameRecordTransform
        and not maps[0].flattening_enabled
        and maps[0].stream_alias == name
        and all_selected
    )
    if not plain:
        return None
    return b'{"type":"RECORD","stream":' + encoder.encode(name) + b',"record":'


def record_line_tail(extracted: datetime, version: int | None) -> bytes:
    """The end of every RECORD line of one page: its version and time_extracted."""
    prefix = b"" if version is None else b',"version":%d' % version
    return prefix + b',"time_extracted":' + encoder.encode(extracted) + b"}\n"

"""Singer output: msgspec encoding, flushed per message that matters, not per record."""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.simple import Message


class SingerOutput(MsgSpecWriter):
    """The SDK's msgspec writer, without a flush (a syscall) after every RECORD.

    Records are flushed no later than the next STATE or SCHEMA message, so a target
    never sees a STATE before the records it covers, and a killed tap loses only
    records that no emitted STATE vouched for.
    """

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        stream = sys.stdout
        binary = getattr(stream, "buffer", None)
        if binary is not None:
            binary.write(line)
        else:  # an in-memory text stream (tests)
            stream.write(line.decode())
        if not isinstance(message, RecordMessage):
            stream.flush()

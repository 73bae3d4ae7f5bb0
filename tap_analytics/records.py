"""The record path: each record shaped to its schema, its bookmark tracked by instant.

`RecordShaper.shape` is the stream's `post_process`: it checks the primary key, drops
fields the schema does not declare, converts values only where nothing is lost (a
number into a string field, a numeric string into a number field), keeps only records
whose replication value (a field, or a nested path) is in the sync's range -- its start
inclusive by default, as Singer taps and dlt's closed range are: a row changed within the
bookmark's second is never lost; the target's merge drops the repeat; its end exclusive
-- and remembers the latest replication value it let through, which becomes the
bookmark, never the clock. It runs once per record, so it does the least that keeps
every record valid for its target.
"""

from __future__ import annotations

import decimal
import logging
from collections.abc import Generator, Iterable, Iterator, Mapping
from functools import cached_property
from typing import Any, cast

from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
from singer_sdk.streams import Stream

from tap_analytics import batches
from tap_analytics.config import IncrementalSpec
from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.instants import NUMBER, cursor_order
from tap_analytics.output import SingerOutput, record_line_head
from tap_analytics.selectors import MISSING, select
from tap_analytics.windows import CursorRange

_MISSING = object()

#: How many fitting record shapes a stream remembers (an API with more is checked in full).
MAX_FITTING_SHAPES = 1024

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, decimal.Decimal, float),
    "boolean": (bool,), "object": (dict,), "array": (list,), "null": (type(None),),
}


class RecordShaper:
    """Makes one stream's records fit its schema and tracks the latest cursor value."""

    def __init__(
        self,
        *,
        name: str,
        schema: Mapping[str, Any],
        primary_key: tuple[str, ...],
        replication_key: str | None,
        url: str,
        logger: logging.Logger,
        incremental: IncrementalSpec | None = None,
    ) -> None:
        self.name = name
        self.schema = schema
        self.primary_key = primary_key
        self.replication_key = replication_key
        self.url = url
        self.logger = logger
        #: The cursor's keys when it is nested (`meta.updated_at`); None: a top-level field.
        self.cursor_parts = (
            incremental.cursor_parts if incremental and len(incremental.cursor_parts) > 1 else None
        )
        self.on_missing = incremental.on_cursor_value_missing if incremental else "raise"
        self.row_order = incremental.row_order if incremental else None
        #: Records whose replication value sorts before this are dropped (None: keep all),
        #: and those equal to it too when `start_open`.
        self.start_order: Any = None
        self.start_open = False
        #: Records whose replication value sorts after this are dropped (None: keep all),
        #: and those equal to it too unless `end_closed`.
        self.end_order: Any = None
        self.end_closed = False
        #: Set once a record lies beyond the range in the API's declared `row_order`:
        #: every later record would too, so the walk may stop (dlt closes its pipe there).
        self.out_of_range = False
        #: The latest replication value emitted so far, with its sort key.
        self.latest: tuple[tuple[int, Any], Any] | None = None
        self._reported_unknown: set[str] = set()
        #: For records with these fields, the ones the schema does not declare.
        self._unknown_by_fields: dict[tuple[str, ...], tuple[str, ...]] = {}
        #: Record shapes (field names, value types) known to fit the schema as they are.
        self._fitting: set[tuple[tuple[str, ...], tuple[type, ...]]] = set()

    def take_range(self, span: CursorRange) -> None:
        """Let through only records whose replication value is in `span` from now on."""
        self.start_order = None if span.start is None else cursor_order(span.start)
        self.end_order = None if span.end is None else cursor_order(span.end)
        self.start_open, self.end_closed = span.start_open, span.end_closed
        self.out_of_range = False

    def cursor_value(self, row: Mapping[str, Any]) -> Any:
        """The record's replication value (None when it has none)."""
        parts = self.cursor_parts
        if parts is None:
            return row.get(self.replication_key or "")
        value = select(row, parts)
        return None if value is MISSING else value

    def shape(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """The record as its target must see it, or None when it is older than the start."""
        for key in self.primary_key:
            if row.get(key) is None:
                msg = (
                    f"stream {self.name}: a record from {redact_url(self.url)} has no "
                    f"{key!r} (its primary key); set primary_key to a field every record has"
                )
                raise TapAnalyticsError(msg)
        self._drop_unknown_fields(row)
        self._conform(row)
        cursor = self.replication_key
        if cursor:
            value = row.get(cursor) if self.cursor_parts is None else self.cursor_value(row)
            if value is None:
                return self._without_cursor(row, cursor)
            try:
                order = cursor_order(value)
            except ValueError:
                msg = (
                    f"stream {self.name}: record {self.describe(row)} has an unreadable "
                    f"{cursor!r} value {str(value)[:40]!r}; the replication key must be a "
                    "date-time or a number"
                )
                raise TapAnalyticsError(msg) from None
            start = self.start_order
            # Inclusive by default: a record at the bookmark stays (the target's merge drops it).
            if start is not None and (order < start or (self.start_open and order == start)):
                self.out_of_range = self.out_of_range or self.row_order == "desc"
                return None
            end = self.end_order
            if end is not None and (order > end or (order == end and not self.end_closed)):
                self.out_of_range = self.out_of_range or self.row_order == "asc"
                return None
            latest = self.latest
            if latest is None or order > latest[0]:
                self.latest = (order, value)
        return row

    def _without_cursor(self, row: dict[str, Any], cursor: str) -> dict[str, Any] | None:
        """dlt's `on_cursor_value_missing`: `include` emits the record (the bookmark does
        not move for it), `exclude` drops it, `raise` (the default) stops the sync."""
        if self.on_missing == "include":
            return row
        if self.on_missing == "exclude":
            return None
        msg = (
            f"stream {self.name}: record {self.describe(row)} from "
            f"{redact_url(self.url)} has no {cursor!r} (its replication key); set "
            "endpoint.incremental.cursor_path to a field every record has, set "
            "on_cursor_value_missing to include or exclude such records, or remove incremental"
        )
        raise TapAnalyticsError(msg)

    def describe(self, row: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={row.get(k)!r}" for k in self.primary_key)

    # --- conformance ---------------------------------------------------------------

    @cached_property
    def _field_types(self) -> dict[str, frozenset[type]]:
        """For each typed field, the Python types a decoded JSON value may have."""
        fields: dict[str, frozenset[type]] = {}
        for name, prop in self.schema.get("properties", {}).items():
            allowed = _python_types(prop)
            if allowed is not None:
                fields[name] = allowed
        return fields

    @cached_property
    def _item_types(self) -> dict[str, frozenset[type]]:
        """For each array field whose items are typed, the types an item may have."""
        items: dict[str, frozenset[type]] = {}
        for name, prop in self.schema.get("properties", {}).items():
            item_schema = prop.get("items")
            if "array" in _types(prop) and isinstance(item_schema, Mapping):
                allowed = _python_types(item_schema)
                if allowed is not None:
                    items[name] = allowed
        return items

    def _conform(self, row: dict[str, Any]) -> None:
        """Make each value fit its declared type, converting only where nothing is lost,
        and fail clearly otherwise: a target must never receive a record its schema refuses.

        Records of one API mostly share their fields and value types: a shape (field names
        with their value types) found to fit once fits again, and is not checked field by
        field (unless array items are typed: their values are checked every time)."""
        items_typed = self._item_types
        if not items_typed:
            shape = (tuple(row), tuple(map(type, row.values())))
            if shape in self._fitting:
                return
        fields = self._field_types
        fits = True
        for name, value in row.items():
            allowed = fields.get(name)
            if allowed is None or type(value) in allowed:
                continue
            fits = False
            row[name] = self._converted(row, name, value, allowed, self.schema["properties"][name])
        if not items_typed:
            if fits and len(self._fitting) < MAX_FITTING_SHAPES:
                self._fitting.add(shape)
            return
        for name, item_allowed in items_typed.items():
            items = row.get(name)
            if type(items) is not list:
                continue
            for index, item in enumerate(items):
                if type(item) not in item_allowed:
                    items[index] = self._converted(
                        row, f"{name}[{index}]", item, item_allowed,
                        self.schema["properties"][name]["items"],
                    )

    def _converted(
        self,
        row: Mapping[str, Any],
        name: str,
        value: Any,
        allowed: frozenset[type],
        prop: Mapping[str, Any],
    ) -> Any:
        converted = _convert(value, allowed)
        if converted is _MISSING:
            wanted = "/".join(sorted(_types(prop)))
            msg = (
                f"stream {self.name}: record {self.describe(row)} from "
                f"{redact_url(self.url)} has {name}={str(value)[:40]!r} "
                f"({type(value).__name__}), but the schema says {wanted}; declare the "
                "field's real type in the resource's schema"
            )
            raise TapAnalyticsError(msg)
        return converted

    @cached_property
    def _known_fields(self) -> frozenset[str] | None:
        """The schema's fields, or None when the schema admits any field."""
        if self.schema.get("additionalProperties") not in (None, False):
            return None
        return frozenset(self.schema.get("properties", {}))

    def _drop_unknown_fields(self, row: dict[str, Any]) -> None:
        known = self._known_fields
        if known is None or known.issuperset(row):
            return
        names = tuple(row)
        unknown = self._unknown_by_fields.get(names)
        if unknown is None:
            unknown = tuple(name for name in names if name not in known)
            self._report_unknown(unknown)
            if len(self._unknown_by_fields) < MAX_FITTING_SHAPES:
                self._unknown_by_fields[names] = unknown
        for name in unknown:
            del row[name]

    def _report_unknown(self, unknown: tuple[str, ...]) -> None:
        new = set(unknown) - self._reported_unknown
        if new:
            self._reported_unknown |= new
            self.logger.warning(
                "%s: dropping fields the schema does not declare: %s (add them to the "
                "resource's schema to keep them)",
                self.name, ", ".join(sorted(new)),
            )


class RecordPath(Stream):
    """The stream's SDK hooks of the record path, mixed into the base stream: shaping
    (`post_process`), bookmarks without a clock signpost, direct RECORD output, and STATE
    that in BATCH mode waits for the BATCH message delivering its records."""

    shaper: RecordShaper
    #: The end of every RECORD line of the current page (its time_extracted).
    _record_tail: bytes = b""
    #: In BATCH mode, records sit in a batch file until its BATCH message is written, so a
    #: STATE (a page checkpoint, a bookmark) may go out only right after a BATCH message.
    _batching: bool = False
    _state_delivered: bool = False

    def _sync_batches(self, batch_config: BatchConfig, context: Mapping[str, Any] | None = None) -> None:
        """The SDK's batch loop, with STATE only after each BATCH message and once at the
        end (the SDK's loop also lets the page checkpoints out before their BATCH)."""
        self._batching = True
        try:
            with self.get_batch_counter() as counter:
                for encoding, manifest in self.get_batches(batch_config, context):
                    counter.increment()
                    self._write_batch_message(encoding=encoding, manifest=manifest)
                    self._write_delivered_state()
            self._write_delivered_state()  # the stream's final STATE, after its last batch
        finally:
            self._batching = False

    def get_batches(
        self, batch_config: BatchConfig, context: Mapping[str, Any] | None = None
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """The tap's fast batch files (`batches.py`) when records go out as they are; the
        SDK's batcher when stream maps, flattening or deselected fields shape them."""
        plain = record_line_head(self.name, self.stream_maps, all_selected=all(self.mask.values()))
        if plain is None or not batches.supports(batch_config):
            yield from super().get_batches(batch_config, context)
            return
        records = self._sync_records(context, write_messages=False)
        for manifest in batches.write_batches(
            records,
            batch_config,
            tap_name=self.tap_name,
            stream_name=self.name,
            max_megabytes=float(
                self.config.get("batch_file_max_megabytes") or batches.DEFAULT_MAX_MEGABYTES
            ),
        ):
            yield batch_config.encoding, manifest

    def _write_delivered_state(self) -> None:
        self._state_delivered = True
        try:
            self._write_state_message()
        finally:
            self._state_delivered = False

    def _write_state_message(self) -> None:
        if self._batching and not self._state_delivered:
            return  # it stays pending (not flushed) until the next BATCH message is out
        super()._write_state_message()

    def get_replication_key_signpost(self, context: Mapping[str, Any] | None = None) -> None:
        """No signpost: the bookmark is the latest value emitted, by instant. The SDK's
        signpost (the tap's own clock at start) is compared with the records' values as
        strings, so an API rendering +05:30, or a clock skew between API and tap, turned
        the bookmark into a time no record had -- and later changes were skipped."""
        return None

    def post_process(
        self, row: dict[str, Any], context: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        return self.shaper.shape(row)

    @cached_property
    def _direct_output(self) -> tuple[SingerOutput, bytes] | None:
        """The writer and the start of every RECORD line of this stream, when records
        go out as they are; None when the SDK must shape them."""
        writer = self._tap.message_writer
        if not isinstance(writer, SingerOutput):
            return None
        head = record_line_head(self.name, self.stream_maps, all_selected=all(self.mask.values()))
        return None if head is None else (writer, head)

    def _sync_records(
        self, context: Mapping[str, Any] | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """The record loop (the SDK's, or `_plain_records` when nothing it does per record
        applies); records read before a failure still reach the target (the writer
        buffers them, see `SingerOutput`)."""
        try:
            if self._plain_loop_applies(context):
                yield from self._plain_records(write_messages=write_messages)
            else:
                yield from super()._sync_records(context, write_messages=write_messages)
        finally:
            writer = self._tap.message_writer
            if isinstance(writer, SingerOutput):
                writer.flush()

    def _plain_loop_applies(self, context: Mapping[str, Any] | None) -> bool:
        return (
            context is None and self.partitions is None and not self.child_streams
            and self.ABORT_AT_RECORD_COUNT is None
        )

    def _plain_records(self, *, write_messages: bool) -> Generator[dict[str, Any], Any, Any]:
        """The SDK's loop for one stream without partitions, SDK children or a record
        limit, less its per-record calls that do nothing here (`_process_record`,
        `_increment_stream_state`: bookmarks move per page) and with its record counter
        moved once per thousand records. The same messages, in the same order."""
        shape, selected = self.post_process, self.selected
        direct = self._direct_output if write_messages else None
        frequency, pending, emitted = self.STATE_MSG_FREQUENCY, 0, 0
        counter, timer = self.get_record_counter(), self.get_sync_timer()
        with counter, timer:
            counter.with_context({})
            timer.with_context({})
            self._write_starting_replication_value(None)
            # The base stream yields records, never the deprecated (record, context) pairs.
            for row in cast("Iterable[dict[str, Any]]", self.get_records(None)):
                record = shape(row, None)
                if record is None or not selected:
                    continue
                if direct is not None:
                    direct[0].write_record(direct[1], record, self._record_tail)
                elif write_messages:
                    self._write_record_message(record)
                emitted += 1
                pending += 1
                if pending == 1000:
                    counter.increment(pending)
                    pending = 0
                if write_messages and emitted % frequency == 0:
                    self._write_state_message()
                yield record
            counter.increment(pending)
            self._finalize_state(self.stream_state)
        if write_messages:
            self._write_state_message()

    def _write_record_message(self, record: dict[str, Any]) -> None:
        direct = self._direct_output
        if direct is None:
            super()._write_record_message(record)
            return
        writer, head = direct
        writer.write_record(head, record, self._record_tail)

    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> None:
        """Per page instead, in `_advance_bookmark`: the shaper tracks the latest value
        of the records it lets through."""

    def _process_record(
        self,
        record: dict[str, Any],
        child_context: Mapping[str, Any] | None = None,
        partition_context: Mapping[str, Any] | None = None,
    ) -> None:
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)


# --- value conversion ----------------------------------------------------------------


def _convert(value: Any, allowed: frozenset[type]) -> Any:
    """`value` as one of the `allowed` types without loss, else `_MISSING`."""
    if isinstance(value, bool):
        return _MISSING
    if isinstance(value, int | float | decimal.Decimal) and str in allowed:
        return str(value)
    if isinstance(value, float | decimal.Decimal) and int in allowed and value == int(value):
        return int(value)
    if isinstance(value, str) and (decimal.Decimal in allowed or int in allowed):
        if value.strip() == "" and type(None) in allowed:
            return None
        if NUMBER.match(value):
            number = decimal.Decimal(value)
            if decimal.Decimal in allowed:
                return number
            if number == int(number):
                return int(number)
    if value == "" and type(None) in allowed:
        return None
    return _MISSING


def _python_types(prop: Mapping[str, Any]) -> frozenset[type] | None:
    """The Python types a decoded JSON value of schema `prop` may have; None when the
    schema does not pin them down (no type, or a type this check does not know)."""
    kinds = _types(prop)
    if not kinds or not all(k in _JSON_TYPES for k in kinds):
        return None
    return frozenset(t for k in kinds for t in _JSON_TYPES[k])


def _types(prop: Mapping[str, Any]) -> list[str]:
    kind = prop.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)

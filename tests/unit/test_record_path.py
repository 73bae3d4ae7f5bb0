"""The lean record path: direct RECORD encoding, buffered output, per-page bookmarks.

Its promise is the SDK's output, byte for byte in content, at a fraction of the cost;
these tests compare it with the SDK's own path on the same sync."""

from __future__ import annotations

import copy
import json
import os
import signal
from typing import Any

import pytest

from tap_analytics.client import AnalyticsStream
from tap_analytics.dedupe import RecentKeys
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.output import SingerOutput

from .conftest import BASE_URL, make_tap, offset_server

THINGS_URL = f"{BASE_URL}/v1/things"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "amount": {"type": ["number", "null"]},
        "meta": {"type": ["object", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def cfg(**top: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": BASE_URL, "auth": {"type": "bearer", "token": "bt-record-path-1"}},
        "resources": [{
            "name": "things",
            "endpoint": {"path": "/v1/things", "paginator": {"type": "offset", "limit": 3},
                         "incremental": {"cursor_path": "updated_at"}},
            "schema": SCHEMA,
        }],
        **top,
    }


ROWS = [
    {"id": str(i), "amount": 1.25 * i, "meta": {"n": i, "tags": ["a"]},
     "updated_at": f"2024-01-0{1 + i % 5}T00:00:00Z"}
    for i in range(10)
]


def messages(capsys: pytest.CaptureFixture[str], config: dict[str, Any],
             state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    make_tap(config, state).sync_all()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def comparable(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages without what differs between two runs (when they ran)."""
    kept = copy.deepcopy(output)
    for message in kept:
        message.pop("time_extracted", None)
        if message["type"] == "STATE":
            bookmark = message["value"].get("bookmarks", {}).get("things", {})
            bookmark.pop("replication_key_signpost", None)
            bookmark.get("progress_markers", {}).pop("Note", None)
    return kept


def test_direct_records_equal_the_sdks(requests_mock: Any, capsys: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    requests_mock.get(THINGS_URL, json=offset_server(ROWS))
    written: list[dict[str, Any]] = []
    direct = SingerOutput.write_record
    monkeypatch.setattr(SingerOutput, "write_record",
                        lambda self, head, record, tail: (written.append(record),
                                                          direct(self, head, record, tail)))
    fast = messages(capsys, cfg())
    assert len(written) == len(ROWS)  # the fast path ran

    monkeypatch.setattr(AnalyticsStream, "_direct_output", property(lambda self: None))
    written.clear()
    sdk = messages(capsys, cfg())
    assert written == []  # the SDK's path ran
    assert comparable(fast) == comparable(sdk)
    records = [m for m in fast if m["type"] == "RECORD"]
    assert [m["record"]["id"] for m in records] == [r["id"] for r in ROWS]
    assert records[1]["record"]["amount"] == 1.25  # a Decimal in, a JSON number out
    assert records[0]["time_extracted"].endswith("Z")


def test_replace_carries_the_stream_version(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json=offset_server(ROWS))
    config = cfg()
    config["resources"][0]["write_disposition"] = "replace"
    del config["resources"][0]["endpoint"]["incremental"]  # replace is a full-table sync
    output = messages(capsys, config)
    [activate, *_] = [m for m in output if m["type"] == "ACTIVATE_VERSION"]
    records = [m for m in output if m["type"] == "RECORD"]
    assert {m["version"] for m in records} == {activate["version"]}


@pytest.mark.parametrize(
    ("values", "latest"),
    [
        # as strings, "...00.5Z" < "...00Z"; in time it is half a second later
        (["2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00Z"], "2024-01-01T00:00:00.5Z"),
        # 09:00Z is later than 10:00+05:00 (05:00Z), though it sorts first as a string
        (["2024-01-01T10:00:00+05:00", "2024-01-01T09:00:00Z"], "2024-01-01T09:00:00Z"),
        ([5, 40, 7], 40),
    ],
)
def test_the_bookmark_is_the_latest_value_in_time(
    requests_mock: Any, capsys: Any, values: list[Any], latest: Any
) -> None:
    rows = [{"id": str(i), "updated_at": value} for i, value in enumerate(values)]
    requests_mock.get(THINGS_URL, json=offset_server(rows))
    config = cfg()
    if isinstance(latest, int):
        config["resources"][0]["schema"] = {
            "type": "object",
            "properties": {"id": {"type": ["string"]}, "updated_at": {"type": ["integer"]}},
        }
    output = messages(capsys, config)
    final = [m for m in output if m["type"] == "STATE"][-1]["value"]
    assert final["bookmarks"]["things"]["replication_key_value"] == latest


def test_the_bookmark_moves_page_by_page(requests_mock: Any, capsys: Any) -> None:
    """A checkpoint STATE before page n carries the latest value of pages 1..n-1."""
    requests_mock.get(THINGS_URL, json=offset_server(ROWS))
    states = [m["value"]["bookmarks"]["things"] for m in messages(capsys, cfg())
              if m["type"] == "STATE"]
    at_page = {s["paging"]["offset"]: s.get("progress_markers", {}).get("replication_key_value")
               for s in states if "offset" in s.get("paging", {})}
    assert at_page[0] is None
    assert at_page[3] == max(r["updated_at"] for r in ROWS[:3])
    assert at_page[9] == max(r["updated_at"] for r in ROWS[:9])


def test_records_read_before_a_failure_reach_the_output(requests_mock: Any, capsys: Any) -> None:
    rows = [{"id": "1", "updated_at": "2024-01-01T00:00:00Z"}, {"updated_at": "2024-01-02T00:00:00Z"}]
    requests_mock.get(THINGS_URL, json=offset_server(rows))
    with pytest.raises(TapAnalyticsError):
        make_tap(cfg()).sync_all()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [m["record"]["id"] for m in lines if m["type"] == "RECORD"] == ["1"]


def test_records_are_written_in_chunks_not_one_by_one(
    requests_mock: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"id": str(i), "updated_at": "2024-01-01T00:00:00Z"} for i in range(600)]
    requests_mock.get(THINGS_URL, json=offset_server(rows))
    config = cfg()
    config["resources"][0]["endpoint"]["paginator"]["limit"] = 600
    writes: list[int] = []
    original = SingerOutput._write_pending
    monkeypatch.setattr(SingerOutput, "_write_pending",
                        lambda self: (writes.append(len(self._pending)), original(self)))
    output = messages(capsys, config)
    assert sum(1 for m in output if m["type"] == "RECORD") == 600
    assert len([w for w in writes if w]) < 20  # 600 records, a few chunks and the STATEs


def test_recent_keys_forget_a_page_once_it_leaves_the_window() -> None:
    recent = RecentKeys(2)
    recent.add(["a", "b"])
    recent.add(["c"])
    recent.add(["b"])  # b seen again: it stays while this page is in the window
    assert "a" not in recent.seen
    assert "b" in recent.seen
    assert "c" in recent.seen
    recent.add(["d"])
    assert "c" not in recent.seen
    assert "b" in recent.seen
    recent.add(["e"])
    assert "b" not in recent.seen
    assert len(recent.seen) == 2


def test_a_resumed_sync_keeps_the_interrupted_runs_latest_value(requests_mock: Any, capsys: Any) -> None:
    """The interrupted run emitted a record from 2024-01-09 before its last checkpoint;
    the pages left hold older ones. The bookmark must still end at 2024-01-09, or the
    next run would read those records again."""
    requests_mock.get(THINGS_URL, json=offset_server(ROWS))
    first = [m for m in messages(capsys, cfg()) if m["type"] == "STATE"]
    checkpoint = next(s["value"] for s in first
                      if s["value"]["bookmarks"]["things"].get("paging", {}).get("offset") == 6)
    paging = checkpoint["bookmarks"]["things"]["paging"]
    assert paging["replication_key_value"] == max(r["updated_at"] for r in ROWS[:6])

    paging["replication_key_value"] = "2024-01-09T00:00:00Z"  # later than anything left
    resumed = messages(capsys, cfg(), state=checkpoint)
    assert [m["record"]["id"] for m in resumed if m["type"] == "RECORD"] == ["6", "7", "8", "9"]
    final = [m for m in resumed if m["type"] == "STATE"][-1]["value"]["bookmarks"]["things"]
    assert final["replication_key_value"] == "2024-01-09T00:00:00Z"


@pytest.mark.parametrize("mid_write", [False, True], ids=["between-writes", "mid-write"])
def test_a_termination_signal_writes_the_state_only_between_writes(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, mid_write: bool
) -> None:
    """A SIGTERM that lands while a write to a slow target is blocked must write
    nothing more: part of a line may already be out, and a STATE after it would corrupt
    the stream. Between writes it emits the STATE reached, then exits non-zero."""
    tap = make_tap(cfg())
    writer = tap.message_writer
    assert isinstance(writer, SingerOutput)
    writer._writing = mid_write
    exits: list[int] = []

    def fake_exit(code: int) -> None:
        exits.append(code)

    monkeypatch.setattr(os, "_exit", fake_exit)
    tap._handle_termination(signal.SIGTERM, None)
    out = capsys.readouterr().out
    assert exits == [128 + signal.SIGTERM]
    assert ('"type":"STATE"' in out) is not mid_write


def test_a_termination_signal_in_batch_mode_writes_no_state(
    capsys: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """In BATCH mode the records read since the last BATCH message are in no file yet: the
    STATE reached would claim them, so the STATE after the last BATCH message stands."""
    config = cfg()
    config["batch_config"] = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path.as_uri()},
    }
    tap = make_tap(config)
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    tap._handle_termination(signal.SIGTERM, None)
    assert exits == [128 + signal.SIGTERM]
    assert '"type":"STATE"' not in capsys.readouterr().out


def test_mid_write_is_true_exactly_while_bytes_go_to_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = SingerOutput()
    seen: list[bool] = []

    class Binary:
        def write(self, data: bytes) -> int:
            seen.append(writer.mid_write)
            return len(data)

        def flush(self) -> None:
            seen.append(writer.mid_write)

    class Stdout:
        buffer = Binary()

        def flush(self) -> None:
            seen.append(writer.mid_write)

    monkeypatch.setattr("sys.stdout", Stdout())
    writer.write_record(b'{"type":"RECORD","stream":"s","record":', {"id": "1"}, b"}\n")
    assert not writer.mid_write
    writer.flush()
    assert seen == [True, True]
    assert not writer.mid_write

"""Resumable paging state: the `paging` and `window` entries of a stream's STATE, and its
bookmark marker.

While a stream syncs, its STATE names the page about to be read (its parameters) and the
latest replication value emitted before it, so a killed run resumes re-reading at most
one page, its bookmark still covering what the killed run emitted. A windowed sync also
names the window it is in once the windows before it are synced (`window.start`), so a
killed backfill resumes at its window, not from the start of the range. A stream finished by
an interrupted run is marked done, so the resumed run skips it; the marks go once every
selected stream is done. These functions only read and write the state dicts; the
stream decides when to emit a STATE message.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from tap_analytics.instants import cursor_order
from tap_analytics.paging import Paginator

#: Where a stream's STATE keeps the page an interrupted sync should resume at.
PAGING_STATE_KEY = "paging"
DONE_MARK = "done"
#: Beside the page's parameters: the latest replication value emitted before it.
RESUME_CURSOR_KEY = "replication_key_value"
#: Where a windowed sync keeps the window to resume at (`{"start": ..., replication_key_value}`).
WINDOW_STATE_KEY = "window"
WINDOW_START_KEY = "start"

#: Where the SDK keeps a bookmark until the stream completes (then it becomes the
#: stream's `replication_key_value`), and the note it carries.
PROGRESS_MARKERS = "progress_markers"
PROGRESS_NOTE = (
    "Becomes replication_key_value when the stream completes; an interrupted sync "
    "resumes from 'paging'."
)


class Resume(enum.Enum):
    """What an earlier, interrupted run left for this stream."""

    FRESH = "fresh"  # nothing: start at the first page
    RESUMED = "resumed"  # a checkpoint: continue at its page
    DONE = "done"  # the stream was complete: nothing left to sync


def resume(
    stream_state: Mapping[str, Any], paginator: Paginator, *, rerun_done: bool = False
) -> tuple[Resume, tuple[tuple[int, Any], Any] | None]:
    """Move `paginator` to the saved checkpoint, if any; also the latest replication
    value the interrupted run emitted (with its sort key), for the bookmark."""
    saved = stream_state.get(PAGING_STATE_KEY)
    if not isinstance(saved, Mapping):
        return Resume.FRESH, None
    if saved.get(DONE_MARK) and not rerun_done:
        return Resume.DONE, None
    if not paginator.restore(saved):
        return Resume.FRESH, None
    return Resume.RESUMED, saved_latest(saved)


def saved_latest(saved: Mapping[str, Any]) -> tuple[tuple[int, Any], Any] | None:
    """The latest replication value a checkpoint says was emitted before it, with its sort
    key; None when it names none (or one no cursor can be, in a hand-edited STATE)."""
    latest = saved.get(RESUME_CURSOR_KEY)
    if latest is not None:
        with contextlib.suppress(ValueError, TypeError):
            return cursor_order(latest), latest
    return None


def checkpoint(stream_state: dict[str, Any], params: Mapping[str, Any], latest: Any) -> None:
    """Record the page about to be read, and the latest value emitted before it."""
    value = dict(params)
    if latest is not None:
        value[RESUME_CURSOR_KEY] = latest
    stream_state[PAGING_STATE_KEY] = value


def window_position(stream_state: Mapping[str, Any]) -> tuple[Any, tuple[tuple[int, Any], Any] | None] | None:
    """Where an interrupted windowed sync resumes: the start of its window (every window
    before it was synced whole), and the latest replication value emitted before it."""
    saved = stream_state.get(WINDOW_STATE_KEY)
    if not isinstance(saved, Mapping) or saved.get(WINDOW_START_KEY) is None:
        return None
    return saved[WINDOW_START_KEY], saved_latest(saved)


def window_checkpoint(stream_state: dict[str, Any], start: Any, latest: Any) -> None:
    """Every window before the one starting at `start` is synced: a resumed run starts
    there, at its first page."""
    value: dict[str, Any] = {WINDOW_START_KEY: start}
    if latest is not None:
        value[RESUME_CURSOR_KEY] = latest
    stream_state[WINDOW_STATE_KEY] = value
    stream_state.pop(PAGING_STATE_KEY, None)


def mark_done(stream_state: dict[str, Any], selected: Iterable[dict[str, Any]]) -> None:
    """Mark this stream done; when every selected stream is, drop all the marks."""
    stream_state.pop(WINDOW_STATE_KEY, None)
    stream_state[PAGING_STATE_KEY] = {DONE_MARK: True}
    states = list(selected)
    if all(s.get(PAGING_STATE_KEY) == {DONE_MARK: True} for s in states):
        for state in states:
            state.pop(PAGING_STATE_KEY, None)


def progress_bookmark(stream_state: dict[str, Any], replication_key: str, value: Any) -> None:
    """Move the bookmark marker to `value`; it stays a progress marker until the stream
    completes, as in the SDK."""
    markers = stream_state.setdefault(PROGRESS_MARKERS, {"Note": PROGRESS_NOTE})
    markers["replication_key"] = replication_key
    markers["replication_key_value"] = value

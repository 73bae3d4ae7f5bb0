"""The seed APIs' resource store: a lazily generated, editable collection per resource.

A million-record resource costs nothing until a page of it is served: generated records are
computed from their index, only edits are stored, and filtered views are cached segments.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from .data import BASE_EPOCH, STEP, UPDATE_LAG, Record, ResourceSpec

Segment = list[Record] | range


def _parse_since(value: str) -> float:
    """Epoch seconds of an ISO-8601 timestamp (naive means UTC) or of a plain number."""
    v = value.strip()
    try:
        return float(v)
    except ValueError:
        pass
    dt = datetime.fromisoformat(v[:-1] + "+00:00" if v.endswith(("Z", "z")) else v)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


class _Collection:
    """Current contents of one resource.

    Generated records ``0..base_count-1`` are never stored; only edits are:
    ``overrides`` (updated generated records), ``head`` (records inserted at the
    start) and ``tail`` (appended records). Each stored item carries its cursor
    (epoch seconds of ``updated_at``/``timestamp``, possibly hidden) for
    ``since`` filtering.
    """

    def __init__(self, spec: ResourceSpec, count: int) -> None:
        self.spec = spec
        self.base_count = count
        self.head: list[tuple[Record, int]] = []
        self.tail: list[tuple[Record, int]] = []
        self.overrides: dict[int, tuple[Record, int]] = {}
        self.next_index = count  #: index (id - 1) the next new record gets
        self.revision = 0  #: number of mutate() calls, seeds their choices
        self._views: dict[float | None, list[Segment]] = {}

    def __len__(self) -> int:
        return len(self.head) + self.base_count + len(self.tail)

    def _base(self, i: int) -> Record:
        o = self.overrides.get(i)
        return o[0] if o is not None else self.spec.generate(i)

    def item_at(self, pos: int) -> tuple[Record, int]:
        h = len(self.head)
        if pos < h:
            return self.head[pos]
        i = pos - h
        if i < self.base_count:
            o = self.overrides.get(i)
            return o if o is not None else (self.spec.generate(i), self.spec.base_cursor(i))
        return self.tail[i - self.base_count]

    def set_at(self, pos: int, item: tuple[Record, int]) -> None:
        h = len(self.head)
        if pos < h:
            self.head[pos] = item
        elif pos - h < self.base_count:
            self.overrides[pos - h] = item
        else:
            self.tail[pos - h - self.base_count] = item
        self._views.clear()

    def add(self, items: list[tuple[Record, int]], at_head: bool) -> None:
        if at_head:
            self.head[:0] = items
        else:
            self.tail.extend(items)
        self._views.clear()

    def view(self, since: float | None) -> list[Segment]:
        """The (filtered) collection as segments, cached until the next edit."""
        v = self._views.get(since)
        if v is None:
            if len(self._views) > 256:
                self._views.clear()
            v = self._views[since] = self._build_view(since)
        return v

    def _build_view(self, since: float | None) -> list[Segment]:
        n = self.base_count
        if since is None:
            return [[r for r, _ in self.head], range(n), [r for r, _ in self.tail]]
        # Generated cursors grow with the index and edits only move cursors
        # forward, so below index k only overridden records can still match.
        lag = 0 if self.spec.cursor_is_created else UPDATE_LAG
        k = min(n, max(0, math.ceil((since - BASE_EPOCH - lag) / STEP)))
        low = [
            self.overrides[i][0] for i in sorted(self.overrides) if i < k and self.overrides[i][1] >= since
        ]
        return [
            [r for r, c in self.head if c >= since],
            low,
            range(k, n),
            [r for r, c in self.tail if c >= since],
        ]

    def page(self, start: int, count: int, since: float | None) -> tuple[list[Record], int]:
        """Records at positions ``start..start+count-1`` of the view, and the view's size."""
        segments = self.view(since)
        total = sum(len(s) for s in segments)
        out: list[Record] = []
        stop = start + count
        pos = 0
        for seg in segments:
            n = len(seg)
            if pos >= stop:
                break
            if pos + n > start:
                a, b = max(start - pos, 0), min(stop - pos, n)
                if isinstance(seg, range):
                    out.extend(self._base(i) for i in seg[a:b])
                else:
                    out.extend(seg[a:b])
            pos += n
        return out, total

    def all_records(self) -> list[Record]:
        return self.page(0, len(self), None)[0]

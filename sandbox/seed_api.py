"""The five seed APIs' data endpoints: routing, offset/page paging and record edits.

Each resource is a :class:`~sandbox.collection._Collection`; the record-count and edit methods
also accept the forum's keys (``forum/posts``, ``forum/users``) and hand them to its store, so
tests, the control endpoint and ``python -m sandbox`` have one way to size and edit any API.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Mapping, Sequence
from email.message import Message
from typing import Any

from .auth import AuthMixin
from .collection import _Collection, _parse_since
from .data import BASE_EPOCH, RESOURCE_KEYS, ROUTES, SPECS_BY_KEY, STEP, Record, ResourceSpec, iso
from .forum_data import COUNT_KEYS, POSTS_KEY, USERS_KEY, ForumStore
from .transport import _BadRequest, _json, _Response, int_param

DEFAULT_RECORDS = 250


class SeedApiMixin(AuthMixin):
    """Data serving and record edits of :class:`SandboxServer`'s seed APIs."""

    _collections: dict[str, _Collection]
    _clock: int
    _forum_store: ForumStore
    include_total: bool
    max_page_size: int | None
    ignore_paging: bool
    endless: bool
    start_param: str

    # ----------------------------------------------------------------- data
    def _data(
        self, api: str, rest: str, method: str, path: str, query: dict[str, str], headers: Message
    ) -> tuple[_Response, str | None]:
        denied = self._auth_error(api, headers)
        if denied is not None:
            return denied, None
        spec = ROUTES.get((api, rest))
        if spec is None:
            return _json(404, {"error": "not_found", "path": path}), None
        with self._counted(spec.key):
            return self._serve_data(spec, method, path, query), spec.key

    def _serve_data(self, spec: ResourceSpec, method: str, path: str, query: dict[str, str]) -> _Response:
        if method != "GET":
            return _json(405, {"error": "method_not_allowed"}, [("Allow", "GET")])
        return self._serve_faulted(path, lambda: self._page(spec, query))

    _int_param = staticmethod(int_param)

    def _page(self, spec: ResourceSpec, query: dict[str, str]) -> _Response:
        since_raw = query.get(self.start_param)
        try:
            since = _parse_since(since_raw) if since_raw else None
        except ValueError:
            raise _BadRequest(f"{self.start_param} must be an ISO-8601 timestamp") from None
        page_mode = spec.paging == "page"
        if page_mode:
            page = self._int_param(query, "page", 1, 1)
            size = self._int_param(query, "per_page", spec.default_limit, 1)
        else:
            offset = self._int_param(query, "offset", 0, 0)
            size = self._int_param(query, "limit", spec.default_limit, 1)
        if self.max_page_size is not None:
            size = min(size, max(1, int(self.max_page_size)))
        if self.ignore_paging:
            page, offset = 1, 0
        if page_mode:
            offset = (page - 1) * size
        with self._lock:
            col = self._collections[spec.key]
            recs, total = col.page(offset, size, since)
            if self.endless and len(recs) < size:
                first = max(offset, total)
                base = col.next_index - total
                recs = recs + [spec.generate(base + p) for p in range(first, offset + size)]
        body: dict[str, Any] = {"data": recs}
        if page_mode:
            body["page"] = page
            body["per_page"] = size
            if self.include_total:
                body["total"] = math.ceil(total / size)
        elif self.include_total:
            body["total"] = total
        return _json(200, body)

    # ----------------------------------------------------------- record counts
    def set_records(self, records: int | Mapping[str, int]) -> None:
        """Set record counts (int for all resources, or a key -> count mapping).

        Resources named (all of them for an int) are rebuilt: their earlier
        mutations are discarded so ids and timestamps stay consistent. An int
        leaves the forum alone; name ``forum/posts`` or ``forum/users`` to size it.
        """
        if isinstance(records, int):
            counts = dict.fromkeys(RESOURCE_KEYS, records)
        else:
            unknown = set(records) - set(RESOURCE_KEYS) - set(COUNT_KEYS)
            if unknown:
                known = (*RESOURCE_KEYS, *COUNT_KEYS)
                raise KeyError(f"unknown resource key(s) {sorted(unknown)}; known: {known}")
            counts = {k: records[k] for k in records if k not in COUNT_KEYS}
            if any(k in records for k in COUNT_KEYS):
                self._forum_store.reset(records.get(POSTS_KEY), records.get(USERS_KEY))
            for k in RESOURCE_KEYS:
                if k not in self._collections:
                    counts.setdefault(k, DEFAULT_RECORDS)
        with self._lock:
            for key, n in counts.items():
                if int(n) < 0:
                    raise ValueError(f"record count for {key} must be >= 0")
                self._collections[key] = _Collection(SPECS_BY_KEY[key], int(n))

    def records(self, resource_key: str) -> list[Record]:
        """Ground truth: the resource's current records, in serving order (deep copies)."""
        if resource_key == POSTS_KEY:
            return self._forum_store.records()
        if resource_key == USERS_KEY:
            return self._forum_store.users()
        with self._lock:
            return copy.deepcopy(self._collection(resource_key).all_records())

    def record_count(self, resource_key: str) -> int:
        if resource_key in COUNT_KEYS:
            return len(self.records(resource_key))
        with self._lock:
            return len(self._collection(resource_key))

    def _collection(self, resource_key: str) -> _Collection:
        try:
            return self._collections[resource_key]
        except KeyError:
            raise KeyError(f"unknown resource key {resource_key!r}; known: {RESOURCE_KEYS}") from None

    # -------------------------------------------------------------- mutations
    def _tick(self) -> int:
        """Advance the logical clock: strictly later than every timestamp served so far."""
        floor = BASE_EPOCH + (max((c.base_count for c in self._collections.values()), default=0) + 1) * STEP
        self._clock = max(self._clock + 1, floor)
        return self._clock

    def _new_record(self, col: _Collection) -> tuple[Record, int]:
        rec = col.spec.generate(col.next_index)
        col.next_index += 1
        t = self._tick()
        for f in (*col.spec.created_fields, *col.spec.cursor_fields):
            rec[f] = iso(t)
        return rec, t

    def mutate(
        self,
        resource_key: str,
        add: int = 0,
        update: int | Sequence[int] = 0,
        delete: int | Sequence[int] = 0,
    ) -> dict[str, Any]:
        """Update ``update`` existing records, then append ``add`` new ones.

        Updated records (chosen by a seeded RNG) get a changed business field
        and a cursor later than anything existing; new records get new ids and
        even later timestamps. Returns the affected ids. ``forum/posts`` also
        takes ``delete``, and lists of post ids for ``update``/``delete``
        (see :meth:`ForumStore.mutate`); its ids are ints.
        """
        if resource_key == POSTS_KEY:
            return self._forum_store.mutate(int(add), _ids_or_count(update), _ids_or_count(delete))
        if not isinstance(update, int) or delete:
            raise ValueError(f"{resource_key}: update takes a count, delete is for {POSTS_KEY} only")
        with self._lock:
            col = self._collection(resource_key)
            col.revision += 1
            rng = random.Random(f"{resource_key}:{col.revision}")
            total = len(col)
            positions = sorted(rng.sample(range(total), min(max(update, 0), total)))
            updated: list[str] = []
            for pos in positions:
                rec = copy.deepcopy(col.item_at(pos)[0])
                col.spec.mutate(rec, col.revision)
                t = self._tick()
                for f in col.spec.cursor_fields:
                    rec[f] = iso(t)
                col.set_at(pos, (rec, t))
                updated.append(str(rec["id"]))
            items = [self._new_record(col) for _ in range(max(add, 0))]
            col.add(items, at_head=False)
            return {"added": [str(r["id"]) for r, _ in items], "updated": updated}

    def insert_at_head(self, resource_key: str, n: int) -> list[str]:
        """Insert ``n`` new records before all others, shifting every offset by ``n``."""
        with self._lock:
            col = self._collection(resource_key)
            items = [self._new_record(col) for _ in range(max(n, 0))]
            col.add(items, at_head=True)
            return [str(r["id"]) for r, _ in items]


def _ids_or_count(value: int | Sequence[int]) -> int | list[int]:
    return int(value) if isinstance(value, int | str) else [int(v) for v in value]

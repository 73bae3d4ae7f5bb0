"""Records already emitted, by primary key, over the last few pages: inserts at the head of a
collection during an offset sync push read records onto later pages, and each is emitted once."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Hashable
from typing import Any

from tap_analytics.fetch import FetchedPage


class RecentKeys:
    """The primary keys of the last few pages: bounded memory, whatever the stream size.

    `seen` maps each key to the number of the last page that held it, so a membership
    test is one dict lookup; a page leaving the window takes its keys along, unless a
    later page held them too."""

    def __init__(self, pages: int) -> None:
        self.window = pages
        self.seen: dict[Hashable, int] = {}
        self._pages: deque[list[Hashable]] = deque()
        self._number = 0

    def add(self, keys: list[Hashable]) -> None:
        self._number += 1
        self.seen.update(dict.fromkeys(keys, self._number))
        self._pages.append(keys)
        if len(self._pages) > self.window:
            leaving = self._number - self.window
            seen = self.seen
            for key in self._pages.popleft():
                if seen.get(key) == leaving:
                    del seen[key]

    def unseen(
        self, page: FetchedPage, logger: logging.Logger, name: str
    ) -> list[dict[str, Any]]:
        """The page's records not already emitted from a recent page: inserts at the head
        of the collection during an offset sync push read records onto later pages."""
        records, keys = page.records, page.keys
        if keys is None or not records:
            return records
        seen = self.seen
        fresh = [r for r, key in zip(records, keys, strict=True) if key not in seen]
        self.add(keys)
        if len(fresh) < len(records):
            logger.info(
                "%s: %d records reappeared on a later page (records were inserted during the "
                "sync); each is emitted once",
                name, len(records) - len(fresh),
            )
        return fresh

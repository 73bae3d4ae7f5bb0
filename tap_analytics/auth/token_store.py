"""The refresh-token cache: a rotated refresh token survives the process that received it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _digest(text: str, length: int = 64) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class RefreshTokenStore:
    """Keeps the newest refresh token on disk, so a rotation survives the process.

    A rotating token endpoint spends the old refresh token on every renewal: a tap
    killed after a renewal but before anyone saved the new token would lock its user
    out. Each rotation is written atomically (temp file, fsync, rename, mode 0600) and
    read on the next start in preference to the configured token -- unless the user
    has since configured a different token, which then wins.

    An entry is keyed by its lineage: the client and the configured refresh token it
    descends from. Not by the token URL, whose spelling (`localhost` or `127.0.0.1`, a
    trailing slash) says nothing about which tokens the server has spent. Entries of
    the earlier format (keyed by token URL and client) are found by their lineage too.
    """

    def __init__(self, path: Path, *, client_id: str, configured: str) -> None:
        self.path = path
        self.key = _digest(f"{client_id}|{configured}", 16)
        self.seed = _digest(configured)
        self.client = _digest(f"client|{client_id}", 16)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entries(self) -> list[tuple[str, dict[str, Any]]]:
        return [(k, v) for k, v in self._read().items() if isinstance(v, dict)]

    def load(self) -> str | None:
        """The newest refresh token of this lineage, or None."""
        entries = dict(self._entries())
        legacy = [e for k, e in entries.items() if k != self.key and "client" not in e]
        for entry in (entries.get(self.key), *legacy):
            token = entry.get("refresh_token") if entry else None
            if entry and entry.get("seeded_from") == self.seed and isinstance(token, str) and token:
                return token
        return None

    def other_lineages(self) -> str:
        """What the cache holds for this client or this configured token under another
        key (a changed client_id or refresh_token), as a clause for an error; "" if nothing."""
        clauses = []
        for key, entry in self._entries():
            if key == self.key:
                continue
            if entry.get("client") == self.client:
                clauses.append("a refresh token of this client_id descended from another "
                               "configured refresh_token")
            elif entry.get("seeded_from") == self.seed and "client" in entry:
                clauses.append("a refresh token descended from this refresh_token for "
                               "another client_id")
        if not clauses:
            return ""
        return (f"the token cache {self.path} holds {' and '.join(sorted(set(clauses)))}: "
                "not used, since a cached token is used only for the client and configured "
                "refresh_token it descends from")

    def save(self, refresh_token: str) -> None:
        """Keep `refresh_token` as this lineage's newest. It replaces every other entry of
        this client (the user configured a new refresh token: the old lineage is left) and
        the earlier format's entry of this lineage."""
        data = {
            key: entry for key, entry in self._read().items()
            if not isinstance(entry, dict) or not (
                entry.get("client") == self.client
                or ("client" not in entry and entry.get("seeded_from") == self.seed)
            )
        }
        data[self.key] = {"refresh_token": refresh_token, "seeded_from": self.seed,
                          "client": self.client}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".token-cache-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                os.fchmod(handle.fileno(), 0o600)
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

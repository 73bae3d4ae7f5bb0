"""The refresh-token cache: a rotated refresh token survives the process that received it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class RefreshTokenStore:
    """Keeps the newest refresh token on disk, so a rotation survives the process.

    A rotating token endpoint spends the old refresh token on every renewal: a tap
    killed after a renewal but before anyone saved the new token would lock its user
    out. Each rotation is written atomically (temp file, fsync, rename, mode 0600) and
    read on the next start in preference to the configured token -- unless the user
    has since configured a different token, which then wins.
    """

    def __init__(self, path: Path, *, token_url: str, client_id: str, configured: str) -> None:
        self.path = path
        self.key = hashlib.sha256(f"{token_url}|{client_id}".encode()).hexdigest()[:16]
        self.seed = hashlib.sha256(configured.encode()).hexdigest()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self) -> str | None:
        entry = self._read().get(self.key)
        if isinstance(entry, dict) and entry.get("seeded_from") == self.seed:
            token = entry.get("refresh_token")
            return token if isinstance(token, str) and token else None
        return None

    def save(self, refresh_token: str) -> None:
        data = self._read()
        data[self.key] = {"refresh_token": refresh_token, "seeded_from": self.seed}
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

"""The control endpoint ``/_control/<name>``: drives a sandbox running in another process.

The demo and the benchmarks start ``python -m sandbox`` as a child; this endpoint gives them
what tests get from :class:`SandboxServer`'s methods (credentials, stats, edits, faults,
options). Never logged, never authenticated; 127.0.0.1 only like the rest of the server.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .transport import _json, _Response

if TYPE_CHECKING:
    from .server import SandboxServer

CONTROL_PREFIX = "/_control/"


def _count_or_ids(value: Any) -> int | list[int]:
    return [int(v) for v in value] if isinstance(value, list) else int(value)


def handle_control(srv: SandboxServer, method: str, name: str, body: bytes) -> _Response:
    """Answer one control call; a bad payload is a 400, an unknown call a 404."""
    try:
        payload = json.loads(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ValueError("JSON object expected")
        if method == "GET" and name == "credentials":
            return _json(200, srv.credentials)
        if method == "GET" and name == "stats":
            return _json(200, srv.stats())
        if method == "POST" and name == "mutate":
            key = payload["resource"]
            # "delete" (and lists of ids) only for forum/posts; mutate() refuses them elsewhere.
            extra = {"delete": _count_or_ids(payload["delete"])} if "delete" in payload else {}
            result: dict[str, Any] = srv.mutate(
                key, int(payload.get("add", 0)), _count_or_ids(payload.get("update", 0)), **extra
            )
            if payload.get("insert_at_head"):
                result["inserted_at_head"] = srv.insert_at_head(key, int(payload["insert_at_head"]))
            return _json(200, result)
        if method == "POST" and name == "inject":
            srv.inject(payload["path"], payload["faults"])
            return _json(200, {"ok": True})
        if method == "POST" and name == "configure":
            srv.configure(**payload)
            return _json(200, {"ok": True})
        if method == "POST" and name == "records":
            srv.set_records(payload["records"])
            return _json(200, {"ok": True})
        if method == "POST" and name == "reset_log":
            srv.reset_log()
            return _json(200, {"ok": True})
        if method == "POST" and name == "expire_tokens":
            srv.expire_tokens()
            return _json(200, {"ok": True})
    except (KeyError, ValueError, TypeError) as exc:
        return _json(400, {"error": "invalid_request", "error_description": str(exc)})
    return _json(404, {"error": "not_found"})

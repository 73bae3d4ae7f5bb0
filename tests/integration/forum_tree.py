"""The forum's posts -> comments -> reactions as tap configs, and their ground truth.

Shared by the dependent-resource tests (integration, hardening, the fan-out benchmark's
check): config entries in dlt's shape, and what every stream must hold, read from the
sandbox with plain `requests` (not the tap), in the order the tap must emit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from sandbox import SandboxServer

TIMEOUT = 10
PAGE = 25
#: Offset paging with the total the forum announces (comments: `{"data": [...], "total": n}`).
OFFSET = {"type": "offset", "limit": PAGE, "total_path": "total"}

POSTS: dict[str, Any] = {
    "name": "posts",
    "endpoint": {"path": "offset/posts", "data_selector": "data", "paginator": OFFSET},
}
def _schema(**fields: str) -> dict[str, Any]:
    return {"properties": {name: {"type": [kind, "null"]} for name, kind in fields.items()}}


#: A child by placeholder, with two of its parent's fields in every record. Its schema is
#: declared (the include_from_parent fields are added), so a sync sends no discovery probe.
COMMENTS: dict[str, Any] = {
    "name": "comments",
    "endpoint": {
        "path": "posts/{resources.posts.id}/comments",
        "data_selector": "data",
        "paginator": OFFSET,
    },
    "include_from_parent": ["id", "title"],
    "schema": _schema(id="integer", post_id="integer", body="string", updated_at="string"),
}
#: A child of a child: a resolve param bound in the path, and a placeholder; two fields of
#: the same parent.
REACTIONS: dict[str, Any] = {
    "name": "reactions",
    "endpoint": {
        "path": "posts/{post_id}/comments/{resources.comments.id}/reactions",
        "params": {"post_id": {"type": "resolve", "resource": "comments", "field": "post_id"}},
        "paginator": "single_page",
    },
    "include_from_parent": ["id"],
    "schema": _schema(id="integer", comment_id="integer", kind="string"),
}


def forum_config(srv: SandboxServer, *resources: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"client": {"base_url": srv.api_url("forum")}, "resources": list(resources), **top}


@dataclass
class ForumTree:
    """The live posts in id order, each post's comments, each comment's reactions."""

    posts: list[dict[str, Any]]
    comments: dict[int, list[dict[str, Any]]]
    reactions: dict[int, list[dict[str, Any]]]

    def comment_ids(self, post_ids: list[int] | None = None) -> list[int]:
        """Comment ids in emission order: by post, then as the API lists them."""
        ids = [p["id"] for p in self.posts] if post_ids is None else post_ids
        return [c["id"] for pid in ids for c in self.comments[pid]]

    def reaction_ids(self) -> list[int]:
        return [r["id"] for cid in self.comment_ids() for r in self.reactions[cid]]


def forum_tree(srv: SandboxServer) -> ForumTree:
    """The ground truth, fetched comment by comment through plain HTTP."""
    base = srv.api_url("forum")
    session = requests.Session()
    posts = srv.records("forum/posts")
    comments: dict[int, list[dict[str, Any]]] = {}
    reactions: dict[int, list[dict[str, Any]]] = {}
    for post in posts:
        got = session.get(f"{base}/posts/{post['id']}/comments", params={"limit": 100}, timeout=TIMEOUT)
        got.raise_for_status()
        comments[post["id"]] = got.json()["data"]
        for comment in comments[post["id"]]:
            url = f"{base}/posts/{post['id']}/comments/{comment['id']}/reactions"
            answer = session.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            reactions[comment["id"]] = answer.json()
    return ForumTree(posts, comments, reactions)

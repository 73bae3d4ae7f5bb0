"""The forum API's data: deterministic posts, users, comments and reactions, and their edits.

Generated post ``n`` is a pure function of ``n`` and the user count (no RNG state), like the
seed APIs' records in :mod:`sandbox.data`. Unlike them the forum is small (hundreds of posts),
so the store simply keeps every live post in memory; edits replace a post's dict, never change
it in place, so a listing can be encoded outside the lock.

Timestamps: post ``n`` is created at ``FORUM_EPOCH + n`` hours and updated 0, 30, 60 or 90
minutes later, so ``updated_at`` order differs from ``id`` order and some posts share an
``updated_at`` (a 60-minute lag equals the next post's zero lag): ties a ``sort=updated_at``
cursor must break by ``id``. Edits take a logical clock that is always later than anything
served, one second per edit.
"""

from __future__ import annotations

import bisect
import copy
import random
import threading
from dataclasses import dataclass
from typing import Any

from .data import Record, _h, _pick, iso

FORUM_API = "forum"
POSTS_KEY = "forum/posts"
USERS_KEY = "forum/users"
#: Keys of :meth:`SandboxServer.set_records` that size the forum.
COUNT_KEYS: tuple[str, ...] = (POSTS_KEY, USERS_KEY)
DEFAULT_POSTS = 230
DEFAULT_USERS = 17
#: 2024-03-01T00:00:00Z; post n is created n hours later.
FORUM_EPOCH = 1_709_251_200
POST_STEP = 3600
MAX_COMMENTS = 4  #: per post (0..4), so comment ids (post-1)*4+1.. are globally unique
MAX_REACTIONS = 2  #: per comment (0..2)
SORTS = ("id", "updated_at")

_TOPICS = ("paging", "incremental loads", "OAuth2", "rate limits", "schemas", "retries", "cursors")
_TAGS = ("python", "dlt", "singer", "rest", "http", "sql", "etl", "api")
_LANGS = ("en", "de", "fr", "es", None)
_KINDS = ("like", "laugh", "heart", "wow")
_FIRST = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")
_LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie")

SortKey = tuple[int, ...]


def generate_post(n: int, users: int) -> tuple[Record, int, int]:
    """Post ``n`` (1-based) as generated, with its created and updated epoch seconds."""
    h = _h(n, 21)
    created = FORUM_EPOCH + n * POST_STEP
    updated = created + (h % 4) * 1800
    tags: list[str] = []
    for k in range((h >> 2) % 4):
        tag = _TAGS[_h(n, 30 + k) % len(_TAGS)]
        if tag not in tags:
            tags.append(tag)
    rec: Record = {
        "id": n,
        "title": f"Post {n}: {_pick(_TOPICS, h >> 19)}",
        "body": f"Body of post {n}, about {_pick(_TOPICS, h >> 23)}.",
        "user_id": 1 + (h >> 17) % max(users, 1),
        "tags": tags,
        "meta": {
            "words": 20 + (h >> 7) % 480,
            "lang": _pick(_LANGS, h >> 5),
            "flags": {"pinned": h % 23 == 0, "locked": (h >> 11) % 9 == 0},
        },
        "score": round(((h >> 13) % 100_000) / 100, 2) + 0.0,
        "created_at": iso(created),
        "updated_at": iso(updated),
    }
    return rec, created, updated


def generate_user(n: int) -> Record:
    h = _h(n, 25)
    return {
        "id": n,
        "name": f"{_pick(_FIRST, h)} {_pick(_LAST, h >> 3)}",
        "email": f"user{n}@forum.example.com",
    }


def generate_comments(post_id: int, created: int) -> list[Record]:
    """The 0..4 comments of a post: a function of its id (and creation time) only."""
    return [
        {
            "id": (post_id - 1) * MAX_COMMENTS + k + 1,
            "post_id": post_id,
            "body": f"Comment {k + 1} on post {post_id}",
            "updated_at": iso(created + (k + 1) * 600),
        }
        for k in range(_h(post_id, 22) % (MAX_COMMENTS + 1))
    ]


def generate_reactions(comment_id: int) -> list[Record]:
    return [
        {
            "id": (comment_id - 1) * MAX_REACTIONS + j + 1,
            "comment_id": comment_id,
            "kind": _pick(_KINDS, _h(comment_id * MAX_REACTIONS + j, 24)),
        }
        for j in range(_h(comment_id, 23) % (MAX_REACTIONS + 1))
    ]


@dataclass(frozen=True)
class PostQuery:
    """The filters every posts listing accepts (epoch seconds for the time bounds)."""

    updated_since: float | None = None  #: inclusive
    updated_until: float | None = None  #: exclusive
    id_after: int | None = None  #: exclusive
    tags: tuple[str, ...] | None = None  #: any of (search bodies only)
    user_id: int | None = None  #: posts_by_user only
    sort: str = "id"

    def matches(self, rec: Record, updated: int) -> bool:
        return (
            (self.updated_since is None or updated >= self.updated_since)
            and (self.updated_until is None or updated < self.updated_until)
            and (self.id_after is None or rec["id"] > self.id_after)
            and (self.tags is None or not set(self.tags).isdisjoint(rec["tags"]))
            and (self.user_id is None or rec["user_id"] == self.user_id)
        )


class ForumStore:
    """Current forum contents; every method takes the store's own lock."""

    def __init__(self, posts: int = DEFAULT_POSTS, users: int = DEFAULT_USERS) -> None:
        self._lock = threading.Lock()
        self.reset(posts, users)

    def reset(self, posts: int | None = None, users: int | None = None) -> None:
        """Regenerate with new counts (None keeps one); earlier edits are discarded."""
        with self._lock:
            n_posts = self._n_posts if posts is None else int(posts)
            n_users = self._n_users if users is None else int(users)
            if n_posts < 0 or n_users < 0:
                raise ValueError("forum counts must be >= 0")
            self._n_posts, self._n_users = n_posts, n_users
            #: id -> (record, created, updated), in ascending id order
            self._posts: dict[int, tuple[Record, int, int]] = {}
            for n in range(1, n_posts + 1):
                rec, created, updated = generate_post(n, n_users)
                self._posts[n] = (rec, created, updated)
            self._deleted: set[int] = set()
            self._next_id = n_posts + 1
            self._clock = max((u for _, _, u in self._posts.values()), default=FORUM_EPOCH)
            self._revision = 0
            self._views: dict[str, tuple[list[SortKey], list[tuple[Record, int]]]] = {}

    # ------------------------------------------------------------- reading
    @property
    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"posts": len(self._posts), "users": self._n_users, "deleted": len(self._deleted)}

    def _view(self, sort: str) -> tuple[list[SortKey], list[tuple[Record, int]]]:
        v = self._views.get(sort)
        if v is None:
            items = sorted(
                self._posts.values(), key=lambda p: (p[0]["id"],) if sort == "id" else (p[2], p[0]["id"])
            )
            keys = [(r["id"],) if sort == "id" else (u, r["id"]) for r, _, u in items]
            v = self._views[sort] = (keys, [(r, u) for r, _, u in items])
        return v

    def select(self, q: PostQuery, after: SortKey | None = None) -> tuple[list[SortKey], list[Record]]:
        """Posts matching ``q`` in its order (strictly after key ``after``), with their sort keys."""
        with self._lock:
            keys, items = self._view(q.sort)
            start = 0 if after is None else bisect.bisect_right(keys, after)
            out_keys: list[SortKey] = []
            out: list[Record] = []
            for key, (rec, updated) in zip(keys[start:], items[start:], strict=True):
                if q.matches(rec, updated):
                    out_keys.append(key)
                    out.append(rec)
            return out_keys, out

    def post(self, post_id: int) -> Record | None:
        with self._lock:
            p = self._posts.get(post_id)
            return None if p is None else p[0]

    def comments(self, post_id: int) -> list[Record] | None:
        """A live post's comments, or None for a deleted or unknown post."""
        with self._lock:
            p = self._posts.get(post_id)
        return None if p is None else generate_comments(post_id, p[1])

    def reactions(self, post_id: int, comment_id: int) -> list[Record] | None:
        """A comment's reactions, or None unless the comment belongs to a live post."""
        comments = self.comments(post_id)
        if comments is None or all(c["id"] != comment_id for c in comments):
            return None
        return generate_reactions(comment_id)

    def users(self) -> list[Record]:
        with self._lock:
            return [generate_user(n) for n in range(1, self._n_users + 1)]

    def user(self, user_id: int) -> Record | None:
        with self._lock:
            return generate_user(user_id) if 1 <= user_id <= self._n_users else None

    def records(self) -> list[Record]:
        """Ground truth: live posts in id order (deep copies)."""
        with self._lock:
            return copy.deepcopy([r for r, _, _ in self._posts.values()])

    # ------------------------------------------------------------- editing
    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _pick_ids(self, spec: int | list[int], pool: list[int], rng: random.Random) -> list[int]:
        if isinstance(spec, list):
            missing = [i for i in spec if i not in self._posts]
            if missing:
                raise KeyError(f"no live forum post(s) {missing}")
            return sorted(set(spec))
        return sorted(rng.sample(pool, min(max(int(spec), 0), len(pool))))

    def mutate(
        self, add: int = 0, update: int | list[int] = 0, delete: int | list[int] = 0
    ) -> dict[str, Any]:
        """Update, then delete, then add posts; counts pick posts by a seeded RNG, lists name ids.

        Updated posts get an edited title and score and an ``updated_at`` later than anything
        served; deleted posts (never ones just updated, when picked by count) vanish from every
        listing and answer 404 with their children; new posts get new ids and later times.
        """
        with self._lock:
            self._revision += 1
            rng = random.Random(f"{POSTS_KEY}:{self._revision}")
            updated = self._pick_ids(update, list(self._posts), rng)
            for pid in updated:
                old, created, _ = self._posts[pid]
                rec = copy.deepcopy(old)
                rec["title"] = f"{str(rec['title']).split(' (edit')[0]} (edit {self._revision})"
                rec["score"] = round(float(rec["score"]) + 1.25, 2)
                t = self._tick()
                rec["updated_at"] = iso(t)
                self._posts[pid] = (rec, created, t)
            deleted = self._pick_ids(delete, [i for i in self._posts if i not in updated], rng)
            for pid in deleted:
                del self._posts[pid]
                self._deleted.add(pid)
            added: list[int] = []
            for _ in range(max(int(add), 0)):
                rec, _, _ = generate_post(self._next_id, self._n_users)
                t = self._tick()
                rec["created_at"] = rec["updated_at"] = iso(t)
                self._posts[self._next_id] = (rec, t, t)
                added.append(self._next_id)
                self._next_id += 1
            self._views.clear()
            return {"added": added, "updated": updated, "deleted": deleted}

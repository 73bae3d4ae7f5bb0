"""Dependent resources against the sandbox's forum: posts -> comments -> reactions.

Every record is checked against the ground truth read with plain HTTP (`forum_tree`), in the
order the tap emits it: parents page by page, each page's children in parent order, then
their children. Requests are checked in the sandbox's log.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.tap import TapAnalytics

from .forum_tree import COMMENTS, POSTS, REACTIONS, ForumTree, forum_config, forum_tree
from .helpers import SyncResult, meet, run_tap

N_POSTS = 60


@pytest.fixture
def forum(sandbox: SandboxServer) -> SandboxServer:
    sandbox.set_records({"forum/posts": N_POSTS})
    return sandbox


@pytest.fixture
def tree(forum: SandboxServer) -> ForumTree:
    truth = forum_tree(forum)
    forum.reset_log()
    return truth


def _comment_requests(srv: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in srv.request_log if r["path"].endswith("/comments")]


def _parent_of(request: dict[str, Any]) -> int:
    return int(request["path"].split("/")[-2])


def _ids(result: SyncResult, stream: str) -> list[int]:
    return [int(r["id"]) for r in result.records(stream)]


# ------------------------------------------------------------------------------ records
def test_every_post_drives_its_comments_with_the_included_parent_fields(
    forum: SandboxServer, tree: ForumTree
) -> None:
    result = run_tap(forum_config(forum, POSTS, COMMENTS))

    assert _ids(result, "posts") == [p["id"] for p in tree.posts]
    assert _ids(result, "comments") == tree.comment_ids()
    titles = {p["id"]: p["title"] for p in tree.posts}
    for comment in result.records("comments"):
        assert comment["_posts_id"] == comment["post_id"]
        assert comment["_posts_title"] == titles[comment["post_id"]]
    # One walk per post, each at its own post's path (no shared request plan).
    assert sorted(_parent_of(r) for r in _comment_requests(forum)) == [p["id"] for p in tree.posts]
    schemas = result.of_type("SCHEMA", "comments")
    assert len(schemas) == 1, "one SCHEMA per child stream, not one per parent"
    assert {"_posts_id", "_posts_title"} <= set(schemas[0]["schema"]["properties"])


def test_a_child_of_a_child_resolves_two_fields_of_its_parent(forum: SandboxServer, tree: ForumTree) -> None:
    result = run_tap(forum_config(forum, POSTS, COMMENTS, REACTIONS))

    assert _ids(result, "comments") == tree.comment_ids()
    assert _ids(result, "reactions") == tree.reaction_ids()
    by_comment = {c["id"]: c for cs in tree.comments.values() for c in cs}
    for reaction in result.records("reactions"):
        assert reaction["_comments_id"] == reaction["comment_id"]
        assert by_comment[reaction["comment_id"]]["id"] == reaction["comment_id"]
    reaction_paths = {r["path"] for r in forum.request_log if r["path"].endswith("/reactions")}
    expected = {
        f"/forum/posts/{pid}/comments/{c['id']}/reactions" for pid, cs in tree.comments.items() for c in cs
    }
    assert reaction_paths == expected


_IDS_ONLY = {"properties": {"id": {"type": "integer"}}}  # declared: no discovery probe


def test_parent_fields_fill_query_params_headers_and_a_json_body(
    forum: SandboxServer, tree: ForumTree
) -> None:
    by_query = {
        "name": "newer",
        "endpoint": {
            "path": "offset/posts",
            "params": {"id_after": "{resources.posts.id}", "limit": 3},
            "headers": {"X-Post": "post {resources.posts.id}"},
            "paginator": "single_page",
            "data_selector": "data",
        },
        "primary_key": [],
        "write_disposition": "append",
        "schema": _IDS_ONLY,
    }
    by_body = {
        "name": "tagged",
        "endpoint": {
            "path": "search/posts",
            "method": "POST",
            "json": {"filter": {"tags": "{resources.posts.tags}"}, "per_page": 100},
            "paginator": "single_page",
            "data_selector": "data",
        },
        "primary_key": [],
        "write_disposition": "append",
        "schema": _IDS_ONLY,
    }
    parents = {**POSTS, "endpoint": {**POSTS["endpoint"], "params": {"id_after": N_POSTS - 6}}}
    result = run_tap(forum_config(forum, parents, by_query, by_body))

    last = tree.posts[-6:]
    ids = [p["id"] for p in tree.posts]
    assert _ids(result, "newer") == [i for p in last for i in ids if p["id"] < i <= p["id"] + 3]
    queried = [r for r in forum.request_log if "X-Post" in r["headers"]]
    # One request per parent, sent concurrently: in any order.
    assert sorted((r["query"]["id_after"], r["headers"]["X-Post"]) for r in queried) == sorted(
        (str(p["id"]), f"post {p['id']}") for p in last
    )
    # The tags stay a list in the body (a lone placeholder keeps its type): any tag matches.
    expected = [i["id"] for p in last for i in tree.posts if set(i["tags"]) & set(p["tags"])]
    assert _ids(result, "tagged") == expected


def test_a_deselected_parent_drives_its_children_and_emits_nothing(
    forum: SandboxServer, tree: ForumTree
) -> None:
    result = run_tap(forum_config(forum, {**POSTS, "selected": False}, COMMENTS))

    assert "posts" not in result.streams
    assert not result.of_type("SCHEMA", "posts")
    assert _ids(result, "comments") == tree.comment_ids()
    assert result.state["bookmarks"]["comments"] == {}, "no resume marker is left behind"


def test_the_parent_checkpoint_comes_after_the_children_of_the_page_before(
    forum: SandboxServer, tree: ForumTree
) -> None:
    """Each STATE naming the parent page about to be read follows every child of the pages
    before it: so a run killed anywhere resumes at most one parent page back."""
    result = run_tap(forum_config(forum, POSTS, COMMENTS, max_concurrent_requests=4))

    seen_comments: set[int] = set()
    checked = 0
    for message in result.messages:
        if message["type"] == "RECORD" and message["stream"] == "comments":
            seen_comments.add(int(message["record"]["id"]))
        paging = message.get("value", {}).get("bookmarks", {}).get("posts", {}).get("paging", {})
        if message["type"] == "STATE" and "offset" in paging:
            before = [p["id"] for p in tree.posts[: int(paging["offset"])]]
            assert set(tree.comment_ids(before)) <= seen_comments, paging
            checked += 1
    assert checked >= N_POSTS // 25


# ------------------------------------------------------------------------------ concurrency
def _hold_first_comment_requests(
    monkeypatch: pytest.MonkeyPatch, srv: SandboxServer, parties: int
) -> dict[str, Any]:
    """Hold the first `parties` comment requests until all of them are being served at
    once (at most 10 s): the barrier trips only if the tap has them in flight together."""
    barrier = threading.Barrier(parties, timeout=10)
    seen: dict[str, Any] = {"held": 0, "tripped": False, "parents": set(), "inflight": 0, "peak": 0}
    lock = threading.Lock()
    original = srv._forum

    def forum(method: str, rest: str, *args: Any) -> Any:
        if not rest.endswith("/comments"):
            return original(method, rest, *args)
        with lock:
            seen["inflight"] += 1
            seen["peak"] = max(seen["peak"], seen["inflight"])
            held = seen["held"] < parties
            seen["held"] += 1
            if held:
                seen["parents"].add(rest)
        try:
            if held and meet(barrier):
                seen["tripped"] = True
            return original(method, rest, *args)
        finally:
            with lock:
                seen["inflight"] -= 1

    monkeypatch.setattr(srv, "_forum", forum)
    return seen


def test_children_of_different_parents_are_in_flight_at_once_and_come_out_in_order(
    monkeypatch: pytest.MonkeyPatch, forum: SandboxServer, tree: ForumTree
) -> None:
    seen = _hold_first_comment_requests(monkeypatch, forum, parties=4)
    config = forum_config(forum, POSTS, COMMENTS, REACTIONS, max_concurrent_requests=4)

    result = run_tap(config)

    assert seen["tripped"], f"the tap never had 4 comment requests in flight (peak {seen['peak']})"
    assert len(seen["parents"]) == 4, "the requests held together belong to different posts"
    assert seen["peak"] <= 4, "max_concurrent_requests bounds the fan-out"
    assert _ids(result, "comments") == tree.comment_ids()
    assert _ids(result, "reactions") == tree.reaction_ids()
    again = run_tap(config)
    assert [r for r in again.record_sequence()] == [r for r in result.record_sequence()], (
        "the output order does not depend on which request finished first"
    )


def test_sequential_settings_read_children_one_at_a_time(forum: SandboxServer, tree: ForumTree) -> None:
    result = run_tap(forum_config(forum, POSTS, COMMENTS, max_concurrent_requests=1))

    assert _ids(result, "comments") == tree.comment_ids()
    assert forum.peak_concurrency == 1


# ------------------------------------------------------------------------------ failures
_ON_USERS = {
    "name": "comments",
    "endpoint": {
        "path": "posts/{resources.users.id}/comments", "data_selector": "data", "paginator": "single_page",
    },
}


def test_a_deleted_parents_children_fail_with_the_parents_key(forum: SandboxServer) -> None:
    forum.mutate("forum/posts", delete=[3])
    result = run_tap(forum_config(forum, "users", _ON_USERS), expect_error=True)

    message = str(result.error)
    assert "HTTP 404" in message
    assert "users record id=3" in message
    assert '"status_code": 404, "action": "ignore"' in message


def test_response_actions_skip_a_deleted_parents_children(forum: SandboxServer, tree: ForumTree) -> None:
    forum.mutate("forum/posts", delete=[3])
    child = copy.deepcopy(_ON_USERS)
    child["endpoint"]["response_actions"] = [{"status_code": 404, "action": "ignore"}]
    result = run_tap(forum_config(forum, "users", child))

    users = [u["id"] for u in forum.records("forum/users")]
    assert _ids(result, "comments") == tree.comment_ids([u for u in users if u != 3])


def test_a_parent_without_the_resolved_field_is_a_clear_error(forum: SandboxServer) -> None:
    child = copy.deepcopy(COMMENTS)
    child["endpoint"]["path"] = "posts/{resources.posts.number}/comments"
    child["include_from_parent"] = []
    result = run_tap(forum_config(forum, POSTS, child), expect_error=True)

    assert "posts record id=1 has no field 'number'" in str(result.error)


# ------------------------------------------------------------------------------ state
_INCREMENTAL_POSTS = {
    **POSTS,
    "endpoint": {
        **POSTS["endpoint"],
        "incremental": {
            "cursor_path": "updated_at",
            "start_param": "updated_since",
            "initial_value": "2024-01-01T00:00:00Z",
        },
    },
}


def test_an_incremental_parent_rereads_only_the_children_of_new_or_changed_parents(
    forum: SandboxServer, tree: ForumTree
) -> None:
    config = forum_config(forum, _INCREMENTAL_POSTS, COMMENTS)
    first = run_tap(config)
    assert _ids(first, "comments") == tree.comment_ids()
    changed = forum.mutate("forum/posts", update=5, add=3)
    forum.reset_log()

    second = run_tap(config, state=first.state)

    emitted = _ids(second, "posts")
    assert set(changed["updated"]) | set(changed["added"]) <= set(emitted)
    assert len(emitted) <= 8 + 2, "only the changed posts (and those at the bookmark's instant)"
    assert sorted(_parent_of(r) for r in _comment_requests(forum)) == sorted(emitted)
    fresh = forum_tree(forum)
    assert _ids(second, "comments") == fresh.comment_ids(emitted)


def test_a_child_keeps_one_bookmark_not_one_per_parent(forum: SandboxServer, tree: ForumTree) -> None:
    child = copy.deepcopy(COMMENTS)
    child["endpoint"]["incremental"] = {"cursor_path": "updated_at"}
    first = run_tap(forum_config(forum, POSTS, child))

    bookmark = first.state["bookmarks"]["comments"]
    newest = max(c["updated_at"] for cs in tree.comments.values() for c in cs)
    assert bookmark == {"replication_key": "updated_at", "replication_key_value": newest}
    again = run_tap(forum_config(forum, POSTS, child), state=first.state)
    assert all(c["updated_at"] == newest for c in again.records("comments")), (
        "a second run emits only the comments at the bookmark's instant (inclusive)"
    )


# ------------------------------------------------------------------------------ discovery
def _discovered(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    catalog = TapAnalytics(config=config, parse_env_config=False).catalog_dict
    return {entry["tap_stream_id"]: entry["schema"] for entry in catalog["streams"]}


def _undeclared(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "schema"}


def test_discovery_infers_a_child_schema_from_its_first_parents_children(forum: SandboxServer) -> None:
    schemas = _discovered(forum_config(forum, POSTS, _undeclared(COMMENTS), _undeclared(REACTIONS)))

    comments = schemas["comments"]["properties"]
    assert {"id", "post_id", "body", "updated_at", "_posts_id", "_posts_title"} <= set(comments)
    assert comments["_posts_title"]["type"] == ["string", "null"]
    assert {"id", "comment_id", "kind", "_comments_id"} <= set(schemas["reactions"]["properties"])


def test_a_declared_child_schema_gains_the_included_fields_typed_as_the_parent(forum: SandboxServer) -> None:
    parent_schema = {"properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}
    child = {**COMMENTS, "schema": {"properties": {"id": {"type": "integer"}, "body": {"type": "string"}}}}
    config = forum_config(forum, {**POSTS, "schema": parent_schema}, child)

    schema = _discovered(config)["comments"]["properties"]
    assert schema["_posts_id"] == {"type": "integer"}
    assert schema["_posts_title"] == {"type": "string"}
    result = run_tap(config)
    first = result.records("comments")[0]
    assert set(first) == {"id", "body", "_posts_id", "_posts_title"}, json.dumps(first)


def test_a_resumed_child_keeps_the_latest_cursor_the_killed_run_emitted(
    forum: SandboxServer, tree: ForumTree
) -> None:
    """A child's STATE carries its latest cursor with every parent checkpoint, so a run
    resumed mid-parent ends with a bookmark covering what the killed run emitted too."""
    child = copy.deepcopy(COMMENTS)
    child["endpoint"]["incremental"] = {"cursor_path": "updated_at"}
    killed_at = {
        "bookmarks": {
            "posts": {"paging": {"offset": 50, "limit": 25}},
            "comments": {"paging": {"replication_key_value": "2099-01-01T00:00:00Z"}},
        }
    }
    result = run_tap(forum_config(forum, POSTS, child), state=killed_at)

    assert _ids(result, "posts") == [p["id"] for p in tree.posts[50:]]
    assert _ids(result, "comments") == tree.comment_ids([p["id"] for p in tree.posts[50:]])
    assert result.state["bookmarks"]["comments"]["replication_key_value"] == "2099-01-01T00:00:00Z"
    assert "paging" not in result.state["bookmarks"]["comments"]


@pytest.mark.parametrize("concurrent_windows", [1, 3])
def test_every_state_of_a_windowed_parent_carries_its_childs_latest_cursor(
    forum: SandboxServer, tree: ForumTree, concurrent_windows: int
) -> None:
    """A parent synced in backfill windows checkpoints after each window; that STATE, like
    its page checkpoints, holds the child's latest cursor emitted before it (never one the
    child has not reached: no STATE claims an undelivered record)."""
    parent = copy.deepcopy(POSTS)
    parent["endpoint"]["incremental"] = {
        "cursor_path": "updated_at", "start_param": "updated_since", "end_param": "updated_until",
        "initial_value": "2024-03-01T00:00:00Z", "window": "P2D",
    }
    child = copy.deepcopy(COMMENTS)
    child["endpoint"]["incremental"] = {"cursor_path": "updated_at"}
    result = run_tap(forum_config(forum, parent, child, max_concurrent_windows=concurrent_windows))

    assert sorted(_ids(result, "comments")) == sorted(tree.comment_ids())
    latest: str | None = None
    window_states = 0
    for message in result.messages:
        if message["type"] == "RECORD" and message["stream"] == "comments":
            updated = message["record"]["updated_at"]
            latest = updated if latest is None or updated > latest else latest
        elif message["type"] == "STATE":
            state = message["value"]["bookmarks"]
            window_states += "window" in json.dumps(state.get("posts", {}))
            comments = state.get("comments", {})
            places = (comments.get("paging", {}), comments.get("progress_markers", {}), comments)
            cursor = next(
                (p["replication_key_value"] for p in places if p.get("replication_key_value")), None
            )
            assert cursor == latest, f"child cursor {cursor} in STATE, {latest} emitted before it: {state}"
    assert window_states, "the parent wrote window checkpoints"

"""Dependent resources in the config: what a child's `ParentSpec` holds, and what dlt refuses."""

from __future__ import annotations

from typing import Any

import pytest

from tap_analytics.config import ConfigErrors, ResourceSpec, resolve_resources
from tap_analytics.config.dependents import dependency_order
from tap_analytics.config.specs import ParentSpec

BASE = {"base_url": "https://api.example.com"}
RESOLVE = {"type": "resolve", "resource": "issues", "field": "number"}


def specs(*resources: Any, **top: Any) -> dict[str, ResourceSpec]:
    return {s.name: s for s in resolve_resources({"client": BASE, "resources": list(resources), **top})}


def errors(*resources: Any) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        resolve_resources({"client": BASE, "resources": list(resources)})
    return caught.value.errors


def test_a_resolve_param_stays_in_the_path_and_leaves_the_query() -> None:
    child = specs("issues", {"name": "comments", "endpoint": {
        "path": "issues/{n}/comments", "params": {"n": RESOLVE, "per_page": 50}}})["comments"]
    assert child.path == "issues/{n}/comments"
    assert dict(child.params) == {"per_page": 50}
    assert child.parent == ParentSpec("issues", (("n", "number"),))


def test_placeholders_anywhere_name_one_parent_and_its_fields() -> None:
    child = specs("issues", {
        "name": "events",
        "endpoint": {
            "path": "repos/{resources.issues.repo.name}/events",
            "method": "POST",
            "params": {"since": "{resources.issues.updated_at}"},
            "headers": {"X-Issue": "{resources.issues.number}"},
            "json": {"ids": "{resources.issues.labels}"},
        },
        "include_from_parent": ["title", "number", "title"],
    })["events"]
    assert child.parent is not None
    assert child.parent.resource == "issues"
    assert dict(child.parent.values) == {
        "resources.issues.repo.name": "repo.name",
        "resources.issues.updated_at": "updated_at",
        "resources.issues.number": "number",
        "resources.issues.labels": "labels",
    }
    assert child.parent.include == ("title", "number")
    assert child.parent.field_name("title") == "_issues_title"
    assert dict(child.headers)["X-Issue"] == "{resources.issues.number}", "kept as a template"


def test_a_flat_resource_has_no_parent() -> None:
    assert specs("issues")["issues"].parent is None


@pytest.mark.parametrize(
    ("child", "setting", "words"),
    [
        ({"name": "c", "endpoint": {"path": "c", "params": {"n": RESOLVE}}},
         "resources[2] (c).endpoint.params.n", "must be bound in endpoint.path as {n}"),
        ({"name": "c", "endpoint": {"path": "c/{n}",
                                    "params": {"n": {"type": "resolve", "resource": "issues"}}}},
         "resources[2] (c).endpoint.params.n.field", "required"),
        ({"name": "c", "endpoint": {"path": "c/{n}", "params": {"n": {**RESOLVE, "fields": "x"}}}},
         "resources[2] (c).endpoint.params.n.fields", "unknown setting"),
        ({"name": "c", "endpoint": {"path": "c/{resources.issue.id}"}},
         "resources[2] (c).endpoint.path", "did you mean 'issues'?"),
        ({"name": "c", "endpoint": {"path": "c/{resources.issues}"}},
         "resources[2] (c).endpoint.path", "{resources.<parent resource>.<field>}"),
        ({"name": "c", "endpoint": {"path": "c/{resources.issues.id}",
                                    "params": {"u": "{resources.users.id}"}}},
         "resources[2] (c)", "name 2 parent resources (issues, users)"),
        ({"name": "c", "include_from_parent": ["id"]},
         "resources[2] (c).include_from_parent", "only a dependent resource"),
        ({"name": "c", "endpoint": "c/{resources.issues.id}", "include_from_parent": "id"},
         "resources[2] (c).include_from_parent", "must be a list"),
        ({"name": "c", "endpoint": "c/{resources.issues.id}", "parallelized": "yes"},
         "resources[2] (c).parallelized", "true or false"),
    ],
)
def test_what_dlt_refuses_is_one_line_naming_the_setting(
    child: dict[str, Any], setting: str, words: str
) -> None:
    found = [e for e in errors("issues", "users", child) if e.startswith(f"{setting}: ")]
    assert len(found) == 1, found
    assert words in found[0]


def test_resources_that_depend_on_each_other_in_a_circle_are_an_error() -> None:
    found = errors(
        {"name": "a", "endpoint": "a/{resources.b.id}"},
        {"name": "b", "endpoint": "b/{resources.a.id}"},
    )
    assert len(found) == 1
    assert "a -> b -> a" in found[0] or "b -> a -> b" in found[0]


def test_parents_come_before_their_children_otherwise_config_order() -> None:
    resolved = list(specs(
        {"name": "reactions", "endpoint": "r/{resources.comments.id}"},
        {"name": "comments", "endpoint": "c/{resources.posts.id}"},
        "users",
        "posts",
    ).values())
    assert [s.name for s in dependency_order(resolved)] == ["users", "posts", "comments", "reactions"]


def test_a_single_entity_child_reads_the_body_as_its_record() -> None:
    """dlt: `users/{id}` answers one object: data_selector '$', one page, unless configured."""
    child = specs("users", {"name": "user", "endpoint": "users/{resources.users.id}"})["user"]
    assert child.data_selector == "$"
    assert child.paginator.type == "single_page"
    kept = specs("users", {"name": "user", "endpoint": {"path": "users/{resources.users.id}",
                                                         "data_selector": "data"}})["user"]
    assert kept.data_selector == "data"


def test_a_child_cannot_sync_in_windows() -> None:
    """A child's walks follow its parents, one per parent record: `incremental.window` could
    not apply, so it is refused rather than ignored."""
    found = errors("issues", {"name": "comments", "endpoint": {
        "path": "issues/{resources.issues.number}/comments",
        "incremental": {"cursor_path": "updated_at", "initial_value": "2024-01-01T00:00:00Z",
                        "window": "P1D"}}})
    assert len(found) == 1
    assert "resources[1] (comments).endpoint.incremental.window" in found[0]
    assert "dependent resource" in found[0]

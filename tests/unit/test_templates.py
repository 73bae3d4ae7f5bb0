"""Request templates expand as dlt's expand_placeholders does: the same results on the same input."""

from __future__ import annotations

from typing import Any

import pytest
from dlt.sources.rest_api.config_setup import expand_placeholders

from tap_analytics.templates import escape, expand, expressions

VALUES = {
    "resources.posts.id": 7,
    "resources.posts.user.name": "ada",
    "incremental.start_value": "2024-01-01",
}

CASES: list[tuple[Any, bool]] = [
    ("posts/{resources.posts.id}/comments", False),
    ("literal {{braces}} and {resources.posts.id}", False),
    ({"post": "{resources.posts.id}", "since": "{incremental.start_value}", "k{{x}}": "v"}, False),
    ({"post": "{resources.posts.id}", "name": "{resources.posts.user.name}",
      "n": [1, "{resources.posts.id}"]}, True),
    ({"q": "id={resources.posts.id}"}, True),
    ({"nested": {"deep": ["{incremental.start_value}", 3, None]}}, True),
    ("no placeholders at all", False),
    (None, False),
    (5, True),
]


@pytest.mark.parametrize(("template", "preserve"), CASES)
def test_expand_is_dlts_expand_placeholders(template: Any, preserve: bool) -> None:
    assert expand(template, VALUES, preserve_type=preserve) == expand_placeholders(
        template, VALUES, preserve_value_type=preserve
    )


def test_a_lone_placeholder_in_a_json_body_keeps_its_type() -> None:
    assert expand({"id": "{resources.posts.id}"}, VALUES, preserve_type=True) == {"id": 7}
    assert expand({"id": "{resources.posts.id}"}, VALUES) == {"id": "7"}


def test_expressions_are_found_in_keys_values_and_lists() -> None:
    found = expressions({"a{resources.posts.id}": ["{incremental.start_value}", {"b": "{{x}}"}]})
    assert found == {"resources.posts.id", "incremental.start_value"}


def test_escape_round_trips() -> None:
    text = "a {literal} }{ text"
    assert expand(escape(text), {}) == text

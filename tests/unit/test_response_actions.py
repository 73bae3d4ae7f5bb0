"""dlt's `response_actions`: validation into `ResponseAction`s, matching in dlt's order."""

from __future__ import annotations

from typing import Any

import pytest

from tap_analytics.config import ResponseAction
from tap_analytics.config.responses import matching_action, response_actions

WHERE = "resources[0] (things).endpoint.response_actions"


def test_valid_actions_become_response_actions_in_order() -> None:
    actions, errors = response_actions(
        [{"status_code": 404, "action": "ignore"}, {"content": "Not found", "action": "ignore"},
         {"status_code": 200, "content": "deleted", "action": "ignore"}],
        WHERE,
    )
    assert errors == []
    assert actions == (
        ResponseAction(status_code=404),
        ResponseAction(content="Not found"),
        ResponseAction(status_code=200, content="deleted"),
    )


@pytest.mark.parametrize(
    ("value", "setting"),
    [
        ({"status_code": 404}, ""),
        (["ignore"], "[0]"),
        ([{"status_code": 404, "action": "retry"}], "[0].action"),
        ([{"status_code": 404, "action": ["my_module.hook"]}], "[0].action"),
        ([{"status_code": "404", "action": "ignore"}], "[0].status_code"),
        ([{"status_code": 404, "action": "ignore", "when": "always"}], "[0].when"),
        ([{"action": "ignore"}], "[0]"),
        ([{"content": "", "action": "ignore"}], "[0].content"),
    ],
)
def test_what_a_json_config_cannot_mean_is_refused_in_one_line(value: Any, setting: str) -> None:
    actions, errors = response_actions(value, WHERE)
    assert actions == ()
    assert errors
    assert errors[0].startswith(f"{WHERE}{setting}")
    assert all("\n" not in e for e in errors)


def test_every_action_is_checked_in_order_status_and_content_together() -> None:
    actions, _ = response_actions(
        [
            {"status_code": 200, "content": "gone", "action": "ignore"},
            {"status_code": 404, "action": "ignore"},
            {"content": "Invalid page", "action": "ignore"},
        ],
        WHERE,
    )
    reads: list[int] = []

    def text(body: str) -> Any:
        def read() -> str:
            reads.append(1)
            return body
        return read

    assert matching_action(actions, 404, text("{}")) == 1, "the second, though the first did not match"
    assert matching_action(actions, 400, text('{"detail": "Invalid page."}')) == 2
    assert matching_action(actions, 200, text('{"state": "gone"}')) == 0
    assert matching_action(actions, 200, text('{"data": []}')) is None
    reads.clear()
    assert matching_action(actions[1:2], 404, text("{}")) == 0
    assert reads == [], "a status-only action never reads the body"

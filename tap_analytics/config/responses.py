"""dlt's `response_actions`: validated into `ResponseAction`s, and matched against responses.

As in dlt (`config_setup._handle_response_action`, `create_response_hooks`) every action
is checked in order, before any status is treated as an error or retried: an action
with `status_code` and `content` matches when both do, with one of them when it does.
The only action a JSON config can name is `"ignore"`: the response is a page without
records and the walk ends there. Callables (dlt's other actions) cannot be written in
JSON; other strings are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tap_analytics.config.specs import ResponseAction

ACTION_KEYS = ("status_code", "content", "action")


def response_actions(value: Any, where: str) -> tuple[tuple[ResponseAction, ...], list[str]]:
    """The actions a `response_actions` list describes, and its problems."""
    if value in (None, []):
        return (), []
    if not isinstance(value, list):
        return (), [f'{where}: must be a list such as [{{"status_code": 404, "action": "ignore"}}]']
    actions: list[ResponseAction] = []
    errors: list[str] = []
    for index, entry in enumerate(value):
        action, problems = _action(entry, f"{where}[{index}]")
        errors += problems
        if action is not None:
            actions.append(action)
    return (tuple(actions), errors) if not errors else ((), errors)


def _action(entry: Any, where: str) -> tuple[ResponseAction | None, list[str]]:
    if not isinstance(entry, Mapping):
        return None, [
            f'{where}: must be an object such as {{"status_code": 404, "action": "ignore"}} '
            "(dlt's callables cannot be written in a JSON config)"
        ]
    errors = [
        f"{where}.{key}: unknown key (known: {', '.join(ACTION_KEYS)})"
        for key in entry
        if key not in ACTION_KEYS
    ]
    status = entry.get("status_code")
    if status is not None and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        errors.append(f"{where}.status_code: must be an HTTP status code such as 404")
    content = entry.get("content")
    if content is not None and (not isinstance(content, str) or not content):
        errors.append(f"{where}.content: must be a non-empty string to find in the response body")
    if status is None and content is None:
        errors.append(f"{where}: needs status_code or content (or both) to match responses")
    action = entry.get("action")
    if action != "ignore":
        errors.append(
            f"{where}.action: {action!r} is not supported; the one action a JSON config can "
            'name is "ignore" (dlt\'s callables cannot be written in JSON)'
        )
    if errors:
        return None, errors
    return ResponseAction(status_code=status, content=content, action="ignore"), []


def matching_action(
    actions: Sequence[ResponseAction], status: int, text: Callable[[], str]
) -> int | None:
    """The index of the first action matching a response's `status` and body `text`
    (read only when an action looks at the content), or None."""
    body: str | None = None
    for index, action in enumerate(actions):
        if action.status_code is not None and action.status_code != status:
            continue
        if action.content is not None:
            if body is None:
                body = text()
            if action.content not in body:
                continue
        return index
    return None

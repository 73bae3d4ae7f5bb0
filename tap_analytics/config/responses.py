"""Validation of dlt's `response_actions`: what to do with matching responses."""

from __future__ import annotations

from typing import Any

from tap_analytics.config.specs import ResponseAction


def response_actions(value: Any, where: str) -> tuple[tuple[ResponseAction, ...], list[str]]:
    """The actions a `response_actions` list describes, and its problems."""
    if value in (None, []):
        return (), []
    return (), [f"{where}: not supported yet"]

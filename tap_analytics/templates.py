"""Request templates: dlt's placeholders in a path, params, headers or body, filled per request.

A resource's endpoint settings are kept as templates: `{resources.<parent>.<field>}` is a
parent record's field (dependent resources), `{incremental.start_value}` and its siblings
the incremental range, `{{`/`}}` a literal brace. `expand` fills them exactly as dlt's
`expand_placeholders` does (placeholder names are looked up whole, dots included; in a
JSON body a string that is one placeholder alone keeps the value's type).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

#: The contexts a placeholder may name.
RESOURCES = "resources"
INCREMENTAL = "incremental"
INCREMENTAL_VALUES = ("start_value", "end_value", "initial_value", "last_value")


class _DirectKeyFormatter(string.Formatter):
    """`{a.b}` looks up the key "a.b" first (dlt's `DirectKeyFormatter`)."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if field_name in kwargs:
            return kwargs[field_name], field_name
        return super().get_field(field_name, args, kwargs)


_FORMATTER = _DirectKeyFormatter()


def fields(text: str) -> list[str]:
    """The placeholder names in `text`; ValueError on an unmatched brace."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def expressions(value: Any) -> set[str]:
    """Every placeholder name in `value`, its mapping keys and nested values included."""
    if isinstance(value, str):
        return set(fields(value))
    if isinstance(value, Mapping):
        found: set[str] = set()
        for key, item in value.items():
            found |= expressions(key) | expressions(item)
        return found
    if isinstance(value, list | tuple):
        return {name for item in value for name in expressions(item)}
    return set()


def expand(value: Any, values: Mapping[str, Any], *, preserve_type: bool = False) -> Any:
    """`value` with its placeholders filled from `values` and `{{`/`}}` made single."""
    if value is None:
        return None
    if isinstance(value, str):
        if preserve_type and (single := _single_placeholder(value)) is not None:
            return _FORMATTER.get_field(single, (), values)[0]
        return _FORMATTER.format(value, **values)
    if isinstance(value, Mapping):
        return {
            expand(k, values, preserve_type=preserve_type): expand(v, values, preserve_type=preserve_type)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [expand(item, values, preserve_type=preserve_type) for item in value]
    return value


def escape(text: str) -> str:
    """`text` as a template that expands to itself."""
    return text.replace("{", "{{").replace("}", "}}")


def _single_placeholder(text: str) -> str | None:
    parsed = list(string.Formatter().parse(text))
    if len(parsed) == 1:
        literal, name, spec, conversion = parsed[0]
        if literal == "" and name and not spec and conversion is None:
            return name
    return None

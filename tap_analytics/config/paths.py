"""Placeholders and braces in endpoint settings, and absolute URLs as paths.

As dlt's `_bind_path_params` does: `{name}` in `endpoint.path` is filled from
`endpoint.params[name]`, which is then not sent as a query parameter; `{{` and `}}` are
a literal brace -- in the path and in every string of params, headers, json and data
(dlt expands placeholders there too). A placeholder that names the `resources.` or
`incremental.` context is refused until dependent resources land; any other placeholder
outside the path is an error, as in dlt.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tap_analytics.config.urls import validate_base_url

#: dlt's placeholder contexts (`{resources.<parent>.<field>}`, `{incremental.start_value}`).
CONTEXTS = ("resources", "incremental")
NOT_YET = (
    "placeholders of the resources./incremental. contexts (dependent resources, incremental "
    "values in a path) are not supported yet"
)
_BRACES = "write {{ and }} for a literal brace"


def _fields(text: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder) pairs of `text`; ValueError on an unmatched brace."""
    return [(literal, field) for literal, field, _, _ in string.Formatter().parse(text)]


def _placeholder_error(field: str, setting: str) -> str:
    if field.split(".", 1)[0] in CONTEXTS and "." in field:
        return f"{setting}: {{{field}}}: {NOT_YET}"
    return f"{setting}: {{{field}}} is not a placeholder the tap can fill here; {_BRACES}"


def bind_path(
    path: str, params: Mapping[str, Any], setting: str
) -> tuple[str, dict[str, Any], list[str]]:
    """The path with its placeholders filled from `params`, the params left to send, and
    the problems (`setting` is the path's setting name)."""
    try:
        parts = _fields(path)
    except ValueError:
        return path, dict(params), [f"{setting}: {path!r} has an unmatched brace; {_BRACES}"]
    left = dict(params)
    pieces: list[str] = []
    errors: list[str] = []
    missing: list[str] = []
    for literal, field in parts:
        pieces.append(literal)
        if field is None:
            continue
        if not field:
            errors.append(f"{setting}: {{}} names no parameter; {_BRACES}")
        elif "." in field:
            errors.append(_placeholder_error(field, setting))
        elif field not in params:
            missing.append(repr(field))
        elif isinstance(params[field], Mapping):
            pass  # reported by the params check (resolve / incremental are not path values)
        else:
            pieces.append(str(left.pop(field)))
    if missing:
        errors.append(
            f"{setting}: {path!r} needs a parameter named {', '.join(missing)} in endpoint.params"
        )
    return "".join(pieces), left, errors


def literal(value: Any, setting: str) -> tuple[Any, list[str]]:
    """`value` with `{{`/`}}` turned into braces in every string (and mapping key), and an
    error for every placeholder: only a path can have placeholders the tap fills."""
    if isinstance(value, str):
        try:
            parts = _fields(value)
        except ValueError:
            return value, [f"{setting}: {value!r} has an unmatched brace; {_BRACES}"]
        errors = [_placeholder_error(field, setting) for _, field in parts if field is not None]
        return "".join(text for text, _ in parts), errors
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        errors = []
        for key, item in value.items():
            new_key, key_errors = literal(key, setting)
            new_item, item_errors = literal(item, f"{setting}.{key}")
            out[new_key] = new_item
            errors += key_errors + item_errors
        return out, errors
    if isinstance(value, list | tuple):
        items = [literal(item, f"{setting}[{i}]") for i, item in enumerate(value)]
        return [item for item, _ in items], [e for _, errs in items for e in errs]
    return value, []


def single_entity(path: str) -> bool:
    """dlt's `single_entity_path`: the last segment is a placeholder (`users/{id}`), so
    the endpoint answers one object and needs no paginator."""
    try:
        return any(field for _, field in _fields(PurePosixPath(path).name))
    except ValueError:
        return False


def is_absolute(path: str) -> bool:
    """dlt's rule (`RESTClient._create_request`): an http(s) URL is used as it is, anything
    else is joined to the base URL."""
    return urlsplit(path).scheme.lower() in {"http", "https"}


def absolute_path_error(path: str, setting: str, *, allow_insecure: bool) -> str | None:
    """An absolute URL as a path is used as it is (dlt does the same); it must be one the
    tap may send credentials to."""
    return validate_base_url(path, setting, allow_insecure=allow_insecure)

"""Placeholders and braces in endpoint settings, and absolute URLs as paths.

As dlt's `_bind_path_params` does: `{name}` in `endpoint.path` is filled from
`endpoint.params[name]`, which is then not sent as a query parameter; `{{` and `}}` are
a literal brace -- in the path and in every string of params, headers, json and data
(dlt expands placeholders there too). These settings stay templates (see
`tap_analytics.templates`), expanded per request: `{resources.<parent>.<field>}` anywhere
(a dependent resource, see `config.dependents`), `{incremental.*}` where the endpoint has an
`incremental`, a `resolve` param's `{name}` in the path; any other placeholder outside the
path is an error, as in dlt.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tap_analytics.config.urls import validate_base_url
from tap_analytics.templates import escape

#: dlt's placeholder contexts (`{resources.<parent>.<field>}`, `{incremental.start_value}`).
CONTEXTS = ("resources", "incremental")
_BRACES = "write {{ and }} for a literal brace"


def _fields(text: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder) pairs of `text`; ValueError on an unmatched brace."""
    return [(literal, field) for literal, field, _, _ in string.Formatter().parse(text)]


def _placeholder_error(field: str, setting: str, contexts: frozenset[str]) -> str | None:
    """Why `{field}` cannot be filled at request time, or None when it can."""
    context = field.split(".", 1)[0]
    if context == "resources" and "." in field:
        if len(field.split(".", 2)) == 3 and all(field.split(".", 2)):
            return None
        return (
            f"{setting}: {{{field}}}: a parent's field is written "
            "{resources.<parent resource>.<field>}"
        )
    if "." in field and context in contexts:
        return None
    if context == "incremental" and "." in field:
        return (
            f"{setting}: {{{field}}}: an incremental placeholder needs endpoint.incremental "
            "(its cursor_path and initial_value)"
        )
    return f"{setting}: {{{field}}} is not a placeholder the tap can fill here; {_BRACES}"


def bind_path(
    path: str, params: Mapping[str, Any], setting: str, contexts: frozenset[str] = frozenset()
) -> tuple[str, dict[str, Any], list[str]]:
    """The path as a request template: `{name}` filled from `params` (the params left to
    send are returned), placeholders of `contexts` kept for request time, literal braces
    escaped; and the problems (`setting` is the path's setting name)."""
    try:
        parts = _fields(path)
    except ValueError:
        return path, dict(params), [f"{setting}: {path!r} has an unmatched brace; {_BRACES}"]
    left = dict(params)
    pieces: list[str] = []
    errors: list[str] = []
    missing: list[str] = []
    for literal, field in parts:
        pieces.append(escape(literal))
        if field is None:
            continue
        if not field:
            errors.append(f"{setting}: {{}} names no parameter; {_BRACES}")
        elif "." in field:
            if (error := _placeholder_error(field, setting, contexts)) is not None:
                errors.append(error)
            pieces.append(f"{{{field}}}")
        elif field not in params:
            missing.append(repr(field))
        elif isinstance(params[field], Mapping):
            pieces.append(f"{{{field}}}")  # a resolve param: filled per parent record
        else:
            pieces.append(escape(str(left.pop(field))))
    if missing:
        errors.append(
            f"{setting}: {path!r} needs a parameter named {', '.join(missing)} in endpoint.params"
        )
    return "".join(pieces), left, errors


def template_errors(value: Any, setting: str, contexts: frozenset[str] = frozenset()) -> list[str]:
    """The problems of a request template (params, headers, a body): every placeholder
    must name one of `contexts`; `{{`/`}}` are literal braces, expanded at request time."""
    if isinstance(value, str):
        try:
            parts = _fields(value)
        except ValueError:
            return [f"{setting}: {value!r} has an unmatched brace; {_BRACES}"]
        return [
            error
            for _, field in parts
            if field is not None and (error := _placeholder_error(field, setting, contexts))
        ]
    if isinstance(value, Mapping):
        errors: list[str] = []
        for key, item in value.items():
            errors += template_errors(key, setting, contexts)
            errors += template_errors(item, f"{setting}.{key}", contexts)
        return errors
    if isinstance(value, list | tuple):
        return [e for i, item in enumerate(value) for e in template_errors(item, f"{setting}[{i}]", contexts)]
    return []


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

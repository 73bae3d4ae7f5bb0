"""Dependent resources in the config: dlt's `resolve` params and `{resources.<parent>.<field>}`
placeholders made into one `ParentSpec` per child, and the checks across resources.

As dlt's `build_resource_dependency_graph` does: a `resolve` param must be bound in the path
(`posts/{post_id}/comments`), a placeholder may stand in the path, params, headers or body;
all of them must name one parent, a resource the config defines; `include_from_parent` is only
for a dependent resource; resources that depend on each other in a circle cannot be synced.
`dependency_order` puts every parent before its children (dlt's topological order).
"""

from __future__ import annotations

import graphlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tap_analytics.config.keys import closest_key, unknown_key_errors
from tap_analytics.config.specs import ParentSpec, ResourceSpec
from tap_analytics.templates import RESOURCES, expressions

#: dlt's `ResolveParamConfig`.
RESOLVE_KEYS = frozenset({"type", "resource", "field"})

#: A resolve param: (param name, parent resource, field path in the parent record).
Resolved = tuple[str, str, str]


def resolve_param(name: str, item: Mapping[str, Any], setting: str) -> tuple[Resolved | None, list[str]]:
    """A `{type: resolve, resource, field}` query parameter (`setting` names it)."""
    errors = unknown_key_errors(item, RESOLVE_KEYS, setting)
    resource, field = item.get("resource"), item.get("field")
    if not isinstance(resource, str) or not resource.strip():
        errors.append(f"{setting}.resource: required, the name of the parent resource")
    if not isinstance(field, str) or not field.strip():
        errors.append(f"{setting}.field: required, the parent record's field (a name or a JSONPath)")
    if errors:
        return None, errors
    return (name, str(resource), str(field)), []


def unbound_resolve_errors(resolved: Sequence[Resolved], path: str, setting: str) -> list[str]:
    """dlt binds a resolve param in the path only: one the path never names is an error."""
    try:
        named = expressions(path)
    except ValueError:  # an unmatched brace: reported by the path's own check
        return []
    return [
        f"{setting}.{name}: a resolve param must be bound in endpoint.path as {{{name}}}; to "
        f"send a parent's field as a query parameter write {{resources.{resource}.{field}}}"
        for name, resource, field in resolved
        if name not in named
    ]


def parent_of(
    where: str,
    resolved: Sequence[Resolved],
    templates: Mapping[str, Any],
    include: Any,
    names: Collection[str],
) -> tuple[ParentSpec | None, list[str]]:
    """The parent of the resource at `where`: from its resolve params and the
    `{resources.*}` placeholders of its `templates` (setting name -> template), which
    must all name one resource of `names`; and `include_from_parent`'s fields."""
    references: list[tuple[str, str, str, str]] = [  # (setting, placeholder, resource, field)
        (f"{where}.endpoint.params.{name}", name, resource, field) for name, resource, field in resolved
    ]
    for setting, template in templates.items():
        try:
            found = expressions(template)
        except ValueError:  # an unmatched brace: reported by the template's own check
            continue
        for expression in sorted(found):
            parts = expression.split(".", 2)
            if parts[0] == RESOURCES and len(parts) == 3:
                references.append((f"{where}.{setting}", expression, parts[1], parts[2]))
    errors: list[str] = []
    fields, include_errors = _include(include, where)
    errors += include_errors
    parents = sorted({resource for _, _, resource, _ in references})
    if not parents:
        if fields:
            errors.append(
                f"{where}.include_from_parent: only a dependent resource has a parent to include "
                "fields from (one with a resolve param or a {resources.<parent>.<field>} placeholder)"
            )
        return None, errors
    if len(parents) > 1:
        errors.append(
            f"{where}: its placeholders and resolve params name {len(parents)} parent resources "
            f"({', '.join(parents)}); a dependent resource has exactly one parent"
        )
        return None, errors
    parent = parents[0]
    if parent not in names:
        setting, placeholder = next((s, p) for s, p, r, _ in references if r == parent)
        guess = closest_key(parent, names)
        hint = f"did you mean {guess!r}?" if guess else f"known: {', '.join(sorted(names))}"
        what = f"{{{placeholder}}} names" if placeholder.startswith(f"{RESOURCES}.") else "resolves from"
        errors.append(
            f"{setting}: {what} the parent resource {parent!r}, which the config does not "
            f"define; {hint}"
        )
        return None, errors
    values: dict[str, str] = {}
    for _, placeholder, _, field in references:
        values.setdefault(placeholder, field)
    return ParentSpec(parent, tuple(values.items()), fields), errors


def _include(value: Any, where: str) -> tuple[tuple[str, ...], list[str]]:
    if value is None:
        return (), []
    if not isinstance(value, list) or not all(isinstance(f, str) and f for f in value):
        return (), [f"{where}.include_from_parent: must be a list of the parent's field names"]
    return tuple(dict.fromkeys(value)), []


def cycle_errors(specs: Sequence[ResourceSpec]) -> list[str]:
    """Resources that depend on each other in a circle (a resource on itself included)."""
    try:
        _sorter(specs).prepare()
    except graphlib.CycleError as exc:
        circle = " -> ".join(exc.args[1])
        return [
            f"resources: {circle} depend on each other in a circle; a parent must not "
            "depend on its child"
        ]
    return []


def dependency_order(specs: Sequence[ResourceSpec]) -> list[ResourceSpec]:
    """`specs` with every parent before its children, otherwise in config order."""
    by_name = {spec.name: spec for spec in specs}
    position = {spec.name: index for index, spec in enumerate(specs)}
    sorter = _sorter(specs)
    sorter.prepare()
    ordered: list[ResourceSpec] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        ordered += [by_name[name] for name in ready]
        sorter.done(*ready)
    return ordered


def _sorter(specs: Sequence[ResourceSpec]) -> graphlib.TopologicalSorter[str]:
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for spec in specs:
        if spec.parent is not None:
            sorter.add(spec.name, spec.parent.resource)
        else:
            sorter.add(spec.name)
    return sorter

"""Which paginator a first response shows: dlt's detection rules, in dlt's order.

`dlt.sources.helpers.rest_client.detector`: a `Link` header with `rel="next"`; a key
starting with `next` (at any depth, or its `href`/`url`) holding a URL (absolute or
starting with `/`); a `total_pages`/`pages`/`totalpages` number (page numbers); a
`next...` key holding anything else (a cursor, sent as `cursor`); else a single page.
Beyond dlt: when that fallback meets a response that visibly pages -- `has_more` true, a
total above the records received, a next link or cursor under a key dlt does not read --
detection fails with one line instead of reading one page of many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tap_analytics.paging.base import Page, PagingError
from tap_analytics.paging.links import link_header_url
from tap_analytics.selectors import as_bool, as_int, selector_of

NEXT_KEY = re.compile("next")
NEXT_DICT_KEYS = (re.compile("href"), re.compile("url"))
TOTAL_PAGES_KEYS = (re.compile("^total_pages$"), re.compile("^pages$"), re.compile("^totalpages$"))

#: Paging hints no rule reads (see `paging_hints`): key names, lower-cased.
HAS_MORE_KEY = re.compile(r"^(has_?more|has_?next(_?page)?|more_?available|more)$")
TOTAL_KEY = re.compile(
    r"^(total|count|total_?count|total_?results|total_?items|total_?records|total_?entries"
    r"|total_?hits|total_?size|num_?results|result_?count)$"
)
REFERENCE_KEY = re.compile(r"next|cursor|continuation|page_?token|scroll_?id")
HEADER_TOTAL = ("x-total-count", "x-total", "total-count")
HEADER_REFERENCE = re.compile(r"^(next|x-next.*|x-continuation.*|x-cursor.*|.*-next-cursor)$")


@dataclass(frozen=True)
class Detected:
    """A detected paginator: its config entry and how the log says it pages."""

    config: dict[str, Any]
    description: str


def _matches(key: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    lowered = key.lower()
    return any(pattern.match(lowered) for pattern in patterns)


def find_next_page_path(body: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...] | None, Any]:
    """dlt's `find_next_page_path`: the first key starting with `next` whose value is a
    scalar (or an object with an `href`/`url` scalar), depth first."""
    if not isinstance(body, dict):
        return None, None
    for key, value in body.items():
        if _matches(key, (NEXT_KEY,)):
            if isinstance(value, dict):
                for inner_key, inner in value.items():
                    if _matches(inner_key, NEXT_DICT_KEYS) and _scalar(inner):
                        return (*path, key, inner_key), inner
            elif _scalar(value):
                return (*path, key), value
        if isinstance(value, dict):
            found = find_next_page_path(value, (*path, key))
            if found[0] is not None:
                return found
    return None, None


def find_total_pages_path(body: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...] | None, Any]:
    """dlt's `find_total_pages_path`: the first `total_pages`-like scalar, depth first."""
    if not isinstance(body, dict):
        return None, None
    for key, value in body.items():
        if _matches(key, TOTAL_PAGES_KEYS) and _scalar(value):
            return (*path, key), value
        if isinstance(value, dict):
            found = find_total_pages_path(value, (*path, key))
            if found[0] is not None:
                return found
    return None, None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def detect(page: Page) -> Detected:
    """The paginator `page` (a first response) shows; a `PagingError` when it visibly
    pages in a way no rule reads."""
    if link_header_url(page.header("Link"), "next"):
        return Detected({"type": "header_link"}, 'paging by the `Link: rel="next"` header')
    next_path, next_value = find_next_page_path(page.body)
    if next_path is not None and isinstance(next_value, str) and next_value.startswith(("http", "/")):
        where = selector_of(next_path)
        return Detected(
            {"type": "json_link", "next_url_path": where}, f"paging by the `{where}` URL in the body"
        )
    pages_path, pages = find_total_pages_path(page.body)
    if pages_path is not None and as_int(pages) is not None:
        where = selector_of(pages_path)
        return Detected(
            {"type": "page_number", "total_path": where},
            f"paging by page number, `{where}` pages in all",
        )
    if next_path is not None:
        where = selector_of(next_path)
        return Detected(
            {"type": "cursor", "cursor_path": where, "cursor_param": "cursor"},
            f"paging by the cursor at `{where}` in the body, sent as the `cursor` parameter",
        )
    hints = paging_hints(page)
    if hints:
        msg = (
            f"the first response shows paging ({'; '.join(hints)}) but no paginator rule "
            "matches it, so one page would be read of many: set endpoint.paginator (e.g. "
            '{"type": "offset", "limit": 100} or {"type": "json_link", "next_url_path": ...})'
        )
        raise PagingError(msg)
    return Detected({"type": "single_page"}, "one page: the first response shows no paging")


def paging_hints(page: Page) -> list[str]:
    """Signs of more pages that no detection rule reads, outside the records; none for a
    body that is one record (an object holding no list)."""
    hints: list[str] = []
    if isinstance(page.body, dict) and _holds_list(page.body, 0):
        _body_hints(page.body, (), page.count, hints)
    for name, value in page.headers.items():
        lowered = name.lower()
        number = as_int(value) if lowered in HEADER_TOTAL else None
        if number is not None and number > page.count:
            hints.append(f"header `{name}: {value}` for {page.count} records")
        elif HEADER_REFERENCE.match(lowered) and str(value).strip():
            hints.append(f"header `{name}` names a next page")
        elif lowered == "x-has-more" and as_bool(value):
            hints.append(f"header `{name}: {value}`")
    return hints


def _holds_list(node: dict[str, Any], depth: int) -> bool:
    return depth <= 2 and any(
        isinstance(v, list) or (isinstance(v, dict) and _holds_list(v, depth + 1)) for v in node.values()
    )


def _body_hints(node: dict[str, Any], path: tuple[str, ...], count: int, hints: list[str]) -> None:
    if len(path) > 2:
        return
    for key, value in node.items():
        where, lowered = selector_of((*path, key)), key.lower()
        if isinstance(value, dict):
            _body_hints(value, (*path, key), count, hints)
        elif HAS_MORE_KEY.match(lowered) and as_bool(value):
            hints.append(f"`{where}` is {value!r}")
        elif TOTAL_KEY.match(lowered) and (as_int(value) or 0) > count:
            hints.append(f"`{where}` is {value!r} for {count} records")
        elif REFERENCE_KEY.search(lowered) and _scalar(value) and str(value).strip():
            hints.append(f"`{where}` names a next page")

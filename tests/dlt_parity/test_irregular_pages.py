"""Short pages in the middle of the data: dlt reads on to an empty page, and so must the tap.

An API that filters rows after cutting the page (hidden or deleted items, permissions) answers
pages shorter than asked before the data ends, and without a total nothing else says where it
ends. dlt's offset and page_number paginators stop on an empty page only ("a short page does not
stop it"), so they load every record; a tap that took the first short page for the tail would
lose the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.helpers import TinyServer, json_body

from .harness import assert_same_records, dlt_records, tap_records

RECORDS = [{"id": i, "name": f"item {i}"} for i in range(1, 101)]


def _visible(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the API shows of a page it has cut: every seventh item is hidden."""
    return [row for row in rows if row["id"] % 7]


def _by_offset(query: dict[str, str]) -> tuple[int, bytes, str]:
    offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
    return json_body({"items": _visible(RECORDS[offset : offset + limit])})


def _by_page(query: dict[str, str]) -> tuple[int, bytes, str]:
    page, size = int(query.get("page", 1)), int(query.get("per_page", 10))
    return json_body({"items": _visible(RECORDS[(page - 1) * size : page * size])})


@pytest.fixture
def server() -> Iterator[TinyServer]:
    with TinyServer(routes={"/by_offset": _by_offset, "/by_page": _by_page}) as srv:
        yield srv


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("by_offset", {"paginator": {"type": "offset", "limit": 20, "total_path": None}}),
        (
            "by_page",
            {
                "params": {"per_page": 20},
                "paginator": {"type": "page_number", "base_page": 1, "total_path": None},
            },
        ),
    ],
    ids=["offset", "page_number"],
)
def test_a_short_page_before_the_end_is_not_the_end(
    server: TinyServer, path: str, endpoint: dict[str, Any]
) -> None:
    config = {
        "client": {"base_url": server.base_url},
        "resources": [{"name": "items", "endpoint": {"path": path, "data_selector": "items", **endpoint}}],
    }
    dlt_side = dlt_records(config)
    assert [r["id"] for r in dlt_side["items"]] == [r["id"] for r in _visible(RECORDS)]
    tap_side, _ = tap_records(config)
    assert_same_records(dlt_side, tap_side, "items")

"""dlt's own `rest_api_source` walks every forum paging style with the obvious paginator config.

The smoke test that the sandbox's styles are what dlt's paginators of those names expect, and
the configs the dlt-parity suite can start from. dlt only iterates the resource (no pipeline, no
destination); its directories point into a tmp dir in case it writes anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from dlt.extract.exceptions import ResourceExtractionError
from dlt.sources.rest_api import rest_api_source

from sandbox import FORUM_STYLES, SandboxServer

MAX_PAGES = 50
#: style -> (client paginator config, endpoint data_selector)
PAGINATORS: dict[str, tuple[dict[str, Any], str]] = {
    "offset": ({"type": "offset", "limit": 25, "total_path": "total"}, "data"),
    "page": ({"type": "page_number", "base_page": 1, "total_path": "total_pages"}, "data"),
    "page0": ({"type": "page_number", "base_page": 0, "total_path": "total_pages"}, "items"),
    "json_link": ({"type": "json_link", "next_url_path": "next"}, "results"),
    "json_link_relative": ({"type": "json_link", "next_url_path": "links.next"}, "data"),
    "odata": ({"type": "json_link", "next_url_path": "['@odata.nextLink']"}, "value"),
    "header_link": ({"type": "header_link"}, "$"),
    "cursor": ({"type": "cursor", "cursor_path": "cursors.next", "cursor_param": "cursor"}, "items"),
    "next_cursor": ({"type": "cursor", "cursor_path": "meta.next_cursor", "cursor_param": "after"}, "data"),
    "header_cursor": ({"type": "header_cursor"}, "$"),
    "single": ({"type": "single_page"}, "$"),
    "wrapped_single": ({"type": "single_page"}, "data.posts"),
}
#: POST /forum/search/posts: (endpoint json body, paginator config); data_selector "data".
SEARCH: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "page": (
        {"per_page": 25},
        {"type": "page_number", "base_page": 1, "page_body_path": "page", "total_path": None},
    ),
    "cursor": ({"limit": 25}, {"type": "cursor", "cursor_path": "next_cursor", "cursor_body_path": "cursor"}),
    "offset": (
        {"paging": {"limit": 25}},
        {
            "type": "offset",
            "limit": 25,
            "offset_body_path": "paging.offset",
            "limit_body_path": "paging.limit",
            "total_path": "total",
        },
    ),
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One server for the module: these tests only read, and each resets the request log."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("dlt")
        for var in ("DLT_DATA_DIR", "DLT_PROJECT_DIR", "DLT_LOCAL_DIR"):
            mp.setenv(var, str(home))
        mp.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
        mp.setenv("RUNTIME__LOG_LEVEL", "WARNING")
        with SandboxServer(records=1) as server:
            yield server


def load(srv: SandboxServer, endpoint: dict[str, Any], paginator: dict[str, Any]) -> list[dict[str, Any]]:
    srv.reset_log()
    source = rest_api_source(
        {
            "client": {"base_url": f"{srv.api_url('forum')}/", "paginator": paginator},
            "resources": [{"name": "posts", "endpoint": endpoint}],
        }
    )
    return list(source.with_resources("posts").add_limit(MAX_PAGES))  # bounded, should dlt loop


def test_every_style_has_a_config() -> None:
    assert set(PAGINATORS) == set(FORUM_STYLES)


@pytest.mark.parametrize("style", list(PAGINATORS))
def test_dlt_walks_each_style(srv: SandboxServer, style: str) -> None:
    paginator, selector = PAGINATORS[style]
    posts = load(srv, {"path": f"{style}/posts", "data_selector": selector}, paginator)
    assert posts == srv.records("forum/posts")
    pages = 1 if paginator["type"] == "single_page" else math.ceil(len(posts) / 25)
    assert srv.data_request_count(f"forum/{style}/posts") == pages  # no probe past the end


@pytest.mark.parametrize("form", list(SEARCH))
def test_dlt_walks_post_search_bodies(srv: SandboxServer, form: str) -> None:
    body, paginator = SEARCH[form]
    endpoint = {"path": "search/posts", "method": "POST", "json": body, "data_selector": "data"}
    assert load(srv, endpoint, paginator) == srv.records("forum/posts")
    # The page form's `total` counts posts, not pages, so dlt stops on the first empty page.
    assert srv.data_request_count("forum/search/posts") == 10 + (form == "page")


@pytest.mark.parametrize(
    ("paginator", "bad_page"),
    [
        ({"type": "page_number", "total_path": "total_pages"}, "page=0"),  # dlt's base_page is 0
        ({"type": "page_number", "base_page": 1}, "page=11"),  # dlt's total_path "total" = N posts
    ],
)
def test_dlt_page_number_defaults_do_not_fit_the_page_style(
    srv: SandboxServer, paginator: dict[str, Any], bad_page: str
) -> None:
    with pytest.raises(ResourceExtractionError, match=rf"404 Client Error.*{bad_page}"):
        load(srv, {"path": "page/posts", "data_selector": "data"}, paginator)

"""Fixtures of the forum API's tests: a fresh sandbox per test and a GET helper bound to it.

`test_server.py` defines its own `srv` (a bigger seed data set), which overrides this one there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from sandbox import SandboxServer

TIMEOUT = 5
Get = Callable[..., requests.Response]


@pytest.fixture
def srv() -> Iterator[SandboxServer]:
    """The forum at its defaults (230 posts, 17 users); one record per seed resource."""
    with SandboxServer(records=1) as server:
        yield server


@pytest.fixture
def forum_get(srv: SandboxServer) -> Get:
    """``forum_get("/offset/posts", params=...)``: GET below ``srv.api_url("forum")``."""

    def get(path: str, **kw: Any) -> requests.Response:
        return requests.get(f"{srv.api_url('forum')}{path}", timeout=TIMEOUT, **kw)

    return get

"""Pytest fixtures for the DRF test API; import them into a conftest to use them elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import DRFServer


@pytest.fixture
def make_drf_server() -> Iterator[Callable[..., DRFServer]]:
    """Start a DRFServer with the given options; every one started is stopped after the test."""
    started: list[DRFServer] = []

    def make(**options: Any) -> DRFServer:
        srv = DRFServer(**options).start()
        started.append(srv)
        return srv

    yield make
    for srv in reversed(started):
        srv.stop()


@pytest.fixture
def drf_server(make_drf_server: Callable[..., DRFServer]) -> DRFServer:
    """A fresh DRF server with the default options (120 items, pages of 50, Asia/Kolkata)."""
    return make_drf_server()

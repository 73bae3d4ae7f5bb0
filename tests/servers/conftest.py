"""Fixtures of the in-process API servers (``drf_server``, ``make_drf_server``)."""

from tests.servers.drf.fixtures import drf_server, make_drf_server

__all__ = ["drf_server", "make_drf_server"]

"""Per-server request context: the time zone DRF renders in, paging options, and the request log.

All servers of a process share one Django project, so what differs per server travels in
the WSGI environ (``DRFServer`` puts a :class:`ServeContext` there) and this middleware
applies it to each request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

ENVIRON_KEY = "tests.servers.drf.context"


@dataclass(frozen=True)
class LoggedRequest:
    """One served request: enough to count pages and check auth, never a credential."""

    method: str
    path: str
    query: str
    status: int
    #: The Authorization header's scheme ("Bearer", "Basic"), None without the header.
    auth_scheme: str | None
    params: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ServeContext:
    """What one server changes about the shared project."""

    time_zone: ZoneInfo
    page_size: int
    max_page_size: int | None
    record: Callable[[LoggedRequest], None]


def context_of(request: Any) -> ServeContext:
    """The context of the server that received ``request`` (a Django or DRF request)."""
    ctx: ServeContext = request.META[ENVIRON_KEY]
    return ctx


class RequestLogMiddleware:
    """Activates the server's time zone (DRF's DateTimeField renders in it) and logs the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = context_of(request)
        timezone.activate(ctx.time_zone)
        try:
            response = self.get_response(request)
        finally:
            timezone.deactivate()
        header = request.META.get("HTTP_AUTHORIZATION", "")
        query = request.META.get("QUERY_STRING", "")
        ctx.record(
            LoggedRequest(
                method=request.method or "",
                path=request.path,
                query=query,
                status=response.status_code,
                auth_scheme=header.split(" ", 1)[0] if header else None,
                params=parse_qs(query, keep_blank_values=True),
            )
        )
        return response

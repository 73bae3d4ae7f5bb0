"""URL map of the DRF test API: DOT's OAuth2 endpoints, the item views under ``/api/`` and ``/open/``."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from oauth2_provider.urls import base_urlpatterns
from rest_framework.routers import SimpleRouter

from . import api

_LISTS: tuple[tuple[str, type[Any], str], ...] = (
    ("limit-offset/items", api.LimitOffsetItems, "limit-offset-items"),
    ("page-number/items", api.PageNumberItems, "page-number-items"),
    ("cursor/items", api.CursorItems, "cursor-items"),
    ("cursor-updated/items", api.CursorUpdatedItems, "cursor-updated-items"),
    ("items", api.Items, "items"),
)


def _routes(protected: bool) -> list[Any]:
    """One router per mount; ``/open/`` gets the same views without authentication."""
    wrap = (lambda view: view) if protected else api.open_variant
    router = SimpleRouter()
    for prefix, view, basename in _LISTS:
        router.register(prefix, wrap(view), basename=basename)
    return [
        *router.urls,
        path("items/<int:item_id>/comments/", wrap(api.ItemComments).as_view(), name="item-comments"),
    ]


urlpatterns = [
    # token/, revoke_token/, introspect/, authorize/ (DOT's management views need templates: left out)
    path("o/", include((base_urlpatterns, "oauth2_provider"), namespace="oauth2_provider")),
    path("api/", include((_routes(protected=True), "api"), namespace="api")),
    path("open/", include((_routes(protected=False), "open"), namespace="open")),
]

"""A real Django REST Framework + django-oauth-toolkit API that tests start in-process.

Usage::

    with DRFServer(items=120, page_size=50) as srv:
        grant = {"grant_type": "client_credentials"}
        token = requests.post(srv.token_url, data=grant, auth=(srv.client_id, srv.client_secret)).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        requests.get(srv.url("/api/cursor/items/"), headers=auth)
        assert srv.count("/api/cursor/items/") == 1

Endpoints (all ordered by ``id`` unless noted; ``/open/...`` mounts the same views with no
authentication, ``/api/...`` needs a DOT bearer token with the ``read`` scope):

* ``limit-offset/items/`` LimitOffsetPagination, ``page-number/items/`` PageNumberPagination
  (``page_size`` query parameter; a page past the last is DRF's 404 ``{"detail": "Invalid page."}``),
  ``cursor/items/`` CursorPagination by id, ``cursor-updated/items/`` by ``updated_at``, id;
* ``items/`` every item unpaginated, ``items/{id}/``, ``items/{id}/comments/`` (page-number);
* ``updated_since`` (>=) / ``updated_until`` (<) ISO 8601 filters on every list;
* ``/o/token/`` (client_credentials, refresh_token with rotation), ``/o/revoke_token/`` (RFC 7009).

Wire types are documented in :mod:`.api`.
"""

from .middleware import LoggedRequest
from .server import DRFServer

__all__ = ["DRFServer", "LoggedRequest"]

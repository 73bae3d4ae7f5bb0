"""The sandbox's sixth API, ``forum``: routes, auth modes, children, POST search and redirects.

It exists so every dlt rest_api paginator, auth type and resource shape can be run against one
local server (contract: the dlt-parity suite's ``forum_contract.md``). Data comes from
:mod:`sandbox.forum_data`, the twelve paging styles from :mod:`sandbox.forum_paging` (whose
docstring lists the paging choices). Like the seed APIs, every request is logged, counted per
resource (the route pattern, e.g. ``forum/offset/posts``, ``forum/posts/{id}/comments``),
delayed by ``latency_ms`` and subject to injected and random faults.

Choices where the contract is silent:

- Auth (``forum_auth``) guards every forum endpoint but the redirect helper and the token
  endpoint (which authenticates clients itself and is always there). A refused request is
  logged with no resource and not counted, as the seed APIs do; an unknown path is a 404 only
  once authenticated. "bearer" takes only ``credentials["forum"]["token"]``, "oauth2" only
  tokens its endpoint issued (so each mode refuses the other's token). Bearer and oauth2
  refusals carry ``WWW-Authenticate: Bearer realm="forum"``.
- 404s of the forum (unknown path, deleted or unknown post, user or comment) answer
  ``{"detail": "Not found."}``; a wrong method is a 405 with ``Allow``.
- ``GET /forum/posts/{id}/comments`` takes ``offset``/``limit`` (default 25, max 100);
  reactions of a comment that is not the post's are a 404; ``posts_by_user`` of an unknown user
  is a 404, of a user without posts an empty list. ``posts_by_user`` and search are posts
  listings too: the filters and ``sort`` of the query string apply to them.
- ``POST /forum/search/posts``: a body with a ``paging`` object is the offset form; else one
  with ``cursor``, or with ``limit`` but neither ``page`` nor ``per_page``, is the cursor form;
  else the page form (``page`` default 1, ``per_page`` default 25; a page past the end has
  empty ``data``). ``total`` is the number of matching posts (not pages). ``filter.tags``
  matches posts with any of the tags; ``filter`` may also carry ``updated_since``,
  ``updated_until`` and ``id_after`` (overriding the query string's), so incremental loads can
  put the start value in the body.
- ``GET /forum/redirect`` takes any method; its JSON body is ``{"redirect": to}``; a missing
  ``to`` or a status outside 301/302/303/307/308 is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import quote

from .auth import AuthMixin
from .collection import _parse_since
from .forum_data import SORTS, ForumStore, PostQuery
from .forum_paging import STYLES, Listing, page_size
from .transport import HOST, _BadRequest, _json, _Response, int_param

FORUM_AUTH_MODES = ("none", "bearer", "basic", "api_key_header", "api_key_query", "api_key_cookie", "oauth2")
API_KEY_HEADER = "X-API-Key"
API_KEY_PARAM = "api_key"
API_KEY_COOKIE = "session_key"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_NOT_FOUND = {"detail": "Not found."}


def check_forum_auth(mode: str) -> str:
    if mode not in FORUM_AUTH_MODES:
        raise ValueError(f"unknown forum_auth {mode!r}: use one of {FORUM_AUTH_MODES}")
    return mode


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  #: full path, e.g. /forum/offset/posts
    query: dict[str, str]
    body: bytes
    origin: str  #: http://<Host header>
    ids: tuple[int, ...]  #: the route's numeric path segments


Handler = Callable[["ForumMixin", _Request], _Response]


@dataclass(frozen=True)
class _Route:
    key: str  #: resource key in counters and the request log
    pattern: re.Pattern[str]
    method: str  #: "GET", "POST" or "*" (any)
    handler: Handler


def _as_query(obj: dict[str, Any], name: str) -> dict[str, str]:
    """A JSON body's integer field as a query parameter, so body and query paging share parsing."""
    value = obj.get(name)
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _BadRequest(f"{name} must be an integer")
    return {name: str(value)}


def _found(obj: Any) -> _Response:
    return _json(404, _NOT_FOUND) if obj is None else _json(200, obj)


class ForumMixin(AuthMixin):
    """The forum API of :class:`SandboxServer`."""

    _forum_store: ForumStore
    forum_auth: str
    port: int

    # ------------------------------------------------------------ dispatch
    def _forum(
        self, method: str, rest: str, path: str, query: dict[str, str], headers: Message, body: bytes
    ) -> tuple[_Response, str | None]:
        """Serve ``/forum<rest>``; returns the response and the resource key it counted."""
        route, ids = _match(rest)
        if route is None or route.key != "forum/redirect":
            denied = self._forum_auth_error(headers, query)
            if denied is not None:
                return denied, None
        if route is None:
            return _json(404, _NOT_FOUND), None
        host = headers.get("Host") or f"{HOST}:{self.port}"
        req = _Request(method, path, query, body, f"http://{host}", ids)
        with self._counted(route.key):
            if route.method not in ("*", method):
                detail = {"detail": f'Method "{method}" not allowed.'}
                return _json(405, detail, [("Allow", route.method)]), route.key
            return self._serve_faulted(path, lambda: route.handler(self, req)), route.key

    def _forum_auth_error(self, headers: Message, query: dict[str, str]) -> _Response | None:
        """None when the request carries the credential ``forum_auth`` asks for, else a 401."""
        mode, creds = self.forum_auth, self._creds["forum"]
        challenge: list[tuple[str, str]] = []
        if mode == "none":
            return None
        if mode in ("bearer", "oauth2"):
            scheme, _, token = (headers.get("Authorization") or "").partition(" ")
            token = token.strip()
            valid = token == creds["token"] if mode == "bearer" else self._access_token_ok("forum", token)
            ok = scheme.lower() == "bearer" and bool(token) and valid
            challenge.append(("WWW-Authenticate", 'Bearer realm="forum"'))
        elif mode == "basic":
            ok = _basic_credentials(headers) == (creds["username"], creds["password"])
            challenge.append(("WWW-Authenticate", 'Basic realm="forum"'))
        elif mode == "api_key_header":
            ok = headers.get(API_KEY_HEADER) == creds["api_key"]
        elif mode == "api_key_query":
            ok = query.get(API_KEY_PARAM) == creds["api_key"]
        else:  # api_key_cookie
            ok = _cookie(headers, API_KEY_COOKIE) == creds["api_key"]
        return None if ok else _json(401, {"error": "unauthorized"}, challenge)

    # ------------------------------------------------------------ listings
    def _post_query(self, query: dict[str, str], **extra: Any) -> PostQuery:
        """The filters and order of a posts listing (a bad value is a 400)."""
        bounds: dict[str, float | None] = {}
        for name in ("updated_since", "updated_until"):
            raw = query.get(name)
            try:
                bounds[name] = _parse_since(raw) if raw else None
            except ValueError:
                raise _BadRequest(f"{name} must be an ISO-8601 timestamp") from None
        raw_id = query.get("id_after")
        try:
            id_after = int(raw_id) if raw_id else None
        except ValueError:
            raise _BadRequest("id_after must be an integer") from None
        sort = query.get("sort") or "id"
        if sort not in SORTS:
            raise _BadRequest(f"sort must be one of {SORTS}")
        return PostQuery(bounds["updated_since"], bounds["updated_until"], id_after, sort=sort, **extra)

    def _listing(self, req: _Request, style: str) -> _Response:
        q = self._post_query(req.query)
        keys, posts = self._forum_store.select(q)
        return STYLES[style](Listing(keys, posts, q.sort, req.path, req.query, req.origin))

    def _posts_by_user(self, req: _Request) -> _Response:
        (user_id,) = req.ids
        if self._forum_store.user(user_id) is None:
            return _json(404, _NOT_FOUND)
        return _json(200, self._forum_store.select(self._post_query(req.query, user_id=user_id))[1])

    def _search(self, req: _Request) -> _Response:
        try:
            body = json.loads(req.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise _BadRequest("the body must be JSON") from None
        filt = body.get("filter") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(filt or {}, dict):
            raise _BadRequest("the body and its filter must be JSON objects")
        filt = filt or {}
        tags = filt.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise _BadRequest("filter.tags must be a list of strings")
        overrides = {k: str(filt[k]) for k in ("updated_since", "updated_until", "id_after") if k in filt}
        q = self._post_query(req.query | overrides, tags=None if tags is None else tuple(tags))
        keys, posts = self._forum_store.select(q)
        if isinstance(body.get("paging"), dict):
            start = int_param(_as_query(body["paging"], "offset"), "offset", 0, 0)
            limit = page_size(_as_query(body["paging"], "limit"), "limit")
            return _json(200, {"data": posts[start : start + limit], "total": len(posts)})
        limit = page_size(_as_query(body, "limit"), "limit")
        if "cursor" in body or ("limit" in body and not {"page", "per_page"} & body.keys()):
            token = body.get("cursor")
            if token is not None and not isinstance(token, str):
                raise _BadRequest("invalid cursor")
            ls = Listing(keys, posts, q.sort, req.path, {}, req.origin)
            start = ls.start_after(token)
            return _json(
                200, {"data": posts[start : start + limit], "next_cursor": ls.next_cursor(start, limit)}
            )
        p = int_param(_as_query(body, "page"), "page", 1, 1)
        size = page_size(_as_query(body, "per_page"), "per_page")
        return _json(200, {"data": posts[(p - 1) * size : p * size], "total": len(posts)})

    # ------------------------------------------------------------ entities
    def _post(self, req: _Request) -> _Response:
        return _found(self._forum_store.post(req.ids[0]))

    def _comments(self, req: _Request) -> _Response:
        comments = self._forum_store.comments(req.ids[0])
        if comments is None:
            return _json(404, _NOT_FOUND)
        start = int_param(req.query, "offset", 0, 0)
        data = comments[start : start + page_size(req.query, "limit")]
        return _json(200, {"data": data, "total": len(comments)})

    def _reactions(self, req: _Request) -> _Response:
        return _found(self._forum_store.reactions(*req.ids))

    def _users(self, req: _Request) -> _Response:
        return _json(200, self._forum_store.users())

    def _user(self, req: _Request) -> _Response:
        return _found(self._forum_store.user(req.ids[0]))

    def _redirect(self, req: _Request) -> _Response:
        to = req.query.get("to")
        if not to:
            raise _BadRequest("to is required")
        status = int_param(req.query, "status", 302, 0)
        if status not in REDIRECT_STATUSES:
            raise _BadRequest(f"status must be one of {sorted(REDIRECT_STATUSES)}")
        return _json(status, {"redirect": to}, [("Location", quote(to, safe=":/?#[]@!$&'()*+,;=%~"))])


def _style_handler(style: str) -> Handler:
    return lambda srv, req: srv._listing(req, style)


def _route(key: str, regex: str, method: str, handler: Handler) -> _Route:
    return _Route(f"forum{key}", re.compile(regex), method, handler)


_ID = r"([0-9]{1,18})"
#: Matched in order: /search/posts before the /<style>/posts listings.
ROUTES: tuple[_Route, ...] = (
    _route("/search/posts", r"/search/posts", "POST", ForumMixin._search),
    *(_route(f"/{s}/posts", f"/{s}/posts", "GET", _style_handler(s)) for s in STYLES),
    _route("/posts/{id}", rf"/posts/{_ID}", "GET", ForumMixin._post),
    _route("/posts/{id}/comments", rf"/posts/{_ID}/comments", "GET", ForumMixin._comments),
    _route(
        "/posts/{id}/comments/{cid}/reactions",
        rf"/posts/{_ID}/comments/{_ID}/reactions",
        "GET",
        ForumMixin._reactions,
    ),
    _route("/users", r"/users", "GET", ForumMixin._users),
    _route("/users/{id}", rf"/users/{_ID}", "GET", ForumMixin._user),
    _route("/posts_by_user/{user_id}", rf"/posts_by_user/{_ID}", "GET", ForumMixin._posts_by_user),
    _route("/redirect", r"/redirect", "*", ForumMixin._redirect),
)


def _match(rest: str) -> tuple[_Route | None, tuple[int, ...]]:
    for route in ROUTES:
        m = route.pattern.fullmatch(rest)
        if m:
            return route, tuple(int(g) for g in m.groups())
    return None, ()


def _basic_credentials(headers: Message) -> tuple[str, str] | None:
    """RFC 7617 user-id and password of an ``Authorization: Basic`` header, if well formed."""
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def _cookie(headers: Message, name: str) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load("; ".join(headers.get_all("Cookie") or []))
    except CookieError:
        return None
    morsel = cookies.get(name)
    return None if morsel is None else morsel.value

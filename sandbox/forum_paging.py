"""The forum's twelve paging styles: one renderer per style over the same selected posts.

Each renderer gets a :class:`Listing` (the posts matching the request's filters, in order, with
their sort keys, plus what it needs to build links) and returns the response in the shape the
contract (and dlt's paginator of that name) expects. Conventions chosen where the contract is
silent:

- Page sizes default to 25 and are clamped to 100 (``limit``, ``per_page``, ``size``,
  ``page_size``, ``$top``); a size below 1 or a non-integer is a 400.
- Next links keep every query parameter of the request (filters, page size) and replace only
  the position parameter; ``api_key`` is dropped from them, so a credential sent in the query
  never comes back in a response body or header. Absolute links use the request's Host header.
- ``page`` and ``json_link`` (DRF) answer 404 ``{"detail": "Invalid page."}`` for a page past
  the last one and for a page that is not an integer >= 1; page 1 always exists (DRF's
  allow_empty_first_page), so an empty selection has ``total_pages`` 1 there. ``page0`` has
  ``total_pages = ceil(N / size)`` (0 when empty) and an empty ``items`` past the end;
  ``json_link_relative``, ``header_link`` and ``odata`` answer an empty page past the end.
- ``json_link_relative`` takes ``page_size`` (as ``json_link``); ``next_cursor`` and
  ``header_cursor`` take ``limit`` (as ``cursor``).
- Cursor tokens are unpadded URL-safe base64 of ``{"s": sort, "k": last sort key}``
  (keyset paging, so edits during a walk skip nothing); a malformed token, or one made for
  another ``sort``, is a 400.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from .data import Record
from .forum_data import SortKey
from .transport import _BadRequest, _json, _Response, int_param

DEFAULT_SIZE = 25
MAX_SIZE = 100
#: Query parameters never copied into a link (credentials).
UNLINKED_PARAMS = frozenset({"api_key"})


def page_size(query: dict[str, str], name: str) -> int:
    """A page size parameter: default 25, clamped to 100."""
    return min(int_param(query, name, DEFAULT_SIZE, 1), MAX_SIZE)


def encode_cursor(sort: str, key: SortKey) -> str:
    raw = json.dumps({"s": sort, "k": list(key)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, sort: str) -> SortKey | None:
    """The sort key a token points after; None (start) for a missing or empty token."""
    if token is None or token == "":
        return None
    try:
        obj = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key = tuple(int(v) for v in obj["k"])
        ok = obj["s"] == sort and len(key) == (1 if sort == "id" else 2)
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        ok = False
    if not ok:
        raise _BadRequest("invalid cursor")
    return key


@dataclass(frozen=True)
class Listing:
    """One posts listing request: the selection and what links are built from."""

    keys: list[SortKey]
    posts: list[Record]
    sort: str
    path: str  #: request path, e.g. /forum/offset/posts
    query: dict[str, str]
    origin: str  #: scheme and authority from the Host header, e.g. http://localhost:8000

    @property
    def total(self) -> int:
        return len(self.posts)

    def link(self, changes: Mapping[str, int | None], absolute: bool = True) -> str:
        """This listing's URL with query parameters changed (None removes one)."""
        params = {k: v for k, v in self.query.items() if k not in UNLINKED_PARAMS}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        qs = urlencode(params, safe="$")
        return f"{self.origin if absolute else ''}{self.path}{'?' + qs if qs else ''}"

    def start_after(self, token: str | None) -> int:
        """Index of the first post after a cursor token (0 for none)."""
        after = decode_cursor(token, self.sort)
        return 0 if after is None else bisect.bisect_right(self.keys, after)

    def next_cursor(self, start: int, count: int) -> str | None:
        end = start + count
        return encode_cursor(self.sort, self.keys[end - 1]) if end < self.total else None


def _invalid_page() -> _Response:
    return _json(404, {"detail": "Invalid page."})


def _drf_page(query: dict[str, str]) -> int | None:
    """DRF's page number: None when not an integer >= 1 (answered with 404)."""
    raw = query.get("page") or "1"
    try:
        page = int(raw)
    except ValueError:
        return None
    return page if page >= 1 else None


def offset(ls: Listing) -> _Response:
    start = int_param(ls.query, "offset", 0, 0)
    data = ls.posts[start : start + page_size(ls.query, "limit")]
    return _json(200, {"data": data, "total": ls.total, "has_more": start + len(data) < ls.total})


def page(ls: Listing) -> _Response:
    p = _drf_page(ls.query)
    size = page_size(ls.query, "per_page")
    pages = max(1, math.ceil(ls.total / size))
    if p is None or p > pages:
        return _invalid_page()
    data = ls.posts[(p - 1) * size : p * size]
    return _json(200, {"data": data, "page": p, "total_pages": pages, "total": ls.total})


def page0(ls: Listing) -> _Response:
    p = int_param(ls.query, "page", 0, 0)
    size = page_size(ls.query, "size")
    return _json(
        200, {"items": ls.posts[p * size : (p + 1) * size], "total_pages": math.ceil(ls.total / size)}
    )


def json_link(ls: Listing) -> _Response:
    p = _drf_page(ls.query)
    size = page_size(ls.query, "page_size")
    pages = max(1, math.ceil(ls.total / size))
    if p is None or p > pages:
        return _invalid_page()
    body = {
        "count": ls.total,
        "next": ls.link({"page": p + 1}) if p < pages else None,
        "previous": None if p == 1 else ls.link({"page": None if p == 2 else p - 1}),
        "results": ls.posts[(p - 1) * size : p * size],
    }
    return _json(200, body)


def json_link_relative(ls: Listing) -> _Response:
    p = int_param(ls.query, "page", 1, 1)
    size = page_size(ls.query, "page_size")
    nxt = ls.link({"page": p + 1}, absolute=False) if p * size < ls.total else None
    return _json(200, {"data": ls.posts[(p - 1) * size : p * size], "links": {"next": nxt}})


def odata(ls: Listing) -> _Response:
    skip = int_param(ls.query, "$skip", 0, 0)
    top = page_size(ls.query, "$top")
    body: dict[str, object] = {"value": ls.posts[skip : skip + top]}
    if skip + top < ls.total:
        body["@odata.nextLink"] = ls.link({"$skip": skip + top})
    return _json(200, body)


def header_link(ls: Listing) -> _Response:
    p = int_param(ls.query, "page", 1, 1)
    size = page_size(ls.query, "per_page")
    last = max(1, math.ceil(ls.total / size))
    links = [f'<{ls.link({"page": p + 1})}>; rel="next"'] if p < last else []
    links.append(f'<{ls.link({"page": last})}>; rel="last"')
    return _json(200, ls.posts[(p - 1) * size : p * size], [("Link", ", ".join(links))])


def cursor(ls: Listing) -> _Response:
    start, limit = ls.start_after(ls.query.get("cursor")), page_size(ls.query, "limit")
    nxt = ls.next_cursor(start, limit)
    return _json(200, {"items": ls.posts[start : start + limit], "cursors": {"next": nxt}})


def next_cursor(ls: Listing) -> _Response:
    start, limit = ls.start_after(ls.query.get("after")), page_size(ls.query, "limit")
    nxt = ls.next_cursor(start, limit)
    meta = {"next_cursor": nxt or "", "has_more": nxt is not None}
    return _json(200, {"data": ls.posts[start : start + limit], "meta": meta})


def header_cursor(ls: Listing) -> _Response:
    start, limit = ls.start_after(ls.query.get("cursor")), page_size(ls.query, "limit")
    nxt = ls.next_cursor(start, limit)
    return _json(200, ls.posts[start : start + limit], [("next", nxt)] if nxt else [])


def single(ls: Listing) -> _Response:
    return _json(200, ls.posts)


def wrapped_single(ls: Listing) -> _Response:
    return _json(200, {"data": {"posts": ls.posts}, "meta": {"count": ls.total}})


#: style -> renderer, served under /forum/<style>/posts
STYLES: dict[str, Callable[[Listing], _Response]] = {
    "offset": offset,
    "page": page,
    "page0": page0,
    "json_link": json_link,
    "json_link_relative": json_link_relative,
    "odata": odata,
    "header_link": header_link,
    "cursor": cursor,
    "next_cursor": next_cursor,
    "header_cursor": header_cursor,
    "single": single,
    "wrapped_single": wrapped_single,
}

"""`json_link` and `header_link`: follow the next page's URL that the server names.

The walk is sequential by nature (each URL comes with the page before). A next URL may
be absolute or relative (resolved against the URL of the response it came in, as dlt
does); one on another scheme, host or port than that response is refused -- the request
would carry the API's credentials elsewhere. A query value holding one of the run's
secrets (an API key the tap added, echoed back by the server) is taken out of the URL:
the authenticator adds it again to every request, and STATE never holds it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from requests.utils import parse_header_links

from tap_analytics.errors import redact, redact_url
from tap_analytics.paging.base import NEXT_URL_KEY, Page, PageRequest, Paginator, PagingError
from tap_analytics.selectors import MISSING, value_at

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url` (default ports made explicit)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def without_credentials(url: str) -> str:
    """`url` without user info and without the query pairs whose value holds a registered
    secret; every other byte as the server sent it."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pairs = parts.query.split("&") if parts.query else []
    kept = [pair for pair in pairs if not _holds_secret(unquote_plus(pair.partition("=")[2]))]
    if netloc == parts.netloc and len(kept) == len(pairs):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(kept), parts.fragment))


def _holds_secret(value: str) -> bool:
    return redact(value) != value


def follow(reference: str, came_from: str) -> str:
    """The absolute, credential-free URL of a next-page `reference` found in the response
    from `came_from`; a `PagingError` when it points at another origin."""
    url = urljoin(came_from, reference.strip()) if came_from else reference.strip()
    if origin(url)[0] not in DEFAULT_PORTS:
        msg = f"the next page's URL {redact_url(url)!r} is not an http(s) URL; not followed"
        raise PagingError(msg)
    if came_from and origin(url) != origin(came_from):
        scheme, host, port = origin(came_from)
        msg = (
            f"the next page's URL {redact_url(url)} is on another scheme, host or port than "
            f"{scheme}://{host}:{port}, where the page came from: not followed, so the API's "
            "credentials go nowhere else"
        )
        raise PagingError(msg)
    return without_credentials(url)


@dataclass
class NextUrlPaginator(Paginator):
    """Follows the URL each response names for the next page (dlt's BaseNextUrlPaginator);
    the walk ends when a response names none."""

    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    REPEAT_ADVICE: ClassVar[str] = "check the paginator type against the API's documentation"

    next_url: str | None = field(default=None, init=False)
    _followed: set[str] = field(default_factory=set, init=False)

    @abc.abstractmethod
    def _reference(self, page: Page) -> str | None:
        """The next page's URL as the response gives it (None: no next page)."""

    def request(self) -> PageRequest:
        return PageRequest(url=self.next_url) if self.next_url else PageRequest()

    def restore(self, saved: Mapping[str, Any]) -> bool:
        url = saved.get(NEXT_URL_KEY)
        if not isinstance(url, str) or origin(url)[0] not in DEFAULT_PORTS or not origin(url)[1]:
            return False
        self.next_url = without_credentials(url)
        return True

    def _decide(self, page: Page, total: int | None) -> bool:
        if page.url:
            self._followed.add(without_credentials(page.url))
        reference = self._reference(page)
        if not reference:
            self.next_url = None
            return False
        url = follow(reference, page.url)
        if url in self._followed:
            msg = (
                f"the server named {redact_url(url)} as the next page again: following it "
                "would loop; check the paginator type against the API's documentation"
            )
            raise PagingError(msg)
        self._followed.add(url)
        self.next_url = url
        return True


@dataclass
class JSONLinkPaginator(NextUrlPaginator):
    """The next URL at `next_url_path` of the body: DRF's `next`, `links.next`,
    `$['@odata.nextLink']`, ... (dlt's `json_link`)."""

    type_name: ClassVar[str] = "json_link"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {"next_url_path": str}

    next_url_path: str = "next"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> JSONLinkPaginator:
        return cls(next_url_path=options.get("next_url_path", "next"))

    def _reference(self, page: Page) -> str | None:
        value = value_at(page.body, self.next_url_path)
        if value is MISSING or value is None or value == "":
            return None
        if not isinstance(value, str):
            msg = (
                f"next_url_path {self.next_url_path!r} holds a {type(value).__name__}, not a "
                "URL; check endpoint.paginator.next_url_path"
            )
            raise PagingError(msg)
        return value


@dataclass
class JSONResponsePaginator(JSONLinkPaginator):
    """dlt's deprecated name of `json_link`, accepted as dlt still does."""

    type_name: ClassVar[str] = "json_response"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> JSONResponsePaginator:
        return cls(next_url_path=options.get("next_url_path", "next"))


def link_header_url(value: str | None, rel: str) -> str | None:
    """The URL of the RFC 8288 link with relation `rel` in a `Link` header value."""
    if not value:
        return None
    for link in parse_header_links(value):
        if rel in str(link.get("rel", "")).split():
            return link.get("url") or None
    return None


@dataclass
class HeaderLinkPaginator(NextUrlPaginator):
    """The next URL in the `Link` header (RFC 8288 `<url>; rel="next"`, as GitHub sends
    it); `links_next_key` names the relation (dlt's `header_link`)."""

    type_name: ClassVar[str] = "header_link"
    OPTIONS: ClassVar[dict[str, type | tuple[type, ...]]] = {"links_next_key": str}

    links_next_key: str = "next"

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HeaderLinkPaginator:
        return cls(links_next_key=options.get("links_next_key", "next"))

    def _reference(self, page: Page) -> str | None:
        return link_header_url(page.header("Link"), self.links_next_key)

"""Redirects: followed with credentials only within the request's own origin, never elsewhere.

`requests` strips only `Authorization` when a redirect changes host, so an API key in a
header, the query or a cookie would reach the other host (and an https -> http redirect
would send it in clear). The tap sends every request without following redirects and
decides here: a redirect to the same scheme, host and port is followed (credentials are
applied again to the new request); any other is refused with one line. The decisions are
pure functions of the request URL and the response's status and Location.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects followed for one request before it fails (requests' own default is 30).
MAX_REDIRECTS = 5


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def redirect_target(request_url: str, response: requests.Response) -> str | None:
    """The absolute URL a redirect response points at, or None when it is no redirect."""
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location = response.headers.get("Location")
    if not location:
        return None
    return urljoin(request_url, location)


def redirected_request(
    prepared: requests.PreparedRequest, target: str, status: int
) -> requests.PreparedRequest:
    """The request to send to `target` (same origin), as RFC 9110 §15.4 and browsers do:
    303, and 301/302 after a POST, become a GET without a body; 307/308 resend as they are.
    The caller applies the credentials again (a query-string key is not in `target`)."""
    new = prepared.copy()
    new.prepare_url(target, None)
    if status == 303 or (status in (301, 302) and prepared.method == "POST"):
        new.method = "GET"
        new.body = None
        for header in ("Content-Length", "Content-Type", "Transfer-Encoding"):
            new.headers.pop(header, None)
    return new

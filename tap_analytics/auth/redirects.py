"""Where a credential may follow a redirect: the same host and port, never down to http.

`requests` strips only `Authorization` when a redirect changes the host, and a 307/308
resends the body: an API key in another header, the query or a cookie -- or the client
secret of a token POST -- would reach whatever host the redirect names, and an https ->
http redirect would send it in clear. Every request the tap authenticates asks this
module first.
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        port = None
    return scheme, (parts.hostname or "").lower(), port


def redirect_risk(source: str, target: str) -> str | None:
    """Why credentials sent to `source` must not go along to `target`; None when they may.

    They may on the same scheme, host and port, and on the upgrade of a default-port http
    URL to https on the same host; not on another host or port, and never from https down
    to http."""
    scheme, host, port = _origin(source)
    to_scheme, to_host, to_port = _origin(target)
    if to_scheme not in DEFAULT_PORTS or not to_host:
        return "to a URL that is not http(s)"
    if scheme == "https" and to_scheme == "http":
        return "down to plain http"
    if to_host != host:
        return "to another host"
    upgrade = (scheme, port, to_scheme, to_port) == ("http", 80, "https", 443)
    if (to_scheme, to_port) != (scheme, port) and not upgrade:
        return "to another port" if to_scheme == scheme else "to another scheme"
    return None

"""URL settings: absolute http(s), and plain http only where credentials cannot leak."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str | None) -> bool:
    return bool(host) and (host in LOOPBACK_HOSTS or str(host).startswith("127."))


def validate_base_url(value: Any, setting: str, *, allow_insecure: bool = False) -> str | None:
    """An error line for a URL setting, or None when it is usable.

    Plain http would send credentials in clear text: only loopback (local tests) or an
    explicit `allow_insecure_http` may use it."""
    if not isinstance(value, str) or not value.strip():
        return f"{setting}: required, e.g. https://api.example.com"
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return f"{setting}: {value!r} is not an absolute http(s) URL (e.g. https://api.example.com)"
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        return (
            f"{setting}: plain http would send credentials unencrypted; use https, or set "
            "allow_insecure_http: true if you really must"
        )
    return None

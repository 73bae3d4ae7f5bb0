"""User-facing errors and secret redaction.

Every failure the user can act on is a `TapAnalyticsError` whose message is one line:
the stream, the URL without secrets, what happened and what to do. Secrets are also
scrubbed from every log record by `SecretFilter`, as a second line of defence.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from singer_sdk.exceptions import FatalAPIError

REDACTED = "***"

#: Query parameters whose values are credentials, whatever the configuration says.
SECRET_PARAM_NAMES = frozenset(
    {"api_key", "apikey", "key", "token", "access_token", "client_secret", "refresh_token",
     "password", "secret", "signature", "sig"}
)


class TapAnalyticsError(FatalAPIError):
    """A failure with a one-line, secret-free explanation for the user."""


class AuthError(TapAnalyticsError):
    """Credentials were refused or could not be obtained."""


class _SecretRegistry:
    """The secret values of this run, longest first so overlapping secrets redact fully."""

    def __init__(self) -> None:
        self._values: tuple[str, ...] = ()
        self._param_names: frozenset[str] = SECRET_PARAM_NAMES
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            merged = {*self._values, *(v for v in values if v and len(v) >= 4)}
            self._values = tuple(sorted(merged, key=len, reverse=True))

    def add_param_name(self, name: str) -> None:
        with self._lock:
            self._param_names = self._param_names | {name.lower()}

    def scrub(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    @property
    def param_names(self) -> frozenset[str]:
        return self._param_names


SECRETS = _SecretRegistry()


def redact(text: str) -> str:
    """`text` with every registered secret replaced."""
    return SECRETS.scrub(text)


def redact_url(url: str) -> str:
    """`url` without credentials: no user info, secret-looking query values masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    query = urlencode(
        [
            (k, REDACTED if k.lower() in SECRETS.param_names else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


class SecretFilter(logging.Filter):
    """Scrubs registered secrets from log records before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redact(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


#: SDK messages that only repeat, as a second ERROR line, a failure our own line explains.
SDK_ECHOES = ("An unhandled error occurred while syncing", "Config validation failed")


class OneErrorLineFilter(logging.Filter):
    """Downgrades the SDK's echo of a failure to DEBUG: one failure, one ERROR line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith(SDK_ECHOES):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def install_secret_filter() -> None:
    """Attach the filters to every handler of the root logger (once)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SecretFilter) for f in handler.filters):
            handler.addFilter(SecretFilter())
            handler.addFilter(OneErrorLineFilter())

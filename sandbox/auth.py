"""Credentials of every fake API, the OAuth2 token endpoint and the seed APIs' auth checks.

Secrets are distinctive and reproducible (``SECRET-``, ``-TOKEN-``, ``APIKEY-``, ``ACCESS-``,
``REFRESH-`` markers) so leak tests can grep any output for them. Access tokens are issued by
one RFC 6749 endpoint per OAuth API (the forum's included) and live ``token_ttl`` seconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from email.message import Message
from urllib.parse import parse_qsl, unquote_plus

from .data import APIS
from .forum_data import FORUM_API
from .serving import ServingMixin
from .transport import _json, _Response

OAUTH_APIS = frozenset({"devplatform", "generic", "helpdesk"})
#: APIs with a token endpoint: the OAuth seed APIs and the forum (used in its "oauth2" mode).
TOKEN_APIS = OAUTH_APIS | {FORUM_API}
TOKEN_PATH = "/oauth/token"


def _secret(kind: str, api: str, n: int = 0) -> str:
    """Distinctive, reproducible secret-looking strings tests can grep output for."""
    return hashlib.sha256(f"tap-analytics-sandbox:{kind}:{api}:{n}".encode()).hexdigest()[:20]


class AuthMixin(ServingMixin):
    """Secrets, token issuing and token checks of :class:`SandboxServer`."""

    _creds: dict[str, dict[str, str]]
    _refresh_generation: int
    _lineage: str
    _access_tokens: dict[str, tuple[str, float]]
    _token_serial: int
    _token_counts: dict[str, int]
    token_ttl: float
    client_auth: str
    api_key_header: str

    def _init_credentials(self) -> None:
        self._creds = {
            api: {
                "client_id": f"client-{api}-{_secret('client_id', api)[:8]}",
                "client_secret": f"sk-live-{api}-SECRET-{_secret('client_secret', api)}",
            }
            for api in TOKEN_APIS
        }
        self._refresh_generation = 0
        # Each server grants its own refresh-token lineage, as a real one does: a token cache
        # written against one sandbox must never match another's first token.
        self._lineage = secrets.token_hex(4)
        self._creds["helpdesk"]["refresh_token"] = self._new_refresh_token()
        self._creds["timetracking"] = {
            "token": f"tt-live-timetracking-TOKEN-{_secret('token', 'timetracking')}"
        }
        self._creds["statuspage"] = {
            "api_key": f"ak-live-statuspage-APIKEY-{_secret('api_key', 'statuspage')}"
        }
        self._creds[FORUM_API] |= {
            "token": f"fr-live-forum-TOKEN-{_secret('token', FORUM_API)}",
            "username": f"forum-user-{_secret('username', FORUM_API)[:8]}",
            "password": f"pw-live-forum-SECRET-{_secret('password', FORUM_API)}",
            "api_key": f"ak-live-forum-APIKEY-{_secret('api_key', FORUM_API)}",
        }
        self._access_tokens = {}
        self._token_serial = 0

    @property
    def credentials(self) -> dict[str, dict[str, str]]:
        """Per-API secrets; helpdesk's refresh_token is the currently valid one."""
        with self._lock:
            return {api: dict(self._creds[api]) for api in (*APIS, FORUM_API)}

    def _new_refresh_token(self) -> str:
        self._refresh_generation += 1
        return self.refresh_token_of(self._refresh_generation)

    def refresh_token_of(self, generation: int) -> str:
        """The helpdesk refresh token of one generation of this server's rotation."""
        secret = _secret("refresh_token", "helpdesk", generation)
        return f"rt-helpdesk-REFRESH-{generation}-{secret}-{self._lineage}"

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (tests of 401 handling without sleeping)."""
        with self._lock:
            self._access_tokens.clear()

    def _auth_error(self, api: str, headers: Message) -> _Response | None:
        unauthorized = {"error": "unauthorized"}
        if api == "statuspage":
            key = headers.get(self.api_key_header)
            return (
                None if key is not None and key == self._creds[api]["api_key"] else _json(401, unauthorized)
            )
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _json(401, unauthorized, [("WWW-Authenticate", 'Bearer realm="sandbox"')])
        token = token.strip()
        if api == "timetracking":
            ok = token == self._creds[api]["token"]
        else:
            ok = self._access_token_ok(api, token)
        if ok:
            return None
        return _json(
            401, unauthorized, [("WWW-Authenticate", 'Bearer realm="sandbox", error="invalid_token"')]
        )

    def _access_token_ok(self, api: str, token: str) -> bool:
        """True for an unexpired access token the token endpoint issued for ``api``."""
        with self._lock:
            entry = self._access_tokens.get(token)
        return entry is not None and entry[0] == api and time.monotonic() < entry[1]

    def _token(self, api: str, method: str, path: str, headers: Message, body: bytes) -> _Response:
        """RFC 6749 token endpoint: client_credentials, or rotating refresh_token for helpdesk."""
        with self._lock:
            self._token_counts[api] = self._token_counts.get(api, 0) + 1
        early = self._apply_fault(self._next_fault(path, data=False))
        if early is not None:
            return early
        if method != "POST":
            return _json(
                405, {"error": "invalid_request", "error_description": "use POST"}, [("Allow", "POST")]
            )
        ctype = (headers.get("Content-Type") or "").lower()
        try:
            if "json" in ctype:
                parsed = json.loads(body or b"{}")
                form = {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}
            else:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (ValueError, UnicodeDecodeError):
            form = {}
        client_id = form.get("client_id")
        client_secret = form.get("client_secret")
        basic = False
        auth = headers.get("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        creds = self._creds[api]

        def error(status: int, code: str, desc: str) -> _Response:
            hdrs = [("Cache-Control", "no-store")]
            if status == 401 and basic:
                hdrs.append(("WWW-Authenticate", 'Basic realm="sandbox"'))
            return _json(status, {"error": code, "error_description": desc, "client_id": client_id}, hdrs)

        if scheme.lower() == "basic":
            basic = True
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return error(401, "invalid_client", "malformed Basic credentials")
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep:
                return error(401, "invalid_client", "malformed Basic credentials")
            client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if self.client_auth == "basic" and not basic:
            return error(401, "invalid_client", "authenticate the client with HTTP Basic")
        if self.client_auth == "body" and basic:
            return error(401, "invalid_client", "send client_id and client_secret in the body")
        grant = form.get("grant_type")
        expected_grant = "refresh_token" if api == "helpdesk" else "client_credentials"
        if not grant:
            return error(400, "invalid_request", "grant_type is required")
        if grant != expected_grant:
            return error(
                400, "unsupported_grant_type", f"this server supports grant_type={expected_grant} only"
            )
        if client_id != creds["client_id"] or client_secret != creds["client_secret"]:
            return error(401, "invalid_client", "client authentication failed")
        with self._lock:
            extra: dict[str, str] = {}
            if api == "helpdesk":
                if form.get("refresh_token") != creds["refresh_token"]:
                    return error(
                        400, "invalid_grant", "refresh token is invalid, expired, revoked or already used"
                    )
                creds["refresh_token"] = extra["refresh_token"] = self._new_refresh_token()
            self._token_serial += 1
            token = f"at-{api}-ACCESS-{self._token_serial}-{_secret('access_token', api, self._token_serial)}"
            ttl = float(self.token_ttl)
            self._access_tokens[token] = (api, time.monotonic() + ttl)
        expires_in: float = int(ttl) if ttl.is_integer() else ttl
        payload = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, **extra}
        return _json(200, payload, [("Cache-Control", "no-store"), ("Pragma", "no-cache")])

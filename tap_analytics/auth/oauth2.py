"""OAuth2 client credentials and refresh-token grant, renewed once for many 401s.

It subclasses the SDK's `OAuthAuthenticator` because the SDK version lacks what the seeds need: the
refresh-token grant with rotation (a spent refresh token is never sent again),
HTTP Basic client authentication (RFC 6749 §2.3.1), renewal shortly *before* expiry,
a forced renewal after a 401, thread safety for concurrent paging, and token-endpoint
errors that never echo the response body (it may hold secrets) into the log.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote_plus

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_analytics import retry
from tap_analytics.auth.setup import AuthSetup
from tap_analytics.errors import SECRETS, AuthError, redact_url
from tap_analytics.retry import RetryPolicy

logger = logging.getLogger("tap_analytics.auth")

#: Renew this long before the announced expiry, capped at a tenth of the lifetime so
#: short-lived tokens (seconds) are still used.
RENEW_MARGIN_SECONDS = 30.0


class OAuth2Authenticator(OAuthAuthenticator):
    """OAuth2 client-credentials or refresh-token grant (RFC 6749 §4.4, §6)."""

    type_name: ClassVar[str] = "oauth2"
    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "token_url")
    OPTIONAL: ClassVar[tuple[str, ...]] = (
        "refresh_token", "client_auth", "scope", "token_refresh_endpoint",
    )
    SECRETS: ClassVar[tuple[str, ...]] = ("client_secret", "refresh_token")

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> OAuth2Authenticator:
        """Built from `client.auth`; a refresh token the cache kept from an earlier
        rotation wins over the configured one (see `RefreshTokenStore`)."""
        refresh_token = auth.get("refresh_token") or None
        store = setup.token_store
        if refresh_token and store is not None:
            cached = store.load()
            if cached:
                SECRETS.add(cached)
                logger.info("Using the newest refresh token from %s", store.path)
                refresh_token = cached
        return cls(
            token_url=auth.get("token_url") or auth["token_refresh_endpoint"],
            client_id=auth["client_id"],
            client_secret=auth["client_secret"],
            refresh_token=refresh_token,
            client_auth=auth.get("client_auth"),
            scope=auth.get("scope"),
            timeout=setup.timeout,
            session=setup.session,
            on_refresh_token=store.save if store is not None else None,
            retry_policy=setup.retry_policy,
        )

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str | None = None,
        client_auth: str | None = None,
        scope: str | None = None,
        timeout: float = 60.0,
        session: requests.Session | None = None,
        on_refresh_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            auth_endpoint=token_url,
            oauth_scopes=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
        self.refresh_token: str | None = refresh_token
        self._client_auth = client_auth or "body"
        #: Unless configured, the first token request may switch from the form body to
        #: HTTP Basic, the one method RFC 6749 §2.3.1 obliges every server to accept.
        self._may_switch_to_basic = client_auth is None
        self._timeout = timeout
        self._token_session = session or requests.Session()
        self._on_refresh_token = on_refresh_token
        self._clock = clock
        self._retry = retry_policy or RetryPolicy()
        self._lock = threading.Lock()
        self._expires_at: float | None = None
        self._obtained = False
        #: Bumped on every renewal, so a 401 renews once however many requests saw it.
        self.generation = 0
        self.token_requests = 0

    @property
    def grant_type(self) -> str:
        return "refresh_token" if self.refresh_token else "client_credentials"

    @property
    def oauth_request_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"grant_type": self.grant_type}
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.oauth_scopes:
            body["scope"] = self.oauth_scopes
        if self._client_auth == "body":
            body["client_id"] = self.client_id
            body["client_secret"] = self.client_secret
        return body

    def _token_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._client_auth == "basic":
            # RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
            pair = f"{quote_plus(self.client_id or '')}:{quote_plus(self.client_secret or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    def is_token_valid(self) -> bool:
        if not self._obtained:
            return False
        if self._expires_at is None:
            return True
        return self._clock() < self._expires_at

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:
            if not self.is_token_valid():
                self._renew()
            token = self.access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def renew_after_unauthorized(self, seen_generation: int) -> None:
        """Renew once after a 401, unless another request already did since `seen_generation`."""
        with self._lock:
            if self.generation == seen_generation:
                self._renew()

    def update_access_token(self) -> None:
        with self._lock:
            self._renew()

    def _renew(self) -> None:
        url = redact_url(self.auth_endpoint)
        self.token_requests += 1
        logger.info("Requesting a new access token (%s grant) from %s", self.grant_type, url)
        started = self._clock()
        response = self._post_with_retries(url)
        switched = self._may_switch_to_basic and _client_auth_refused(response)
        if switched:
            logger.info(
                "The token endpoint refused the client credentials in the form body; trying "
                "HTTP Basic (set client.auth.client_auth: basic to start with it)"
            )
            self._client_auth = "basic"
            response = self._post_with_retries(url)
        self._may_switch_to_basic = False
        if response.status_code != 200:
            raise AuthError(self._failure_message(response, url, switched=switched))
        try:
            payload = response.json()
            access_token = payload["access_token"]
        except (ValueError, KeyError, TypeError):
            msg = (
                f"token response from {url} (HTTP 200) has no access_token in a JSON body; "
                "check client.auth.token_url points at the OAuth2 token endpoint"
            )
            raise AuthError(msg) from None
        if not isinstance(access_token, str) or not access_token:
            msg = f"token response from {url} carries an empty access_token"
            raise AuthError(msg)
        SECRETS.add(access_token)
        self.access_token = access_token
        expires_in = _as_seconds(payload.get("expires_in"))
        self.expires_in = int(expires_in) if expires_in is not None else None
        self._expires_at = (
            started + expires_in - min(RENEW_MARGIN_SECONDS, expires_in / 10)
            if expires_in is not None
            else None
        )
        self._obtained = True
        self.generation += 1
        rotated = payload.get("refresh_token")
        if self.refresh_token and isinstance(rotated, str) and rotated and rotated != self.refresh_token:
            # The old refresh token may be spent now: never send it again.
            SECRETS.add(rotated)
            self.refresh_token = rotated
            if self._on_refresh_token:
                self._on_refresh_token(rotated)
                logger.info("The token endpoint rotated the refresh token; saved the new one")
            else:
                logger.warning(
                    "The token endpoint rotated the refresh token; it is kept in memory only "
                    "(set token_cache_path to keep it across runs)"
                )

    def _post_with_retries(self, url: str) -> requests.Response:
        """The token request, retried like data requests: an outage of the token
        endpoint is not a credentials problem."""
        policy = self._retry
        attempt = 0
        while True:
            failure, retry_after = "", None
            try:
                response = self._token_session.post(
                    self.auth_endpoint,
                    data=self.oauth_request_body,
                    headers=self._token_headers(),
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                failure = type(exc).__name__
            else:
                if response.status_code == 200 or not policy.retries_status(response.status_code):
                    return response
                failure = f"HTTP {response.status_code}"
                retry_after = response.headers.get("Retry-After")
            if attempt >= policy.max_retries:
                msg = (
                    f"token request to {url} still failing ({failure}) after {attempt} retries: "
                    "the token endpoint is unavailable; check client.auth.token_url, the network, "
                    "or try again later"
                )
                raise AuthError(msg)
            attempt += 1
            wait = policy.wait(attempt, retry_after)
            logger.warning(
                "Token request to %s: %s; retry %d of %d in %.1f s",
                url, failure, attempt, policy.max_retries, wait,
            )
            retry.sleep(min(wait, retry.MAX_RETRY_AFTER_SECONDS))

    def _failure_message(self, response: requests.Response, url: str, *, switched: bool) -> str:
        code = _error_code(response)
        error = f" {code}" if code else ""
        if switched:
            error += " (client credentials tried in the form body and with HTTP Basic)"
        if self.grant_type == "refresh_token":
            hint = (
                "check client.auth.refresh_token (it may be spent or revoked: get a new one), "
                "client.auth.client_id and client.auth.client_secret"
            )
        else:
            hint = "check client.auth.client_id and client.auth.client_secret"
        return f"token request to {url} was refused: HTTP {response.status_code}{error}; {hint}"


def _error_code(response: requests.Response) -> str:
    """The RFC 6749 §5.2 error code of a token response: safe to show (free text is not)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        return str(body["error"])[:64]
    return ""


def _client_auth_refused(response: requests.Response) -> bool:
    """Whether the token endpoint refused the client's authentication itself (RFC 6749
    §5.2 invalid_client, or a bare 401), not the grant: then another method may work."""
    if response.status_code == 401:
        return _error_code(response) in {"", "invalid_client"}
    return response.status_code == 400 and _error_code(response) == "invalid_client"


def _as_seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None

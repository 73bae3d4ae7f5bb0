"""OAuth2 client credentials and refresh-token grant, renewed once for many 401s.

It subclasses the SDK's `OAuthAuthenticator` because the SDK version lacks what the seeds need: the
refresh-token grant with rotation (a spent refresh token is never sent again),
HTTP Basic client authentication (RFC 6749 §2.3.1), renewal shortly *before* expiry,
a forced renewal after a 401 that is single-flight (requests that met the same token
wait for one renewal, and a refused renewal fails them all without another request),
thread safety for concurrent paging, a token POST that never follows a redirect where
its client secret must not go, and token-endpoint errors that never echo the response
body (it may hold secrets) into the log.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote_plus, urljoin

import requests
from singer_sdk.authenticators import OAuthAuthenticator

from tap_analytics import retry
from tap_analytics.auth.redirects import redirect_risk
from tap_analytics.auth.setup import AuthSetup
from tap_analytics.errors import SECRETS, AuthError, redact_url
from tap_analytics.retry import RetryPolicy

logger = logging.getLogger("tap_analytics.auth")

#: Renew this long before the announced expiry, capped at a tenth of the lifetime so
#: short-lived tokens (seconds) are still used.
RENEW_MARGIN_SECONDS = 30.0
#: Same-host 307/308 redirects a token POST follows before giving up.
MAX_TOKEN_REDIRECTS = 5


class OAuth2Authenticator(OAuthAuthenticator):
    """OAuth2 client-credentials or refresh-token grant (RFC 6749 §4.4, §6)."""

    type_name: ClassVar[str] = "oauth2"
    REQUIRED: ClassVar[tuple[str, ...]] = ("client_id", "client_secret", "token_url")
    OPTIONAL: ClassVar[tuple[str, ...]] = (
        "refresh_token", "client_auth", "scope", "token_refresh_endpoint",
    )
    SECRETS: ClassVar[tuple[str, ...]] = ("client_secret", "refresh_token")
    #: Settings that stand for another one (seed 002 names the token URL so).
    ALIASES: ClassVar[Mapping[str, str]] = {"token_refresh_endpoint": "token_url"}
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {"client_auth": ("body", "basic")}
    URLS: ClassVar[tuple[str, ...]] = ("token_url", "token_refresh_endpoint")
    MAY_BE_EMPTY: ClassVar[tuple[str, ...]] = ()
    #: The setting that names the token endpoint, and the one holding the refresh token.
    URL_SETTING: ClassVar[str] = "token_url"
    REFRESH_SETTING: ClassVar[str] = "refresh_token"

    @classmethod
    def hint(cls, auth: Mapping[str, Any], where: str) -> str:
        """After a 401/403 on data: a fresh token was refused, so the client's rights."""
        return (f"{where}.client_id/client_secret and the client's scopes (a fresh access "
                "token was refused)")

    @classmethod
    def configured_refresh_token(cls, auth: Mapping[str, Any]) -> str | None:
        """The refresh token the settings give (the lineage a token cache keys on)."""
        token = auth.get("refresh_token")
        return str(token) if token else None

    @classmethod
    def settings(cls, auth: Mapping[str, Any]) -> dict[str, Any]:
        """The constructor arguments this type's settings give, the refresh token aside."""
        return {
            "token_url": auth.get("token_url") or auth["token_refresh_endpoint"],
            "client_id": auth["client_id"],
            "client_secret": auth["client_secret"],
            "client_auth": auth.get("client_auth"),
            "scope": auth.get("scope"),
        }

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> OAuth2Authenticator:
        """Built from `client.auth`; a refresh token the cache kept from an earlier
        rotation wins over the configured one (see `RefreshTokenStore`)."""
        refresh_token = cls.configured_refresh_token(auth)
        store = setup.token_store
        from_cache = False
        if refresh_token and store is not None:
            cached = store.load()
            if cached:
                SECRETS.add(cached)
                logger.info("Using the newest refresh token from %s", store.path)
                refresh_token, from_cache = cached, True

        def refused_note() -> str:
            notes = [store.other_lineages()] if store is not None else []
            if from_cache and store is not None:
                notes.insert(0, f"the refresh token sent was the newest one kept in {store.path}")
            return "; ".join(n for n in notes if n)

        return cls(
            **cls.settings(auth),
            refresh_token=refresh_token,
            timeout=setup.timeout,
            session=setup.session,
            on_refresh_token=store.save if store is not None else None,
            refused_note=refused_note,
            retry_policy=setup.retry_policy,
            where=setup.where,
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
        refused_note: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_policy: RetryPolicy | None = None,
        extra_form: Mapping[str, Any] | None = None,
        default_expires_in: float | None = None,
        access_token: str | None = None,
        where: str = "client.auth",
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
        self._refused_note = refused_note
        self._clock = clock
        self._retry = retry_policy or RetryPolicy()
        self._extra_form = dict(extra_form or {})
        self._default_expires_in = default_expires_in
        self._where = where
        self._lock = threading.Lock()
        self._expires_at: float | None = None
        self._obtained = False
        if access_token:  # used until the API refuses it, then renewed as any other
            self.access_token, self._obtained = access_token, True
        #: Why renewal failed for good: every later request of the run fails with it.
        self._failure: str | None = None
        #: Bumped on every renewal, so a 401 renews once however many requests saw it.
        self._generation = 0
        self._local = threading.local()
        self.token_requests = 0

    @property
    def generation(self) -> int:
        """The generation of the access token this thread last put on a request -- what
        a 401 it then receives refers to, even if another thread renewed meanwhile (the
        latest generation in a thread that authenticated nothing yet)."""
        return int(getattr(self._local, "generation", self._generation))

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
        return {**body, **self._extra_form}

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
            self._raise_if_failed()
            if not self.is_token_valid():
                self._renew()
            token = self.access_token
            self._local.generation = self._generation
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def renew_after_unauthorized(self, seen_generation: int | None = None) -> None:
        """Renew once after a 401 on the token of `seen_generation` (default: the one this
        thread sent), unless another request already did. Requests that met the same
        token wait here for that one renewal; if it failed, they fail with its error."""
        seen = self.generation if seen_generation is None else seen_generation
        with self._lock:
            self._raise_if_failed()
            if self._generation == seen:
                self._renew()

    def update_access_token(self) -> None:
        with self._lock:
            self._raise_if_failed()
            self._renew()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise AuthError(self._failure)

    def _renew(self) -> None:
        try:
            self._obtain()
        except AuthError as exc:
            self._failure = str(exc)
            raise

    def _obtain(self) -> None:
        url = redact_url(self.auth_endpoint)
        self.token_requests += 1
        logger.info("Requesting a new access token (%s grant) from %s", self.grant_type, url)
        started = self._clock()
        response = self._post_with_retries(url)
        switched = self._may_switch_to_basic and _client_auth_refused(response)
        if switched:
            logger.info(
                "The token endpoint refused the client credentials in the form body; trying "
                "HTTP Basic (set %s.client_auth: basic to start with it)", self._where,
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
                f"check {self._where}.{self.URL_SETTING} points at the OAuth2 token endpoint"
            )
            raise AuthError(msg) from None
        if not isinstance(access_token, str) or not access_token:
            msg = f"token response from {url} carries an empty access_token"
            raise AuthError(msg)
        SECRETS.add(access_token)
        self.access_token = access_token
        expires_in = _as_seconds(payload.get("expires_in"))
        if expires_in is None:
            expires_in = self._default_expires_in
        self.expires_in = int(expires_in) if expires_in is not None else None
        self._expires_at = (
            started + expires_in - min(RENEW_MARGIN_SECONDS, expires_in / 10)
            if expires_in is not None
            else None
        )
        self._obtained = True
        self._generation += 1
        self._keep_rotated(payload.get("refresh_token"))

    def _keep_rotated(self, rotated: Any) -> None:
        if not (self.refresh_token and isinstance(rotated, str) and rotated
                and rotated != self.refresh_token):
            return
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
                response = self._post()
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
                    f"the token endpoint is unavailable; check {self._where}.{self.URL_SETTING}, "
                    "the network, or try again later"
                )
                raise AuthError(msg)
            attempt += 1
            wait = policy.wait(attempt, retry_after)
            logger.warning(
                "Token request to %s: %s; retry %d of %d in %.1f s",
                url, failure, attempt, policy.max_retries, wait,
            )
            retry.sleep(min(wait, retry.MAX_RETRY_AFTER_SECONDS))

    def _post(self) -> requests.Response:
        """One token POST. A 307/308 resends the body -- the client secret, the refresh
        token -- so it is followed only to the same host and port, never down to http;
        any other redirect is refused with the place it pointed to."""
        url = self.auth_endpoint
        for _ in range(MAX_TOKEN_REDIRECTS + 1):
            response = self._token_session.post(
                url, data=self.oauth_request_body, headers=self._token_headers(),
                timeout=self._timeout, allow_redirects=False,
            )
            if not response.is_redirect:
                return response
            target = urljoin(url, response.headers["Location"])
            risk = redirect_risk(url, target)
            if risk is not None or response.status_code not in (307, 308):
                raise AuthError(self._redirect_message(response.status_code, target, risk))
            logger.info("Token request redirected (HTTP %d) to %s on the same host",
                        response.status_code, redact_url(target))
            url = target
        msg = (
            f"token request to {redact_url(self.auth_endpoint)}: more than "
            f"{MAX_TOKEN_REDIRECTS} redirects; set {self._where}.{self.URL_SETTING} to the "
            "token endpoint itself"
        )
        raise AuthError(msg)

    def _redirect_message(self, status: int, target: str, risk: str | None) -> str:
        where = f"token request to {redact_url(self.auth_endpoint)} was redirected (HTTP {status})"
        setting = f"{self._where}.{self.URL_SETTING}"
        if risk is not None:
            return (
                f"{where} {risk} ({redact_url(target)}): not followed, the client credentials "
                f"would go along; if that is the token endpoint, set {setting} to it"
            )
        return (
            f"{where} to {redact_url(target)}, a redirect that turns the POST into a GET; "
            f"set {setting} to that URL"
        )

    def _failure_message(self, response: requests.Response, url: str, *, switched: bool) -> str:
        code = _error_code(response)
        error = f" {code}" if code else ""
        if switched:
            error += " (client credentials tried in the form body and with HTTP Basic)"
        where = self._where
        if self.grant_type == "refresh_token":
            hint = (
                f"check {where}.{self.REFRESH_SETTING} (it may be spent or revoked: get a new one), "
                f"{where}.client_id and {where}.client_secret"
            )
        else:
            hint = f"check {where}.client_id and {where}.client_secret"
        note = self._refused_note() if self._refused_note else ""
        if note:
            hint += f"; {note}"
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


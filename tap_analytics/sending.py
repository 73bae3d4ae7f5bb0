"""The HTTP policy of every request, written once: retries, one renewal after a 401, the
run's rate gate, redirects kept within the API's origin, and one-line errors.

`RequestSender` is mixed into the base stream (`client.AnalyticsStream`), which supplies
the request (`build_request`) and judges responses the page loop hands back
(`hands_back`: a matching response action, or a page past the end of the data).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.streams import RESTStream

from tap_analytics import redirects, retry
from tap_analytics.auth import OAuth2Authenticator, credential_hint
from tap_analytics.config import ResourceSpec
from tap_analytics.context import RunContext
from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.paging import PageRequest
from tap_analytics.paging.http import RequestPlan

RETRIED_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

STATUS_ADVICE = {
    400: "check the endpoint's params and paginator settings",
    404: "check the resource's endpoint.path and client.base_url",
    405: "check endpoint.method",
    410: "the endpoint is gone: check endpoint.path",
}


class RequestSender(RESTStream[Any]):
    """Sends one page request under the spec's retry policy (see the module doc)."""

    spec: ClassVar[ResourceSpec]
    run: RunContext
    requests_made: int = 0
    retries_made: int = 0
    _counter_lock: threading.Lock

    @property
    def url(self) -> str:
        """The URL of the stream's pages, for messages (the base stream's)."""
        raise NotImplementedError

    def build_request(
        self, params: Mapping[str, Any] | PageRequest, plan: RequestPlan | None = None
    ) -> requests.PreparedRequest:
        """The request of one page, from `plan` or the stream's own (the base stream's)."""
        raise NotImplementedError

    def hands_back(self, response: requests.Response, params: Any) -> bool:
        """Whether a failed response is the page loop's to judge, not an error here."""
        return False

    def send(
        self, params: Mapping[str, Any] | PageRequest, plan: RequestPlan | None = None
    ) -> requests.Response:
        """One page, with the spec's retry policy and one renewal after a 401; `plan` is
        a child walk's own request plan (None: the stream's).

        Thread-safe: concurrent page fetches and child walks call it from worker threads."""
        policy = self.spec.retry
        auth = self.run.authenticator_for(self.spec)
        gate = self.run.rate_gate
        retries = 0
        renewed = False
        while True:
            prepared = self.build_request(params, plan)
            if auth is not None:
                prepared = auth(prepared)
            # Read after authenticating: at worst it is newer than the token sent, and
            # then the retry simply uses the newer token without renewing again.
            generation = auth.generation if isinstance(auth, OAuth2Authenticator) else 0
            retry_after: str | None = None
            status = 0
            unreachable = False
            try:
                response = self._send_following_redirects(prepared, auth)
            except requests.exceptions.SSLError as exc:
                raise self.connection_error(prepared, exc, retries=0) from None
            except RETRIED_EXCEPTIONS as exc:
                failure = type(exc).__name__
                unreachable = isinstance(exc, requests.ConnectionError)
            else:
                status = response.status_code
                if status < 300 or self.hands_back(response, params):
                    gate.success()
                    return response
                if status == 401 and isinstance(auth, OAuth2Authenticator) and not renewed:
                    self.logger.info("%s: HTTP 401, renewing the access token once", self.name)
                    auth.renew_after_unauthorized(generation)
                    renewed = True
                    continue
                if not policy.retries_status(status):
                    raise self.http_error(response)
                failure = f"HTTP {status}"
                retry_after = response.headers.get("Retry-After")
            if retries >= policy.max_retries:
                if unreachable:
                    raise self.connection_error(prepared, failure, retries=retries)
                msg = (
                    f"stream {self.name}: GET {redact_url(prepared.url or self.url)} still failing "
                    f"({failure}) after {retries} retries; the API is unavailable or throttling: "
                    "try again later or raise error_handler.max_retries"
                )
                raise TapAnalyticsError(msg)
            retries += 1
            with self._counter_lock:
                self.retries_made += 1
            # A host that does not answer gets an exponential backoff even where the API's
            # statuses are retried after a constant wait (seed 004: 62 s each).
            wait = policy.connection_wait(retries) if unreachable else policy.wait(retries, retry_after)
            if wait > retry.MAX_RETRY_AFTER_SECONDS:
                msg = (
                    f"stream {self.name}: {redact_url(prepared.url or self.url)} asks to wait "
                    f"{wait:.0f} s ({failure}); not waiting that long: run again later"
                )
                raise TapAnalyticsError(msg)
            self.logger.warning(
                "%s: %s from %s; retry %d of %d in %.1f s",
                self.name, failure, redact_url(prepared.url or self.url), retries,
                policy.max_retries, wait,
            )
            if status in retry.THROTTLE_STATUSES or retry_after is not None:
                gate.throttle(wait)  # every worker of the run waits, not only this one
            else:
                retry.sleep(wait)

    def _send_following_redirects(
        self, prepared: requests.PreparedRequest, auth: APIAuthenticatorBase | None
    ) -> requests.Response:
        """Send without letting `requests` follow redirects: a redirect within the
        request's origin is followed with the credentials applied again; one to another
        host, port or scheme is refused, so no credential the tap added leaves the API."""
        gate = self.run.rate_gate
        for _ in range(redirects.MAX_REDIRECTS + 1):
            with self._counter_lock:
                self.requests_made += 1
            with gate.slot():
                response = self.requests_session.send(
                    prepared, timeout=self.timeout, allow_redirects=False
                )
            url = prepared.url or self.url
            target = redirects.redirect_target(url, response)
            if target is None:
                return response
            if not redirects.same_origin(url, target):
                msg = (
                    f"stream {self.name}: GET {redact_url(url)} redirects (HTTP "
                    f"{response.status_code}) to {redact_url(target)}, another host, port or "
                    "scheme; the tap never sends credentials there: set client.base_url (or "
                    "endpoint.path) to the address the API redirects to"
                )
                raise TapAnalyticsError(msg)
            prepared = redirects.redirected_request(prepared, target, response.status_code)
            if auth is not None:
                prepared = auth(prepared)
        msg = (
            f"stream {self.name}: GET {redact_url(prepared.url or self.url)} redirected more "
            f"than {redirects.MAX_REDIRECTS} times; check client.base_url and endpoint.path"
        )
        raise TapAnalyticsError(msg)

    def connection_error(
        self, prepared: requests.PreparedRequest, failure: object, *, retries: int
    ) -> TapAnalyticsError:
        """The one line for an API that cannot be reached (refused, DNS, TLS, timeout)."""
        url = redact_url(prepared.url or self.url)
        if isinstance(failure, requests.exceptions.SSLError):
            what = "the TLS handshake failed (certificate not trusted or invalid)"
            advice = "check client.base_url, or set ca_bundle for a private CA"
        else:
            what = f"cannot connect ({failure}) after {retries} retries"
            advice = (
                f"check client.base_url ({redact_url(self.url_base)}) and that the host is "
                "reachable from here"
            )
        return TapAnalyticsError(f"stream {self.name}: GET {url}: {what}; {advice}")

    def credential_hint(self) -> str:
        """The setting a user should check after a 401/403, by the stream's auth type."""
        spec = self.spec
        if spec.auth_override:
            return credential_hint(spec.auth, f"resources.{spec.name}.endpoint.auth")
        return credential_hint((self.config.get("client") or {}).get("auth"), "client.auth")

    def http_error(self, response: requests.Response) -> TapAnalyticsError:
        status = response.status_code
        if status == 401:
            advice = f"the API rejected the credentials: check {self.credential_hint()}"
        elif status == 403:
            advice = (
                f"the credentials lack access to this resource: check {self.credential_hint()} "
                "and its permissions"
            )
        else:
            advice = STATUS_ADVICE.get(status) or (
                "a server error not configured for retry: check the API's status, or add the "
                "code to error_handler.retry_on_status_codes"
                if status >= 500
                else "check the resource's configuration against the API documentation"
            )
        msg = (
            f"stream {self.name}: GET {redact_url(response.url or self.url)} returned HTTP {status}"
            f" {response.reason or ''}".rstrip() + f"; {advice}"
        )
        return TapAnalyticsError(msg)

"""What the run hands an authenticator it builds: timeouts, the shared session, the token cache."""

from __future__ import annotations

from dataclasses import dataclass

import requests

from tap_analytics.auth.token_store import RefreshTokenStore
from tap_analytics.retry import RetryPolicy


@dataclass(frozen=True)
class AuthSetup:
    """The run's resources an authenticator may use; every field has a safe default."""

    timeout: float = 60.0
    session: requests.Session | None = None
    token_store: RefreshTokenStore | None = None
    retry_policy: RetryPolicy | None = None
    #: Where its settings are in the config, for messages (`client.auth`, or a
    #: resource's `endpoint.auth`).
    where: str = "client.auth"

"""dlt's `oauth2_client_credentials`: the seeds' OAuth2 client under dlt's setting names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tap_analytics.auth.oauth2 import OAuth2Authenticator
from tap_analytics.auth.setup import AuthSetup


class OAuth2ClientCredentials(OAuth2Authenticator):
    """dlt's `oauth2_client_credentials`: the client-credentials grant at `access_token_url`,
    with `access_token_request_data` merged into the form (dlt lets it override any field)
    and `default_token_expiration` for a token response without `expires_in`."""

    type_name: ClassVar[str] = "oauth2_client_credentials"
    REQUIRED: ClassVar[tuple[str, ...]] = ("access_token_url", "client_id", "client_secret")
    OPTIONAL: ClassVar[tuple[str, ...]] = (
        "access_token_request_data", "default_token_expiration", "access_token",
    )
    SECRETS: ClassVar[tuple[str, ...]] = ("client_secret", "access_token")
    ALIASES: ClassVar[Mapping[str, str]] = {}
    CHOICES: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    URLS: ClassVar[tuple[str, ...]] = ("access_token_url",)
    URL_SETTING: ClassVar[str] = "access_token_url"
    #: dlt's default lifetime of a token whose response announces none.
    DEFAULT_TOKEN_EXPIRATION = 3600

    @classmethod
    def from_config(cls, auth: Mapping[str, Any], setup: AuthSetup) -> OAuth2ClientCredentials:
        expiration = auth.get("default_token_expiration")
        return cls(
            token_url=auth["access_token_url"],
            client_id=auth["client_id"],
            client_secret=auth["client_secret"],
            extra_form=auth.get("access_token_request_data") or {},
            default_expires_in=float(
                cls.DEFAULT_TOKEN_EXPIRATION if expiration is None else expiration
            ),
            access_token=auth.get("access_token") or None,
            timeout=setup.timeout,
            session=setup.session,
            retry_policy=setup.retry_policy,
            where=setup.where,
        )

"""dlt's `oauth2_client_credentials`: the seeds' OAuth2 client under dlt's setting names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tap_analytics.auth.oauth2 import OAuth2Authenticator


class OAuth2ClientCredentials(OAuth2Authenticator):
    """dlt's `oauth2_client_credentials`: the client-credentials grant at `access_token_url`,
    with `access_token_request_data` merged into the form (dlt lets it override any field)
    and `default_token_expiration` for a token response without `expires_in`.

    A refresh-token grant written there (`{grant_type: refresh_token, refresh_token}`, how
    dlt's form says seed 002's auth) is this tap's refresh-token lineage: dlt would send the
    configured token again after the server rotated it (and be refused); the tap sends the
    rotated one and keeps it in the token cache, as for `oauth2` with `refresh_token`."""

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
    REFRESH_SETTING: ClassVar[str] = "access_token_request_data.refresh_token"
    #: dlt's default lifetime of a token whose response announces none.
    DEFAULT_TOKEN_EXPIRATION = 3600
    #: The form fields of a refresh-token grant (RFC 6749 §6).
    REFRESH_GRANT: ClassVar[tuple[str, str]] = ("grant_type", "refresh_token")

    @classmethod
    def configured_refresh_token(cls, auth: Mapping[str, Any]) -> str | None:
        extra = auth.get("access_token_request_data") or {}
        token = extra.get("refresh_token")
        return str(token) if extra.get("grant_type") == "refresh_token" and token else None

    @classmethod
    def settings(cls, auth: Mapping[str, Any]) -> dict[str, Any]:
        expiration = auth.get("default_token_expiration")
        extra = dict(auth.get("access_token_request_data") or {})
        if cls.configured_refresh_token(auth):  # sent from the lineage, rotated or not
            extra = {k: v for k, v in extra.items() if k not in cls.REFRESH_GRANT}
        return {
            "token_url": auth["access_token_url"],
            "client_id": auth["client_id"],
            "client_secret": auth["client_secret"],
            "extra_form": extra,
            "default_expires_in": float(
                cls.DEFAULT_TOKEN_EXPIRATION if expiration is None else expiration
            ),
            "access_token": auth.get("access_token") or None,
        }

"""OAuth2 against a mocked token endpoint: grants, client auth, rotation, expiry, errors."""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import pytest
import requests

from tap_analytics.auth import OAuth2Authenticator, build_authenticator, secrets_of
from tap_analytics.errors import AuthError
from tests.fakes import FakeClock

TOKEN_URL = "https://auth.example.com/oauth/token"
DATA_URL = "https://api.example.com/v1/events"
CLIENT_ID = "client-id-unit"
CLIENT_SECRET = "cs-UNIT-very-secret-4242"
REFRESH_TOKEN = "rt-UNIT-first-refresh-0001"


def form(request: Any) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.text or "").items()}


def authorization(auth: OAuth2Authenticator) -> str:
    prepared = auth(requests.Request("GET", DATA_URL).prepare())
    return prepared.headers["Authorization"]


def oauth(clock: FakeClock | None = None, **kwargs: Any) -> OAuth2Authenticator:
    options: dict[str, Any] = {
        "token_url": TOKEN_URL, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "session": requests.Session(),
    }
    if clock is not None:
        options["clock"] = clock
    options.update(kwargs)
    return OAuth2Authenticator(**options)


def token_responses(*payloads: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"json": p, "status_code": 200} for p in payloads]


# --- grants and client authentication ---------------------------------------------------


def test_client_credentials_in_the_body(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1", "expires_in": 3600})
    auth = oauth()
    assert authorization(auth) == "Bearer at-1"
    request = requests_mock.request_history[0]
    assert form(request) == {
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
    }
    assert "Authorization" not in request.headers
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_client_credentials_with_scope(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1"})
    authorization(oauth(scope="read:analytics"))
    assert form(requests_mock.request_history[0])["scope"] == "read:analytics"


def test_client_credentials_with_http_basic(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1"})
    auth = oauth(client_auth="basic")
    assert authorization(auth) == "Bearer at-1"
    request = requests_mock.request_history[0]
    body = form(request)
    assert body == {"grant_type": "client_credentials"}, "no client credentials in the body"
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"{CLIENT_ID}:{CLIENT_SECRET}"


def basic_only(request: Any, context: Any) -> dict[str, Any]:
    """A token endpoint that, as RFC 6749 §2.3.1 allows, accepts HTTP Basic only."""
    if request.headers.get("Authorization", "").startswith("Basic "):
        return {"access_token": "at-basic", "expires_in": 1}
    context.status_code = 401
    return {"error": "invalid_client"}


def test_unconfigured_client_auth_falls_back_to_basic_once(requests_mock: Any) -> None:
    clock = FakeClock(start=0.0)
    requests_mock.post(TOKEN_URL, json=basic_only)
    auth = oauth(clock)
    assert authorization(auth) == "Bearer at-basic"
    first, second = requests_mock.request_history
    assert "client_secret" in form(first)
    assert "Authorization" not in first.headers
    assert second.headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in form(second)

    clock.sleep(5)  # expired: the renewal goes straight to HTTP Basic
    authorization(auth)
    assert len(requests_mock.request_history) == 3
    assert requests_mock.request_history[2].headers["Authorization"].startswith("Basic ")


def test_configured_client_auth_is_never_switched(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json=basic_only)
    with pytest.raises(AuthError) as caught:
        authorization(oauth(client_auth="body"))
    assert len(requests_mock.request_history) == 1
    assert "invalid_client" in str(caught.value)
    assert "HTTP Basic" not in str(caught.value)


def test_a_refused_grant_is_not_retried_with_basic(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant"})
    with pytest.raises(AuthError):
        authorization(oauth(refresh_token=REFRESH_TOKEN))
    assert len(requests_mock.request_history) == 1


def test_refused_both_ways_says_so(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, status_code=401, json={"error": "invalid_client"})
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    assert len(requests_mock.request_history) == 2
    message = str(caught.value)
    assert "form body and with HTTP Basic" in message
    assert "client.auth.client_secret" in message
    assert CLIENT_SECRET not in message


def test_http_basic_form_encodes_id_and_secret_before_base64(requests_mock: Any) -> None:
    # RFC 6749 §2.3.1 / Appendix B: each is application/x-www-form-urlencoded, then
    # joined by ":" and Base64-encoded. A ":" inside the id must not split the pair.
    client_id = "team:analytics/éu"
    client_secret = "p@ss:w%rd+&=/?"
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1"})
    authorization(oauth(client_id=client_id, client_secret=client_secret, client_auth="basic"))
    header = requests_mock.request_history[0].headers["Authorization"]
    decoded = base64.b64decode(header.removeprefix("Basic ")).decode("ascii")
    user, colon, password = decoded.partition(":")
    assert colon
    assert ":" not in user
    assert ":" not in password
    assert unquote_plus(user) == client_id
    assert unquote_plus(password) == client_secret


def test_refresh_grant_rotation_never_resends_a_spent_token(requests_mock: Any) -> None:
    clock = FakeClock(start=0.0)
    requests_mock.post(TOKEN_URL, token_responses(
        {"access_token": "at-1", "expires_in": 60, "refresh_token": "rt-2"},
        {"access_token": "at-2", "expires_in": 60, "refresh_token": "rt-3"},
        {"access_token": "at-3", "expires_in": 60},
        {"access_token": "at-4", "expires_in": 60},
    ))
    rotated: list[str] = []
    auth = oauth(clock, refresh_token=REFRESH_TOKEN, on_refresh_token=rotated.append)
    tokens = []
    for _ in range(4):
        tokens.append(authorization(auth))
        clock.now += 61  # every token has expired by the next request
    assert tokens == ["Bearer at-1", "Bearer at-2", "Bearer at-3", "Bearer at-4"]
    sent = [form(r) for r in requests_mock.request_history]
    assert [b["grant_type"] for b in sent] == ["refresh_token"] * 4
    assert [b["refresh_token"] for b in sent] == [REFRESH_TOKEN, "rt-2", "rt-3", "rt-3"]
    assert all(b["client_id"] == CLIENT_ID for b in sent)
    assert rotated == ["rt-2", "rt-3"]
    assert auth.refresh_token == "rt-3"


def test_token_is_reused_until_shortly_before_expiry(requests_mock: Any) -> None:
    clock = FakeClock(start=0.0)
    requests_mock.post(TOKEN_URL, token_responses(
        {"access_token": "at-1", "expires_in": 3600},
        {"access_token": "at-2", "expires_in": 3600},
    ))
    auth = oauth(clock)
    assert authorization(auth) == "Bearer at-1"
    clock.now = 3000
    assert authorization(auth) == "Bearer at-1"
    assert requests_mock.call_count == 1
    clock.now = 3590  # within the renewal margin, not yet expired
    assert authorization(auth) == "Bearer at-2"
    assert requests_mock.call_count == 2


def test_short_lived_tokens_are_used_before_renewing(requests_mock: Any) -> None:
    clock = FakeClock(start=0.0)
    requests_mock.post(TOKEN_URL, token_responses(
        {"access_token": "at-1", "expires_in": 10},
        {"access_token": "at-2", "expires_in": 10},
    ))
    auth = oauth(clock)
    authorization(auth)
    clock.now = 5
    assert authorization(auth) == "Bearer at-1", "a 10 s token is not renewed after 5 s"
    clock.now = 9.95
    assert authorization(auth) == "Bearer at-2"


def test_token_without_expires_in_is_kept(requests_mock: Any) -> None:
    clock = FakeClock(start=0.0)
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1"})
    auth = oauth(clock)
    authorization(auth)
    clock.now = 10**6
    assert authorization(auth) == "Bearer at-1"
    assert requests_mock.call_count == 1


def test_renew_after_unauthorized_once_per_generation(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, token_responses(
        {"access_token": "at-1", "expires_in": 3600},
        {"access_token": "at-2", "expires_in": 3600},
        {"access_token": "at-3", "expires_in": 3600},
    ))
    auth = oauth(FakeClock(start=0.0))
    authorization(auth)
    seen = auth.generation
    # Two requests failed with 401 under the same token: only the first renews.
    auth.renew_after_unauthorized(seen)
    auth.renew_after_unauthorized(seen)
    assert requests_mock.call_count == 2
    assert authorization(auth) == "Bearer at-2"
    auth.renew_after_unauthorized(auth.generation)
    assert requests_mock.call_count == 3
    assert authorization(auth) == "Bearer at-3"


# --- failures: one line, the setting to check, no secrets ---------------------------------


@pytest.mark.parametrize("status", [400, 401])
def test_refused_refresh_grant(requests_mock: Any, status: int) -> None:
    body_text = (
        f"refresh token {REFRESH_TOKEN} revoked for client {CLIENT_ID} secret {CLIENT_SECRET}"
    )
    requests_mock.post(TOKEN_URL, status_code=status,
                       json={"error": "invalid_grant", "error_description": body_text})
    auth = oauth(refresh_token=REFRESH_TOKEN)
    with pytest.raises(AuthError) as caught:
        authorization(auth)
    message = str(caught.value)
    assert "\n" not in message
    assert f"HTTP {status}" in message
    assert "client.auth.refresh_token" in message
    assert "invalid_grant" in message
    assert CLIENT_SECRET not in message
    assert REFRESH_TOKEN not in message
    assert "revoked for client" not in message


@pytest.mark.parametrize("status", [400, 401, 403])
def test_refused_client_credentials(requests_mock: Any, status: int) -> None:
    requests_mock.post(TOKEN_URL, status_code=status,
                       text=f"<html>bad client {CLIENT_SECRET}</html>")
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    message = str(caught.value)
    assert "\n" not in message
    assert "client.auth.client_secret" in message
    assert "client.auth.client_id" in message
    assert CLIENT_SECRET not in message
    assert "bad client" not in message
    assert TOKEN_URL in message


def test_non_json_token_response(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, text="<html>login page</html>",
                       headers={"Content-Type": "text/html"})
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    message = str(caught.value)
    assert "client.auth.token_url" in message
    assert "access_token" in message
    assert "login page" not in message


@pytest.mark.parametrize("payload", [{"token": "x"}, {"access_token": ""}, {"access_token": None}, []])
def test_token_response_without_a_usable_access_token(requests_mock: Any, payload: Any) -> None:
    requests_mock.post(TOKEN_URL, json=payload)
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    assert "access_token" in str(caught.value)


def test_token_endpoint_unreachable_is_retried_then_named(requests_mock: Any, fake_time: Any) -> None:
    requests_mock.post(TOKEN_URL, exc=requests.exceptions.ConnectTimeout)
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    assert "client.auth.token_url" in str(caught.value)
    assert "ConnectTimeout" in str(caught.value)
    assert requests_mock.call_count == 4  # the first try and the default 3 retries
    assert fake_time.sleeps == [2.0, 4.0, 8.0]


def test_token_endpoint_outage_is_not_blamed_on_credentials(
    requests_mock: Any, fake_time: Any
) -> None:
    requests_mock.post(TOKEN_URL, [
        {"status_code": 503, "text": f"<html>down {CLIENT_SECRET}</html>"},
        {"status_code": 500, "text": "oops"},
        {"json": {"access_token": "at-after-outage", "expires_in": 3600}},
    ])
    prepared = authorization(oauth())
    assert prepared == "Bearer at-after-outage"
    assert fake_time.sleeps == [2.0, 4.0]

    requests_mock.post(TOKEN_URL, status_code=500, text=f"<html>{CLIENT_SECRET}</html>")
    with pytest.raises(AuthError) as caught:
        oauth().update_access_token()
    message = str(caught.value)
    assert "unavailable" in message
    assert "HTTP 500" in message
    assert CLIENT_SECRET not in message


# --- building authenticators from config ---------------------------------------------------


def test_build_bearer_and_api_key_authenticators() -> None:
    bearer = build_authenticator({"type": "bearer", "token": "tok-unit-1"})
    assert bearer is not None
    prepared = bearer(requests.Request("GET", DATA_URL).prepare())
    assert prepared.headers["Authorization"] == "Bearer tok-unit-1"

    header_key = build_authenticator({"type": "api_key", "name": "X-Api-Key", "api_key": "ak-unit-1"})
    assert header_key is not None
    prepared = header_key(requests.Request("GET", DATA_URL).prepare())
    assert prepared.headers["X-Api-Key"] == "ak-unit-1"

    query_key = build_authenticator({"type": "api_key", "api_key": "ak-unit-2", "location": "query",
                                     "name": "api_key"})
    assert query_key is not None
    prepared = query_key(requests.Request("GET", DATA_URL, params={"a": "1"}).prepare())
    assert parse_qs(prepared.url.split("?", 1)[1]) == {"a": ["1"], "api_key": ["ak-unit-2"]}
    assert "api_key" not in prepared.headers


def test_build_oauth2_authenticator() -> None:
    auth = build_authenticator({"type": "oauth2", "client_id": "a", "client_secret": "b-unit-1",
                                "token_url": TOKEN_URL, "client_auth": "basic"})
    assert isinstance(auth, OAuth2Authenticator)
    assert auth.grant_type == "client_credentials"
    refresh = build_authenticator({"type": "oauth2", "client_id": "a", "client_secret": "b-unit-1",
                                   "token_url": TOKEN_URL, "refresh_token": "rt-unit-1"})
    assert isinstance(refresh, OAuth2Authenticator)
    assert refresh.grant_type == "refresh_token"


def test_no_auth() -> None:
    assert build_authenticator({}) is None
    assert build_authenticator({"type": "none"}) is None


def test_secrets_of_auth() -> None:
    assert set(secrets_of({"type": "oauth2", "client_id": "cid", "client_secret": "cs",
                           "refresh_token": "rt", "token_url": TOKEN_URL})) == {"cs", "rt"}
    assert secrets_of({"type": "api_key", "name": "api_key", "api_key": "ak"}) == ["ak"]
    assert secrets_of({"type": "bearer", "token": "tk"}) == ["tk"]


# --- single-flight renewal --------------------------------------------------------------


def test_a_refused_renewal_fails_every_later_request_without_asking_again(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, token_responses({"access_token": "at-1", "expires_in": 3600}))
    auth = oauth(FakeClock(start=0.0), refresh_token=REFRESH_TOKEN)
    authorization(auth)
    seen = auth.generation
    requests_mock.post(TOKEN_URL, status_code=400, json={"error": "invalid_grant"})
    with pytest.raises(AuthError) as first:
        auth.renew_after_unauthorized(seen)
    # Other requests that met the same token, and every request after: the same error,
    # no second refused request.
    with pytest.raises(AuthError) as second:
        auth.renew_after_unauthorized(seen)
    with pytest.raises(AuthError) as third:
        authorization(auth)
    assert str(first.value) == str(second.value) == str(third.value)
    assert "invalid_grant" in str(first.value)
    assert [form(r)["grant_type"] for r in requests_mock.request_history] == ["refresh_token"] * 2


def test_generation_is_the_one_of_the_token_this_thread_sent(requests_mock: Any) -> None:
    """A thread that sent the old token and reads the generation after another thread
    renewed still refers to the old token: its 401 then renews nothing more."""
    requests_mock.post(TOKEN_URL, token_responses(
        {"access_token": "at-1", "expires_in": 3600},
        {"access_token": "at-2", "expires_in": 3600},
    ))
    auth = oauth(FakeClock(start=0.0))
    sent_in_worker: list[tuple[str, int]] = []

    def worker() -> None:
        header = authorization(auth)
        auth.renew_after_unauthorized()  # the worker's 401 renews: at-1 -> at-2
        sent_in_worker.append((header, auth.generation))

    assert authorization(auth) == "Bearer at-1"
    mine = auth.generation
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert sent_in_worker == [("Bearer at-1", 1)]
    assert auth.generation == mine == 1, "this thread sent at-1 and still refers to it"
    auth.renew_after_unauthorized()  # the 401 on at-1 here: already renewed, no request
    assert requests_mock.call_count == 2
    assert authorization(auth) == "Bearer at-2"
    assert auth.generation == 2


# --- the token POST and redirects -------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("https://evil.example.net/oauth/token", "to another host"),
        ("http://auth.example.com/oauth/token", "down to plain http"),
        ("https://auth.example.com:8443/oauth/token", "to another port"),
    ],
)
@pytest.mark.parametrize("status", [307, 308])
def test_token_post_never_resends_credentials_elsewhere(
    requests_mock: Any, status: int, location: str, why: str
) -> None:
    requests_mock.post(TOKEN_URL, status_code=status, headers={"Location": location})
    elsewhere = requests_mock.post(location, json={"access_token": "at-stolen"})
    with pytest.raises(AuthError) as caught:
        authorization(oauth(client_auth="body"))
    assert not elsewhere.called, "the client secret went along"
    message = str(caught.value)
    assert why in message
    assert f"HTTP {status}" in message
    assert "client.auth.token_url" in message
    assert CLIENT_SECRET not in message


@pytest.mark.parametrize("status", [307, 308])
def test_token_post_follows_a_same_host_307_308_with_its_body(requests_mock: Any, status: int) -> None:
    moved = "https://auth.example.com/v2/oauth/token"
    requests_mock.post(TOKEN_URL, status_code=status, headers={"Location": "/v2/oauth/token"})
    requests_mock.post(moved, json={"access_token": "at-moved"})
    assert authorization(oauth()) == "Bearer at-moved"
    assert form(requests_mock.request_history[1])["client_secret"] == CLIENT_SECRET


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_token_redirect_that_would_drop_the_post_names_the_target(requests_mock: Any, status: int) -> None:
    requests_mock.post(TOKEN_URL, status_code=status, headers={"Location": "/v2/oauth/token"})
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    assert "https://auth.example.com/v2/oauth/token" in str(caught.value)
    assert requests_mock.call_count == 1


def test_a_token_redirect_loop_ends(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, status_code=307, headers={"Location": TOKEN_URL})
    with pytest.raises(AuthError) as caught:
        authorization(oauth())
    assert "redirects" in str(caught.value)
    assert requests_mock.call_count == 6

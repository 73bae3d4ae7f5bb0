"""Secrets never reach stdout, stderr or STATE.

Every bad-input scenario (the same runs as test_bad_input.py), their --log-level=debug
variants, and a normal sync of each seed configuration -- helpdesk with access tokens
expiring every 0.2 s, so several rotated refresh tokens and access tokens exist, and a
config-declared resource whose API key travels as a query parameter -- are grepped for
every secret the run involved: client secrets, refresh tokens (rotated ones included),
access tokens, the bearer token, API keys, and wrong credentials a user configured.

The sandbox takes statuspage's API key from a header only, so the key-in-a-query-parameter
runs (a normal sync, a 404, bad data) use a tiny local server (`helpers.TinyServer`) that
refuses a request without `?api_key=`.

The auth types of dlt's language (the bearer shorthand, http_basic, an API key in a cookie
or as dlt's `param`, oauth2_client_credentials with secret form data, endpoint.auth) run
against `AuthAPI`, synced, refused and with a token redirect to another host, and are
grepped the same way (a Basic header's Base64 included).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_auth_servers import AuthAPI

from .helpers import leaked, run_cli_capture
from .scenarios import BAD_INPUT, DEBUG_IDS, NORMAL_SYNCS, ScenarioRun

RUNS = [
    *((s.id, ()) for s in BAD_INPUT),
    *((i, ("--log-level=debug",)) for i in DEBUG_IDS),
    *((s.id, ()) for s in NORMAL_SYNCS),
]


@pytest.mark.parametrize(("scenario_id", "args"), RUNS, ids=[f"{i}{'-debug' if a else ''}" for i, a in RUNS])
def test_no_secret_in_any_output(scenario_run: Any, scenario_id: str, args: tuple[str, ...]) -> None:
    result: ScenarioRun = scenario_run(scenario_id, *args)
    run = result.run
    if result.scenario.succeeds:
        assert run.returncode == 0, run.stderr[-2000:]
        assert any(m["type"] == "RECORD" for m in run.messages)
        assert any(m["type"] == "STATE" for m in run.messages)
    assert result.secrets, "no secrets to look for: the test proves nothing"
    for where, text in (("stdout (records and STATE)", run.stdout + run.partial), ("stderr", run.stderr)):
        found = leaked(text, result.secrets)
        assert not found, f"{where} holds secrets: {found[:3]}"


def test_rotating_sync_involved_several_tokens(scenario_run: Any) -> None:
    """The rotating helpdesk sync really rotated: its grep covers several refresh and
    access tokens, not just the configured one."""
    result: ScenarioRun = scenario_run("sync-helpdesk-rotating")
    refresh = [s for s in result.secrets if "REFRESH-" in s]
    access = [s for s in result.secrets if "-ACCESS-" in s and s.startswith("at-helpdesk")]
    assert len(refresh) >= 3, refresh
    assert len(access) >= 3
    assert "rotated the refresh token" in result.run.stderr


def test_the_grep_finds_a_planted_secret() -> None:
    """The check above can fail: a secret, or any sandbox-style secret string, is found."""
    assert leaked("GET /x?api_key=s3cr3t-value HTTP/1.1", ["s3cr3t-value"]) == ["s3cr3t-value"]
    assert leaked("Bearer at-helpdesk-ACCESS-7-0123456789abcdef", [])
    assert not leaked("GET /x?api_key=*** HTTP/1.1", ["s3cr3t-value"])


# ------------------------------------------- every auth type of dlt's language (AuthAPI)
WRONG_PASSWORD = "pw-wrong-SECRET-5b0c1f7e93a2"
WRONG_KEY = "ak-wrong-APIKEY-77e1c0b4d2f9"
FORM_SECRET = "pw-form-SECRET-3c9a51e0d8b7"


def _auth_runs(api: AuthAPI, other: AuthAPI) -> dict[str, tuple[dict[str, Any], bool]]:
    """run id -> (config, succeeds): each new type synced, refused and misdirected."""
    basic = {"type": "http_basic", "username": api.username, "password": api.password}
    cookie = {"type": "api_key", "name": "session_key", "api_key": api.api_key, "location": "cookie"}
    query = {"type": "api_key", "name": "key", "api_key": api.api_key, "location": "param"}
    client_credentials = {
        "type": "oauth2_client_credentials", "access_token_url": f"{api.base_url}/oauth/token",
        "client_id": api.client_id, "client_secret": api.client_secret,
        "access_token_request_data": {"password": FORM_SECRET},
    }

    def per_path(mode: str, auth: dict[str, Any], client: dict[str, Any] | None = None) -> dict[str, Any]:
        """`auth` as client.auth; or as endpoint.auth when a `client` auth is given."""
        config = api.config(auth if client is None else client)
        endpoint = config["resources"][0]["endpoint"]
        endpoint["path"] = f"{mode}/records"
        if client is not None:
            endpoint["auth"] = auth
        return config

    def missing(config: dict[str, Any]) -> dict[str, Any]:
        config["resources"][0]["endpoint"]["path"] = "api_key_query/missing"
        return config

    return {
        "bearer-shorthand": (per_path("bearer", {"token": api.token}), True),
        "http-basic": (per_path("basic", basic), True),
        "api-key-cookie": (per_path("api_key_cookie", cookie), True),
        "api-key-param": (per_path("api_key_query", query), True),
        "client-credentials": (per_path("oauth2", client_credentials), True),
        "endpoint-auth-over-client-auth": (per_path("basic", basic, client={"token": api.token}), True),
        "http-basic-401": (per_path("basic", {**basic, "password": WRONG_PASSWORD}), False),
        "endpoint-basic-401": (per_path("basic", {**basic, "password": WRONG_PASSWORD},
                                        client={"token": api.token}), False),
        "api-key-cookie-401": (per_path("api_key_cookie", {**cookie, "api_key": WRONG_KEY}), False),
        "api-key-param-404": (missing(per_path("api_key_query", query)), False),
        "client-credentials-refused": (per_path("oauth2", {**client_credentials,
                                                           "client_secret": WRONG_PASSWORD}), False),
        "token-redirect-elsewhere": (per_path("oauth2", {
            **client_credentials, "access_token_url": f"{api.base_url}/elsewhere"}), False),
    }


#: What the one error line of each failing run names.
FAILURE_NAMES = {
    "http-basic-401": "client.auth.username/password",
    "endpoint-basic-401": "resources.records.endpoint.auth.username/password",
    "api-key-cookie-401": "sent as cookie 'session_key'",
    "api-key-param-404": "key=***",
    "client-credentials-refused": "client.auth.client_secret",
    "token-redirect-elsewhere": "to another host",
}

AUTH_RUN_IDS = [
    "bearer-shorthand", "http-basic", "api-key-cookie", "api-key-param", "client-credentials",
    "endpoint-auth-over-client-auth", "http-basic-401", "endpoint-basic-401", "api-key-cookie-401",
    "api-key-param-404", "client-credentials-refused", "token-redirect-elsewhere",
]


@pytest.mark.parametrize("args", [(), ("--log-level=debug",)], ids=["info", "debug"])
@pytest.mark.parametrize("run_id", AUTH_RUN_IDS)
def test_no_secret_of_any_auth_type_in_any_output(tmp_path: Path, run_id: str, args: tuple[str, ...]) -> None:
    with AuthAPI("none", tag="otherhost") as other, AuthAPI(
        "none", api_key_name="session_key" if "cookie" in run_id else "key",
        require_form={"password": FORM_SECRET},
        redirects={"/elsewhere": (307, f"{other.other_host_url}/oauth/token")},
    ) as api:
        config, succeeds = _auth_runs(api, other)[run_id]
        run = run_cli_capture(tmp_path, config, *args)
        secrets = [*api.secrets, WRONG_PASSWORD, WRONG_KEY, FORM_SECRET,
                   base64.b64encode(f"{api.username}:{api.password}".encode()).decode(),
                   base64.b64encode(f"{api.username}:{WRONG_PASSWORD}".encode()).decode()]
        assert not other.log, "a credential reached the other host"
    if succeeds:
        assert run.returncode == 0, run.stderr[-2000:]
        assert len([m for m in run.messages if m["type"] == "RECORD"]) == 45
        assert any(m["type"] == "STATE" for m in run.messages)
    else:
        assert run.returncode != 0
        [line] = run.error_lines
        assert FAILURE_NAMES[run_id] in line, line
    for where, text in (("stdout (records and STATE)", run.stdout + run.partial), ("stderr", run.stderr)):
        found = leaked(text, secrets)
        assert not found, f"{where} holds secrets: {found[:3]}"

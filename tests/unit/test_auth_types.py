"""Every auth type of dlt's language: how it is validated, what it puts on a request,
which of its settings are secrets, and the token cache's lineage key."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tap_analytics.auth import (
    AUTH_TYPES,
    OAuth2Authenticator,
    RefreshTokenStore,
    auth_type,
    auths_in,
    build_authenticator,
    credential_hint,
    redirect_risk,
    secret_params_of,
    secrets_of,
)
from tap_analytics.config.auth import endpoint_auth, validate_auth

URL = "https://api.example.com/v1/things?page=2&q="


def applied(auth: dict[str, Any], url: str = URL, **headers: str) -> requests.PreparedRequest:
    authenticator = build_authenticator(auth)
    assert authenticator is not None
    return authenticator(requests.Request("GET", url, headers=headers).prepare())


# --- what each type puts on a request -----------------------------------------------------


def test_bearer_shorthand_without_a_type() -> None:
    assert auth_type({"token": "tok-unit-9"}) == "bearer"
    assert validate_auth({"token": "tok-unit-9"}) == []
    assert applied({"token": "tok-unit-9"}).headers["Authorization"] == "Bearer tok-unit-9"


def test_http_basic_as_dlt_sends_it() -> None:
    prepared = applied({"type": "http_basic", "username": "ana:lyst", "password": "pä ss"})
    scheme, _, value = prepared.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == "ana:lyst:pä ss"  # RFC 7617: UTF-8, no escaping
    # dlt accepts an empty password or username (its own valid configs have both).
    assert validate_auth({"type": "http_basic", "username": "u", "password": ""}) == []
    assert validate_auth({"type": "http_basic", "username": "", "password": "p"}) == []


@pytest.mark.parametrize("location", ["query", "param"])
def test_api_key_in_the_query_leaves_the_other_parameters_alone(location: str) -> None:
    prepared = applied({"type": "api_key", "name": "key", "api_key": "a b&c", "location": location})
    assert urlsplit(prepared.url).query == "page=2&q=&key=a+b%26c"
    assert parse_qsl(urlsplit(prepared.url).query, keep_blank_values=True)[-1] == ("key", "a b&c")
    bare = applied({"type": "api_key", "name": "key", "api_key": "k1", "location": location},
                   url="https://api.example.com/v1/things")
    assert bare.url == "https://api.example.com/v1/things?key=k1"


def test_api_key_in_a_cookie_joins_the_cookies_already_there() -> None:
    auth = {"type": "api_key", "name": "session_key", "api_key": "ck-unit-1", "location": "cookie"}
    assert applied(auth).headers["Cookie"] == "session_key=ck-unit-1"
    assert applied(auth, Cookie="theme=dark").headers["Cookie"] == "theme=dark; session_key=ck-unit-1"


def test_api_key_defaults_are_dlts() -> None:
    prepared = applied({"type": "api_key", "api_key": "ak-unit-3"})
    assert prepared.headers["Authorization"] == "ak-unit-3"
    assert prepared.url == URL


def test_static_credentials_keep_the_query_as_it_was() -> None:
    """The SDK's authenticators re-encode the query and drop `q=`; these do not."""
    for auth in ({"token": "t-unit-1"}, {"type": "http_basic", "username": "u", "password": "p"},
                 {"type": "api_key", "name": "X-Key", "api_key": "k-unit-1"}):
        assert applied(auth).url == URL


def test_oauth2_client_credentials_as_dlt_requests_it(requests_mock: Any) -> None:
    token_url = "https://auth.example.com/token"
    requests_mock.post(token_url, json={"access_token": "at-dlt-1"})
    auth = {
        "type": "oauth2_client_credentials", "access_token_url": token_url, "client_id": "cid",
        "client_secret": "cs-unit-dlt-1",
        "access_token_request_data": {"audience": "analytics", "grant_type": "client_credentials"},
        "default_token_expiration": 120,
    }
    assert validate_auth(auth) == []
    authenticator = build_authenticator(auth)
    assert isinstance(authenticator, OAuth2Authenticator)
    prepared = authenticator(requests.Request("GET", URL).prepare())
    assert prepared.headers["Authorization"] == "Bearer at-dlt-1"
    sent = dict(parse_qsl(requests_mock.request_history[0].text))
    assert sent == {"grant_type": "client_credentials", "client_id": "cid",
                    "client_secret": "cs-unit-dlt-1", "audience": "analytics"}
    assert authenticator.expires_in == 120, "no expires_in: default_token_expiration"


def test_oauth2_client_credentials_uses_a_given_access_token_first(requests_mock: Any) -> None:
    token_url = "https://auth.example.com/token"
    requests_mock.post(token_url, json={"access_token": "at-fresh"})
    authenticator = build_authenticator({
        "type": "oauth2_client_credentials", "access_token_url": token_url, "client_id": "cid",
        "client_secret": "cs-unit-dlt-2", "access_token": "at-given"})
    assert isinstance(authenticator, OAuth2Authenticator)
    assert authenticator(requests.Request("GET", URL).prepare()).headers["Authorization"] == "Bearer at-given"
    assert not requests_mock.called
    authenticator.renew_after_unauthorized()  # the API refused it
    assert authenticator(requests.Request("GET", URL).prepare()).headers["Authorization"] == "Bearer at-fresh"


# --- validation: one line each, what dlt rejects is rejected ------------------------------


@pytest.mark.parametrize(
    ("auth", "setting", "words"),
    [
        # dlt's INVALID_CONFIGS: an auth type as a string, an api_key without its key
        ("api_key", "client.auth", ("shorthand", '"type": "api_key"', '"api_key": ...')),
        ({"type": "api_key", "location": "header"}, "client.auth.api_key", ("required",)),
        ("bearer", "client.auth", ("secrets store", '"token": ...')),
        ("digest", "client.auth", ("must be an object",)),
        (["token"], "client.auth", ("must be an object",)),
        ({"type": "htp_basic", "username": "u", "password": "p"}, "client.auth.type",
         ("did you mean 'http_basic'", "oauth2_client_credentials")),
        ({"type": 3}, "client.auth.type", ("unknown auth type 3",)),
        ({"type": "http_basic", "username": "u"}, "client.auth.password", ("required",)),
        ({"type": "bearer", "token": "t", "tokn": "t"}, "client.auth.tokn", ("did you mean 'token'",)),
        ({"type": "bearer", "token": "t", "api_key": "k"}, "client.auth.api_key",
         ("a setting of api_key", "not of 'bearer'")),
        ({"type": "bearer", "token": "t", "colour": "red"}, "client.auth.colour", ("known: token, type",)),
        ({"type": "api_key", "api_key": "k", "location": "body"}, "client.auth.location",
         ("header, query, param, cookie",)),
        ({"type": "api_key", "api_key": "k", "name": "X Key"}, "client.auth.name", ("header name",)),
        ({"type": "api_key", "api_key": "a;b", "location": "cookie", "name": "sid"},
         "client.auth.api_key", ("cookie cannot carry",)),
        ({"type": "bearer", "token": 12345}, "client.auth.token", ("must be a string",)),
        ({"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "s"},
         "client.auth.access_token_url", ("required",)),
        ({"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "s",
          "access_token_url": "http://auth.example.com/t"}, "client.auth.access_token_url",
         ("allow_insecure_http",)),
        ({"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "s",
          "access_token_url": "https://a.example.com/t", "access_token_request_data": "x=1"},
         "client.auth.access_token_request_data", ("object of form fields",)),
        ({"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "s",
          "access_token_url": "https://a.example.com/t", "default_token_expiration": "60"},
         "client.auth.default_token_expiration", ("whole number",)),
        ({"type": "oauth2", "client_id": "a", "client_secret": "s", "token_url": "https://a.example.com/t",
          "session": {}}, "client.auth.session", ("not a setting",)),
    ],
)
def test_invalid_auth_is_one_line_naming_the_setting(auth: Any, setting: str, words: tuple[str, ...]) -> None:
    errors = validate_auth(auth)
    assert len(errors) == 1, errors
    [line] = errors
    assert line.startswith(f"{setting}:"), line
    for word in words:
        assert word in line, line


def test_an_auth_without_a_type_is_a_bearer_token() -> None:
    required, unknown = validate_auth({"client_id": "x"})
    assert required == ("client.auth.token: required for auth type 'bearer' (an auth without a "
                        "type is dlt's bearer shorthand)")
    assert unknown.startswith("client.auth.client_id: not a setting of auth type 'bearer'; it is a "
                              "setting of oauth2, oauth2_client_credentials")


def test_validation_never_echoes_a_secret() -> None:
    secret = "ak-unit-SECRET;value"
    errors = validate_auth({"type": "api_key", "api_key": secret, "location": "cookie", "name": "k"})
    assert errors
    assert all(secret not in e for e in errors)


def test_an_empty_setting_of_another_type_is_not_an_error() -> None:
    """Meltano passes settings of the other types on empty: they are not errors."""
    assert validate_auth({"type": "bearer", "token": "t", "client_id": "", "api_key": None}) == []


def test_every_registered_type_is_named_by_the_unknown_type_error() -> None:
    [line] = validate_auth({"type": "kerberos"})
    for name in AUTH_TYPES:
        assert name in line


# --- endpoint.auth --------------------------------------------------------------------------


def test_endpoint_auth_overrides_or_removes_client_auth() -> None:
    assert endpoint_auth({"path": "x"}, "resources[0] (x)") == (False, None, [])
    assert endpoint_auth({"auth": None}, "resources[0] (x)") == (True, None, [])
    basic = {"type": "http_basic", "username": "u", "password": "p"}
    assert endpoint_auth({"auth": basic}, "resources[0] (x)") == (True, basic, [])
    override, auth, [error] = endpoint_auth({"auth": "http_basic"}, "resources[0] (x)")
    assert (override, auth) == (False, None)
    assert error.startswith("resources[0] (x).endpoint.auth: 'http_basic' alone")
    [error] = endpoint_auth({"auth": {"type": "api_key"}}, "resources[1] (y)")[2]
    assert error.startswith("resources[1] (y).endpoint.auth.api_key: required")


# --- secrets ----------------------------------------------------------------------------------


def test_every_secret_of_every_type_is_found() -> None:
    assert set(secrets_of({"type": "http_basic", "username": "user-1", "password": "pw-1"})) == {"pw-1"}
    assert set(secrets_of({"token": "tk-1"})) == {"tk-1"}
    assert set(secrets_of({
        "type": "oauth2_client_credentials", "client_id": "cid", "client_secret": "cs-1",
        "access_token": "at-1", "access_token_url": "https://a.example.com/t",
        "access_token_request_data": {"audience": "aud", "password": "pw-2", "refresh_token": "rt-2"},
    })) == {"cs-1", "at-1", "pw-2", "rt-2"}
    assert secrets_of("api_key") == []
    assert secrets_of(None) == []
    declared = {name for cls in AUTH_TYPES.values() for name in cls.SECRETS}
    assert declared == {"client_secret", "refresh_token", "token", "api_key", "password", "access_token"}


def test_secret_query_parameters_and_every_auth_of_a_config() -> None:
    query = {"type": "api_key", "api_key": "k", "location": "param", "name": "key"}
    assert secret_params_of(query) == ["key"]
    assert secret_params_of({"type": "api_key", "api_key": "k", "location": "query"}) == ["Authorization"]
    assert secret_params_of({"type": "api_key", "api_key": "k"}) == []
    config = {
        "client": {"auth": {"token": "a"}},
        "resource_defaults": {"endpoint": {"auth": {"token": "b"}}},
        "resources": ["x", {"name": "y", "endpoint": "y"}, {"name": "z", "endpoint": {"auth": query}}],
    }
    assert list(auths_in(config)) == [{"token": "a"}, {"token": "b"}, query]


def test_credential_hints_name_the_settings_where_they_are() -> None:
    assert credential_hint({"token": "t"}, "client.auth") == "client.auth.token"
    assert credential_hint({"type": "http_basic"}, "resources.x.endpoint.auth") == (
        "resources.x.endpoint.auth.username/password")
    assert "cookie 'sid'" in credential_hint(
        {"type": "api_key", "location": "cookie", "name": "sid"}, "client.auth")
    assert "client_secret" in credential_hint({"type": "oauth2_client_credentials"}, "client.auth")
    assert credential_hint(None, "client.auth") == "client.auth (the API requires credentials)"


# --- redirects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "target", "risk"),
    [
        ("https://a.example.com/x", "https://a.example.com/y?z=1", None),
        ("https://a.example.com/x", "https://A.EXAMPLE.COM:443/y", None),
        ("http://a.example.com/x", "https://a.example.com/y", None),
        ("https://a.example.com/x", "http://a.example.com/y", "down to plain http"),
        ("https://a.example.com/x", "https://b.example.com/y", "to another host"),
        ("http://127.0.0.1:8000/x", "http://localhost:8000/y", "to another host"),
        ("http://127.0.0.1:8000/x", "http://127.0.0.1:8001/y", "to another port"),
        ("http://a.example.com:8080/x", "https://a.example.com/y", "to another scheme"),
        ("https://a.example.com/x", "ftp://a.example.com/y", "to a URL that is not http(s)"),
    ],
)
def test_where_credentials_may_follow_a_redirect(source: str, target: str, risk: str | None) -> None:
    assert redirect_risk(source, target) == risk


# --- the token cache: one lineage, whatever the token URL says ------------------------------


def test_token_cache_is_keyed_by_client_and_configured_token(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    RefreshTokenStore(path, client_id="c1", configured="rt-configured").save("rt-rotated-1")
    assert RefreshTokenStore(path, client_id="c1", configured="rt-configured").load() == "rt-rotated-1"
    assert RefreshTokenStore(path, client_id="c2", configured="rt-configured").load() is None
    assert RefreshTokenStore(path, client_id="c1", configured="rt-new").load() is None
    assert "rt-" not in path.read_text().replace("rt-rotated-1", "")


def test_token_cache_reads_and_replaces_an_entry_of_the_earlier_format(tmp_path: Path) -> None:
    import hashlib  # noqa: PLC0415 - only this test writes the old format

    path = tmp_path / "cache.json"
    old_key = hashlib.sha256(b"https://127.0.0.1/token|c1").hexdigest()[:16]
    seed = hashlib.sha256(b"rt-configured").hexdigest()
    other = {"refresh_token": "rt-other-api", "seeded_from": hashlib.sha256(b"x").hexdigest()}
    path.write_text(json.dumps({old_key: {"refresh_token": "rt-old-format", "seeded_from": seed},
                                "k2": other}))
    store = RefreshTokenStore(path, client_id="c1", configured="rt-configured")
    assert store.load() == "rt-old-format"
    store.save("rt-rotated-2")
    data = json.loads(path.read_text())
    assert [e["refresh_token"] for e in data.values()] == ["rt-other-api", "rt-rotated-2"]
    assert store.load() == "rt-rotated-2"


def test_token_cache_names_other_lineages_of_the_client(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    RefreshTokenStore(path, client_id="c1", configured="rt-a").save("rt-a-2")
    RefreshTokenStore(path, client_id="c9", configured="rt-z").save("rt-z-2")
    assert RefreshTokenStore(path, client_id="c1", configured="rt-a").other_lineages() == ""
    note = RefreshTokenStore(path, client_id="c1", configured="rt-b").other_lineages()
    assert str(path) in note
    assert "descended from another configured refresh_token" in note
    note = RefreshTokenStore(path, client_id="c2", configured="rt-a").other_lineages()
    assert "for another client_id" in note
    assert RefreshTokenStore(path, client_id="c3", configured="rt-c").other_lineages() == ""


def test_a_new_lineage_of_a_client_replaces_its_old_one(tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    RefreshTokenStore(path, client_id="c1", configured="rt-a").save("rt-a-2")
    RefreshTokenStore(path, client_id="c9", configured="rt-z").save("rt-z-2")
    RefreshTokenStore(path, client_id="c1", configured="rt-b").save("rt-b-2")
    tokens = sorted(e["refresh_token"] for e in json.loads(path.read_text()).values())
    assert tokens == ["rt-b-2", "rt-z-2"]
    assert RefreshTokenStore(path, client_id="c1", configured="rt-a").load() is None


# --- every setting of every type is documented, and its secrets marked, everywhere ---------


def test_every_auth_setting_is_in_about_and_meltano_with_its_secrets_marked() -> None:
    import yaml  # noqa: PLC0415 - only this test reads meltano.yml

    from tap_analytics.settings import CONFIG_SCHEMA  # noqa: PLC0415

    about = CONFIG_SCHEMA["properties"]["client"]["properties"]["auth"]["properties"]
    project = yaml.safe_load((Path(__file__).parents[2] / "meltano.yml").read_text())
    [tap] = [e for e in project["plugins"]["extractors"] if e["name"] == "tap-analytics"]
    meltano = {s["name"].removeprefix("client.auth."): s for s in tap["settings"]
               if s["name"].startswith("client.auth.")}
    for cls in AUTH_TYPES.values():
        for name in ("type", *cls.REQUIRED, *cls.OPTIONAL):
            assert name in about, f"{cls.type_name}.{name} missing from --about"
            assert name in meltano, f"{cls.type_name}.{name} missing from meltano.yml"
            secret = name in cls.SECRETS
            assert bool(about[name].get("secret")) is secret, name
            assert (meltano[name].get("sensitive") is True) is secret, name
            assert (meltano[name]["kind"] == "password") is secret, name
    assert {o["value"] for o in meltano["type"]["options"]} == set(AUTH_TYPES)
    assert tuple(o["value"] for o in meltano["location"]["options"]) == (
        AUTH_TYPES["api_key"].CHOICES["location"])


def test_a_cli_runs_config_place_does_not_follow_later_taps_of_the_process(tmp_path: Path) -> None:
    """The token cache goes beside --config only within that command-line run: a later tap
    of the same process (a test, a Python caller) used to write beside the earlier run's
    file, and with lineage keys read a token another server had issued."""
    from click.testing import CliRunner  # noqa: PLC0415

    from tap_analytics.tap import TapAnalytics  # noqa: PLC0415

    config = {"client": {"base_url": "https://api.example.com", "auth": {"token": "tk-unit-cli-2"}},
              "resources": ["events", "repositories"]}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    result = CliRunner().invoke(TapAnalytics.cli, ["--config", str(path), "--discover"])
    assert result.exit_code == 0, result.output
    assert TapAnalytics(config=config, parse_env_config=False).token_cache_path is None

"""Every auth type of dlt's language, run by the tap and by dlt's own `rest_api_source` on
the same config against the same server: the same records, and each credential only
where its type puts it (issue 10, Authentication).

The servers are `AuthAPI` (every auth mode, one per path as well) and the DRF + DOT API
(the client-credentials grant of a real OAuth2 server).
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from typing import Any

import pytest
from dlt.extract.exceptions import ResourceExtractionError
from dlt.sources.rest_api import rest_api_source

from tests.servers.drf import DRFServer

from .helpers import run_tap
from .test_auth_servers import AuthAPI


def dlt_records(config: dict[str, Any], resource: str = "records") -> list[dict[str, Any]]:
    """What dlt's rest_api_source yields for `resource` (no pipeline: the items themselves)."""
    return [dict(item) for item in rest_api_source(copy.deepcopy(config)).resources[resource]]


def tap_records(config: dict[str, Any], stream: str = "records") -> list[dict[str, Any]]:
    return run_tap(copy.deepcopy(config)).records(stream)


def assert_same_records(tap: list[dict[str, Any]], dlt: list[dict[str, Any]]) -> None:
    assert dlt, "dlt loaded nothing: the comparison proves nothing"
    assert len(tap) == len(dlt)
    for ours, theirs in zip(sorted(tap, key=lambda r: r["id"]), sorted(dlt, key=lambda r: r["id"]),
                            strict=True):
        assert ours.keys() == theirs.keys()
        assert ours == theirs


@pytest.fixture
def api_factory() -> Iterator[Any]:
    started: list[AuthAPI] = []

    def make(mode: str, **options: Any) -> AuthAPI:
        started.append(AuthAPI(mode, **options))
        return started[-1]

    yield make
    for api in started:
        api.stop()


def _auth(api: AuthAPI, case: str) -> dict[str, Any]:
    return {
        "bearer": {"type": "bearer", "token": api.token},
        "bearer_shorthand": {"token": api.token},
        "http_basic": {"type": "http_basic", "username": api.username, "password": api.password},
        "api_key_header": {"type": "api_key", "name": "X-API-Key", "api_key": api.api_key},
        "api_key_default_name": {"type": "api_key", "api_key": api.api_key},
        "api_key_query": {"type": "api_key", "name": "key", "api_key": api.api_key, "location": "query"},
        "api_key_param": {"type": "api_key", "name": "key", "api_key": api.api_key, "location": "param"},
        "api_key_cookie": {"type": "api_key", "name": "session_key", "api_key": api.api_key,
                           "location": "cookie"},
        "oauth2_client_credentials": {
            "type": "oauth2_client_credentials", "access_token_url": f"{api.base_url}/oauth/token",
            "client_id": api.client_id, "client_secret": api.client_secret,
            "access_token_request_data": {"audience": "analytics"}, "default_token_expiration": 600,
        },
        "oauth2": {"type": "oauth2", "token_url": f"{api.base_url}/oauth/token",
                   "client_id": api.client_id, "client_secret": api.client_secret},
    }[case]


#: case -> (server mode, the API key's name on the server)
CASES = {
    "bearer": ("bearer", "X-API-Key"),
    "bearer_shorthand": ("bearer", "X-API-Key"),
    "http_basic": ("basic", "X-API-Key"),
    "api_key_header": ("api_key_header", "X-API-Key"),
    "api_key_default_name": ("api_key_header", "Authorization"),
    "api_key_query": ("api_key_query", "key"),
    "api_key_param": ("api_key_query", "key"),
    "api_key_cookie": ("api_key_cookie", "session_key"),
    "oauth2_client_credentials": ("oauth2", "X-API-Key"),
    "oauth2": ("oauth2", "X-API-Key"),
}
#: Auth the tap speaks and dlt does not: dlt's APIKeyAuth raises NotImplementedError for a
#: cookie, and `oauth2` (token_url, refresh grant) is the seeds' type, not a dlt one.
TAP_ONLY = {"api_key_cookie", "oauth2"}


def _where_the_credential_went(api: AuthAPI, case: str) -> None:
    """Each data request carried the credential exactly where its type puts it."""
    data = [e for e in api.log if e.path.endswith("/records")]
    assert data
    for entry in data:
        authorization = entry.headers.get("Authorization", "")
        if case.startswith("api_key_query") or case == "api_key_param":
            assert entry.query["key"] == api.api_key
            assert api.api_key not in str(entry.headers)
        elif case == "api_key_cookie":
            assert entry.headers["Cookie"] == f"session_key={api.api_key}"
            assert api.api_key not in str(entry.query)
        elif case == "http_basic":
            assert base64.b64decode(authorization.removeprefix("Basic ")).decode() == (
                f"{api.username}:{api.password}")
        elif case in ("api_key_header", "api_key_default_name"):
            assert entry.headers[CASES[case][1]] == api.api_key
            assert api.api_key not in str(entry.query)
        elif case.startswith("bearer"):
            assert authorization == f"Bearer {api.token}"
        else:
            assert authorization.startswith("Bearer at-authapi-ACCESS-")


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_tap_and_dlt_load_the_same_records_with_each_auth(api_factory: Any, case: str) -> None:
    mode, key_name = CASES[case]
    require = {"audience": "analytics"} if case == "oauth2_client_credentials" else None
    api = api_factory(mode, api_key_name=key_name, require_form=require)
    config = api.config(_auth(api, case))

    ours = tap_records(config)
    assert [r["id"] for r in ours] == list(range(1, 46))
    _where_the_credential_went(api, case)
    if case in TAP_ONLY:
        if case == "api_key_cookie":
            with pytest.raises(ResourceExtractionError) as caught:
                dlt_records(config)
            assert isinstance(caught.value.__cause__, NotImplementedError)
        return
    api.log.clear()
    assert_same_records(ours, dlt_records(config))
    _where_the_credential_went(api, case)


def test_one_token_per_run_with_dlts_client_credentials(api_factory: Any) -> None:
    api = api_factory("oauth2", require_form={"audience": "analytics"})
    config = api.config(_auth(api, "oauth2_client_credentials"))
    tap_records(config)
    tokens = [e for e in api.log if e.path == "/oauth/token"]
    assert len(tokens) == 1, "the discovery probe and the sync share one token"
    assert tokens[0].form == {"client_id": api.client_id, "client_secret": api.client_secret,
                              "grant_type": "client_credentials", "audience": "analytics"}


def test_dlts_client_credentials_against_django_oauth_toolkit() -> None:
    with DRFServer(items=75) as srv:
        config = {
            "client": {"base_url": srv.base_url, "auth": {
                "type": "oauth2_client_credentials", "access_token_url": srv.token_url,
                "client_id": srv.client_id, "client_secret": srv.client_secret,
                "access_token_request_data": {"scope": "read"}}},
            "resources": [{"name": "items", "primary_key": "id", "endpoint": {
                "path": "/api/limit-offset/items/", "data_selector": "results",
                "paginator": {"type": "offset", "limit": 20, "total_path": "count"}}}],
        }
        ours = tap_records(config, "items")
        theirs = dlt_records(config, "items")
        tokens = srv.requests("/o/token/")
    assert [r["id"] for r in ours] == list(range(1, 76))
    assert_same_records(ours, theirs)
    assert [t.status for t in tokens] == [200, 200], "one token each: the tap's, dlt's"


# ------------------------------------------------------------------------ endpoint.auth
def _per_resource_config(api: AuthAPI, client_auth: dict[str, Any]) -> dict[str, Any]:
    def resource(name: str, path: str, **endpoint: Any) -> dict[str, Any]:
        return {"name": name, "primary_key": "id", "endpoint": {
            "path": path, "data_selector": "data",
            "paginator": {"type": "offset", "limit": 10, "total_path": "total"}, **endpoint}}

    config = api.config(client_auth)
    config["resources"] = [
        resource("records", "records"),
        resource("basic_records", "basic/records", auth=_auth(api, "http_basic")),
        resource("open_records", "none/records", auth=None),
        resource("keyed_records", "api_key_query/records", auth=_auth(api, "api_key_query")),
    ]
    return config


def test_endpoint_auth_overrides_client_auth_per_resource_as_in_dlt(api_factory: Any) -> None:
    api = api_factory("bearer", api_key_name="key")
    config = _per_resource_config(api, _auth(api, "bearer"))

    result = run_tap(copy.deepcopy(config))

    names = ("records", "basic_records", "open_records", "keyed_records")
    for name in names:
        assert [r["id"] for r in result.records(name)] == list(range(1, 46)), name
    by_path: dict[str, list[Any]] = {}
    for entry in api.log:
        by_path.setdefault(entry.path, []).append(entry)
    assert all(e.headers.get("Authorization") == f"Bearer {api.token}" for e in by_path["/records"])
    assert all(e.headers["Authorization"].startswith("Basic ") for e in by_path["/basic/records"])
    assert all("Authorization" not in e.headers and not e.query.get("key")
               for e in by_path["/none/records"]), "endpoint.auth null sends no credential"
    assert all("Authorization" not in e.headers for e in by_path["/api_key_query/records"])
    assert all(e.path == "/records" for e in api.received(api.token)), "the bearer token went elsewhere"
    assert all(e.path == "/basic/records" for e in api.received(api.password))
    assert all(e.path == "/api_key_query/records" for e in api.received(api.api_key))
    assert all(e.status == 200 for e in api.log)

    api.log.clear()
    for name in names:
        assert_same_records(result.records(name), dlt_records(config, name))


def test_each_distinct_auth_is_built_once_per_run(api_factory: Any) -> None:
    """Two resources with equal endpoint.auth share one authenticator (one token), and one
    whose endpoint.auth equals client.auth shares the client's."""
    api = api_factory("oauth2")
    client_auth = _auth(api, "oauth2")
    other = {**_auth(api, "oauth2_client_credentials"), "access_token_request_data": {}}
    config = api.config(client_auth)
    template = config["resources"][0]
    config["resources"] = [
        template,
        {**template, "name": "again", "endpoint": {**template["endpoint"], "auth": other}},
        {**template, "name": "once_more", "endpoint": {**template["endpoint"], "auth": dict(other)}},
        {**template, "name": "as_client", "endpoint": {**template["endpoint"], "auth": dict(client_auth)}},
    ]

    result = run_tap(config)

    assert all(len(result.records(n)) == 45 for n in ("records", "again", "once_more", "as_client"))
    assert len([e for e in api.log if e.path == "/oauth/token"]) == 2


@pytest.mark.parametrize("client_auth", ["basic", "body"])
def test_the_seeds_oauth2_client_authentication_against_django_oauth_toolkit(client_auth: str) -> None:
    """DOT accepts the client in HTTP Basic (RFC 6749 §2.3.1) and in the form body."""
    with DRFServer(items=30) as srv:
        config = {
            "client": {"base_url": srv.base_url, "auth": {
                "type": "oauth2", "token_url": srv.token_url, "client_id": srv.client_id,
                "client_secret": srv.client_secret, "client_auth": client_auth}},
            "resources": [{"name": "items", "primary_key": "id", "endpoint": {
                "path": "/api/limit-offset/items/", "data_selector": "results",
                "paginator": {"type": "offset", "limit": 20, "total_path": "count"}}}],
        }
        ours = tap_records(config, "items")
        tokens = srv.requests("/o/token/")
    assert [r["id"] for r in ours] == list(range(1, 31))
    assert [(t.status, t.auth_scheme) for t in tokens] == [
        (200, "Basic" if client_auth == "basic" else None)]

"""The token endpoint's edges (issue 8 §5, §7): the refresh-token cache follows the lineage
whatever the token URL says, a refusal names a cache entry it could not use, and the
token POST never follows a redirect to another host (a 307/308 resends the client
secret). Against the sandbox's rotating helpdesk, the DRF + DOT server and two
`AuthAPI` servers (127.0.0.1 and localhost on two ports: two hosts)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dlt.sources.rest_api import rest_api_source

from sandbox import SandboxServer
from tests.servers.drf import DRFServer

from .helpers import config_for, error_lines, run_cli, run_tap
from .test_auth_servers import AuthAPI

ITEM_SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}


def _token_statuses(srv: SandboxServer) -> list[int]:
    return [e["status"] for e in srv.request_log if e["path"].endswith("/oauth/token")]


def _helpdesk(srv: SandboxServer, cache: Path) -> dict[str, Any]:
    """helpdesk's seed config with its refresh token as configured now (it stays so)."""
    config = config_for(srv, "helpdesk", token_cache_path=str(cache))
    config["resources"] = [r for r in config["resources"] if r["name"] == "agents"]
    return config


def _on_host(config: dict[str, Any], host: str) -> dict[str, Any]:
    copied = copy.deepcopy(config)
    auth = copied["client"]["auth"]
    auth["token_url"] = auth["token_url"].replace("127.0.0.1", host)
    return copied


# ------------------------------------------------------------- the refresh-token cache
@pytest.mark.sandbox(records=30)
def test_the_cache_follows_the_lineage_when_the_token_url_is_spelt_otherwise(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Run 1 spends the configured refresh token at 127.0.0.1; run 2 names the same
    endpoint `localhost`. Before the fix, run 2 missed the cache (keyed by the exact
    URL), sent the spent configured token and was locked out (invalid_grant)."""
    config = _helpdesk(sandbox, tmp_path / "tokens.json")
    first = run_tap(config)
    second = run_tap(_on_host(config, "localhost"))

    assert len(first.records("agents")) == len(second.records("agents")) == 30
    assert _token_statuses(sandbox) == [200, 200]
    [entry] = json.loads((tmp_path / "tokens.json").read_text()).values()
    assert entry["refresh_token"] == sandbox.credentials["helpdesk"]["refresh_token"]


def test_the_cache_follows_the_lineage_against_django_oauth_toolkit(tmp_path: Path) -> None:
    cache = tmp_path / "tokens.json"
    with DRFServer(items=30) as srv:
        def config(host: str) -> dict[str, Any]:
            return {
                "client": {"base_url": srv.base_url, "auth": {
                    "type": "oauth2", "client_id": srv.refresh_client_id,
                    "client_secret": srv.refresh_client_secret, "refresh_token": srv.refresh_token,
                    "token_url": srv.token_url.replace("127.0.0.1", host)}},
                "resources": [{"name": "items", "schema": ITEM_SCHEMA, "endpoint": {
                    "path": "/api/limit-offset/items/", "data_selector": "results",
                    "paginator": {"type": "offset", "limit": 10, "total_path": "count"}}}],
                "token_cache_path": str(cache),
            }

        runs = [run_tap(config(host)) for host in ("127.0.0.1", "localhost", "127.0.0.1")]
        statuses = [r.status for r in srv.requests("/o/token/")]
    assert [len(r.records("items")) for r in runs] == [30, 30, 30]
    assert statuses == [200, 200, 200], "each run refreshed with the token the previous one rotated in"


@pytest.mark.sandbox(records=10)
def test_a_refused_refresh_names_the_cache_entry_it_did_not_use(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    cache = tmp_path / "tokens.json"
    config = _helpdesk(sandbox, cache)
    run_tap(config)  # the cache now holds this lineage's newest token
    config["client"]["auth"]["refresh_token"] = "rt-helpdesk-pasted-by-mistake-0001"

    result = run_cli(tmp_path, config)

    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "invalid_grant" in line
    assert str(cache) in line
    assert "of this client_id descended from another configured refresh_token" in line
    assert sandbox.credentials["helpdesk"]["refresh_token"] not in result.stderr


@pytest.mark.sandbox(records=10)
def test_a_refused_cached_token_says_it_came_from_the_cache(sandbox: SandboxServer, tmp_path: Path) -> None:
    cache = tmp_path / "tokens.json"
    config = _helpdesk(sandbox, cache)
    run_tap(config)
    cached = next(iter(json.loads(cache.read_text()).values()))["refresh_token"]
    cache.write_text(cache.read_text().replace(cached, "rt-helpdesk-REFRESH-revoked-0000"))

    result = run_tap(config, expect_error=True)

    assert f"the refresh token sent was the newest one kept in {cache}" in str(result.error)


# ------------------------------------------------------------ the token POST redirects
OAUTH_TYPES = ["oauth2", "oauth2_client_credentials"]


def _oauth(api: AuthAPI, kind: str, token_url: str) -> dict[str, Any]:
    if kind == "oauth2":
        return {"type": kind, "client_id": api.client_id, "client_secret": api.client_secret,
                "token_url": token_url, "client_auth": "body"}
    return {"type": kind, "client_id": api.client_id, "client_secret": api.client_secret,
            "access_token_url": token_url}


@pytest.fixture
def two_hosts() -> Iterator[tuple[AuthAPI, AuthAPI]]:
    """`other`, a token endpoint at localhost:<port B>; `api`, the API at 127.0.0.1:<port A>
    whose /elsewhere*/token redirect there, /moved/token and /found/token to its own."""
    with AuthAPI("oauth2", tag="otherhost") as other:
        redirects = {
            "/elsewhere/token": (307, f"{other.other_host_url}/oauth/token"),
            "/elsewhere308/token": (308, f"{other.other_host_url}/oauth/token"),
            "/moved/token": (308, "/oauth/token"),
            "/found/token": (302, "/oauth/token"),
        }
        with AuthAPI("oauth2", redirects=redirects) as api:
            other.client_id, other.client_secret = api.client_id, api.client_secret  # it would accept them
            yield api, other


@pytest.mark.parametrize("kind", OAUTH_TYPES)
@pytest.mark.parametrize("path", ["/elsewhere/token", "/elsewhere308/token"])
def test_the_token_post_never_follows_a_redirect_to_another_host(
    two_hosts: tuple[AuthAPI, AuthAPI], tmp_path: Path, kind: str, path: str
) -> None:
    api, other = two_hosts
    config = api.config(_oauth(api, kind, f"{api.base_url}{path}"))

    result = run_cli(tmp_path, config)

    assert result.returncode == 1
    assert not other.log, "the token request, and its client secret, reached the other host"
    [line] = error_lines(result.stderr)
    assert "redirected" in line
    assert "to another host" in line
    assert f"localhost:{other.port}/oauth/token" in line
    assert f"client.auth.{'token_url' if kind == 'oauth2' else 'access_token_url'}" in line
    assert api.client_secret not in result.stderr


def test_dlt_sends_the_client_secret_along_such_a_redirect(two_hosts: tuple[AuthAPI, AuthAPI]) -> None:
    """Why the tap differs from dlt here: dlt's token POST follows the 307 with its body."""
    api, other = two_hosts
    config = api.config(_oauth(api, "oauth2_client_credentials", f"{api.base_url}/elsewhere/token"))
    with pytest.raises(Exception):  # noqa: B017 - dlt's own error type varies: the point is the log
        list(rest_api_source(config).resources["records"])
    assert other.received(api.client_secret), "dlt followed the redirect with the client secret"


@pytest.mark.parametrize("kind", OAUTH_TYPES)
def test_a_same_host_308_is_followed_and_a_302_named(
    two_hosts: tuple[AuthAPI, AuthAPI], kind: str
) -> None:
    api, other = two_hosts
    moved = run_tap(api.config(_oauth(api, kind, f"{api.base_url}/moved/token")))
    assert [r["id"] for r in moved.records("records")] == list(range(1, 46))
    assert [(e.path, e.status) for e in api.log[:2]] == [("/moved/token", 308), ("/oauth/token", 200)]

    found = run_tap(api.config(_oauth(api, kind, f"{api.base_url}/found/token")), expect_error=True)
    assert f"{api.base_url}/oauth/token" in str(found.error)
    assert "turns the POST into a GET" in str(found.error)
    assert not other.log

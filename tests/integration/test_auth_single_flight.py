"""OAuth2 renewal is single-flight (issue 8 §5): many concurrent 401s on one token wait for
one renewal, and a refused refresh ends the run at once with its one error.

Against the real DRF + django-oauth-toolkit server (refresh-token rotation, RFC 7009
revocation) and the sandbox's rotating helpdesk API. A `GateProxy` in front of the API
revokes the tokens when the second data request arrives (so every request of the
concurrent batch meets the revoked token) and holds the 401s until `HELD` of them are
waiting: the 401s are concurrent by construction. Token requests go through the proxy
too, so one ordered log shows what was sent after what.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import SandboxServer
from tests.servers.drf import DRFServer

from .helpers import error_lines, run_cli, run_tap
from .test_auth_servers import GateProxy

#: Requests in flight at once (max_concurrent_requests), and the 401s held together.
CONCURRENCY = 8
HELD = CONCURRENCY
ITEMS = 240
LIMIT = 10
ITEM_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                   "updated_at": {"type": "string", "format": "date-time"}},
}


def _drf_config(srv: DRFServer, proxy: GateProxy, cache: Path, **top: Any) -> dict[str, Any]:
    """The refresh-token client of the DRF server, its data and token endpoint behind `proxy`."""
    return {
        "client": {
            "base_url": proxy.base_url,
            "auth": {
                "type": "oauth2",
                "client_id": srv.refresh_client_id,
                "client_secret": srv.refresh_client_secret,
                "refresh_token": srv.refresh_token,
                "token_url": f"{proxy.base_url}/o/token/",
            },
        },
        "resources": [{
            "name": "items",
            "primary_key": "id",
            "schema": ITEM_SCHEMA,
            "endpoint": {"path": "/api/limit-offset/items/", "data_selector": "results",
                         "paginator": {"type": "offset", "limit": LIMIT, "total_path": "count"}},
        }],
        "max_concurrent_requests": CONCURRENCY,
        "token_cache_path": str(cache),
        **top,
    }


def _cached_refresh_token(cache: Path) -> str:
    [entry] = json.loads(cache.read_text()).values()
    return str(entry["refresh_token"])


def _revoke(srv: DRFServer, token: str, hint: str) -> None:
    """RFC 7009 revocation at DOT's endpoint, as the API's owner would do it."""
    answer = requests.post(srv.revoke_url, data={"token": token, "token_type_hint": hint},
                           auth=(srv.refresh_client_id, srv.refresh_client_secret), timeout=10)
    assert answer.status_code == 200, answer.text


def _is_token(path: str) -> bool:
    return path == "/o/token/" or path.endswith("/oauth/token")


def _on_data_request(n: int, action: Callable[[Mapping[str, str]], None]) -> Callable[[str, Any], None]:
    """A proxy hook running `action` before the n-th data request (not a token request)
    is forwarded; the proxy holds every later request until it is done."""
    seen = [0]

    def hook(path: str, headers: Any) -> None:
        if not _is_token(path):
            seen[0] += 1
            if seen[0] == n:
                action(headers)
    return hook


def _token_requests(proxy: GateProxy) -> list[int]:
    return proxy.statuses("/o/token/")


def _after_refused_token_request(proxy: GateProxy) -> list[Any]:
    """Everything the proxy forwarded after the first refused token request."""
    refused = next(e.seq for e in proxy.log if _is_token(e.path) and e.status != 200)
    return [e for e in proxy.log if e.seq > refused]


# ------------------------------------------------------------------------- DRF + DOT
@pytest.fixture
def drf() -> Iterator[DRFServer]:
    with DRFServer(items=ITEMS) as srv:
        yield srv


def test_a_refused_refresh_after_revocation_is_requested_once_and_ends_the_run(
    drf: DRFServer, tmp_path: Path
) -> None:
    """The issue's run: the refresh token (and with it the access token) is revoked
    mid-sync; CONCURRENCY+1 requests meet the revoked token together. Before the fix,
    each 401 sent its own refused refresh (9 for 9)."""
    srv = drf
    cache = tmp_path / "tokens.json"
    proxy = GateProxy(srv.base_url, hold_401s=HELD, before_forward=_on_data_request(
        2, lambda _h: _revoke(srv, _cached_refresh_token(cache), "refresh_token")))
    with proxy:
        result = run_tap(_drf_config(srv, proxy, cache), expect_error=True)

    assert proxy.gate_timeouts == 0, "the 401s never were concurrent: the test proves nothing"
    assert proxy.held_at_release >= HELD
    assert _token_requests(proxy) == [200, 400], "one refused refresh, whatever the 401s"
    message = str(result.error)
    assert "invalid_grant" in message
    assert "client.auth.refresh_token" in message
    assert "\n" not in message
    later = _after_refused_token_request(proxy)
    assert all(e.status == 401 for e in later), "no request succeeds after the refusal"
    assert not [e for e in later if _is_token(e.path)]


def test_a_refused_refresh_ends_the_cli_run_with_one_error_line(
    drf: DRFServer, tmp_path: Path
) -> None:
    srv = drf
    cache = tmp_path / "tokens.json"
    proxy = GateProxy(srv.base_url, hold_401s=HELD, before_forward=_on_data_request(
        2, lambda _h: _revoke(srv, _cached_refresh_token(cache), "refresh_token")))
    with proxy:
        result = run_cli(tmp_path, _drf_config(srv, proxy, cache))

    assert proxy.gate_timeouts == 0
    assert result.returncode == 1
    assert _token_requests(proxy) == [200, 400]
    [line] = error_lines(result.stderr)
    assert "token request" in line
    assert "invalid_grant" in line
    assert "Traceback" not in result.stderr
    for secret in (srv.refresh_token, srv.refresh_client_secret, _cached_refresh_token(cache)):
        assert secret not in result.stderr
        assert secret not in result.stdout


def test_concurrent_401s_after_the_access_token_expired_early_renew_once(
    drf: DRFServer, tmp_path: Path
) -> None:
    """The server ends the access token's life early (DOT revokes the refresh token along
    with an access token revoked at /o/revoke_token/, so expiry it is): one refresh serves
    every waiting request, each retries its own page, every item comes once."""
    srv = drf
    proxy = GateProxy(srv.base_url, hold_401s=HELD,
                      before_forward=_on_data_request(2, lambda _h: srv.expire_access_tokens()))
    with proxy:
        result = run_tap(_drf_config(srv, proxy, tmp_path / "tokens.json"))

    assert proxy.gate_timeouts == 0
    assert proxy.held_at_release >= HELD
    assert _token_requests(proxy) == [200, 200], "the first token, then one renewal"
    ids = result.ids("items")
    assert sorted(ids, key=int) == [str(i) for i in range(1, ITEMS + 1)]
    assert len(ids) == len(set(ids))
    refused = {e.authorization for e in proxy.log if e.status == 401}
    first_token = next(e.authorization for e in proxy.log if e.path.startswith("/api/"))
    assert refused == {first_token}, "only the expired token was refused: the renewed one served all"


# ------------------------------------------------------------------ sandbox helpdesk
@pytest.mark.parametrize("spend", [False, True], ids=["access-expired", "refresh-spent"])
def test_helpdesk_rotation_renews_once_for_concurrent_401s(tmp_path: Path, spend: bool) -> None:
    """The sandbox's helpdesk rotates its refresh token on every grant. Its access tokens
    expire mid-sync; with `spend`, someone else also spends the tap's refresh token."""
    with SandboxServer(records=400) as srv:
        api = srv.api_url("helpdesk")

        def expire(_headers: Mapping[str, str]) -> None:
            srv.expire_tokens()
            if spend:
                creds = srv.credentials["helpdesk"]
                answer = requests.post(f"{api}/oauth/token", timeout=10, data={
                    "grant_type": "refresh_token", "refresh_token": creds["refresh_token"],
                    "client_id": creds["client_id"], "client_secret": creds["client_secret"]})
                assert answer.status_code == 200

        creds = srv.credentials["helpdesk"]
        proxy = GateProxy(srv.base_url, hold_401s=HELD, before_forward=_on_data_request(2, expire))
        with proxy:
            config = {
                "client": {"base_url": f"{proxy.base_url}/helpdesk", "auth": {
                    "type": "oauth2", "client_id": creds["client_id"],
                    "client_secret": creds["client_secret"], "refresh_token": creds["refresh_token"],
                    "token_url": f"{proxy.base_url}/helpdesk/oauth/token"}},
                "resources": [{"name": "tickets", "endpoint": {
                    "path": "/tickets", "data_selector": "data",
                    "paginator": {"type": "offset", "limit": LIMIT}}}],
                "max_concurrent_requests": CONCURRENCY,
            }
            result = run_tap(config, expect_error=spend)

    assert proxy.gate_timeouts == 0
    assert proxy.held_at_release >= HELD
    tokens = proxy.statuses("/helpdesk/oauth/token")
    if spend:
        assert tokens == [200, 400]
        assert "client.auth.refresh_token" in str(result.error)
        assert all(e.status == 401 for e in _after_refused_token_request(proxy))
    else:
        assert tokens == [200, 200]
        ids = result.ids("tickets")
        assert len(ids) == len(set(ids))
        assert set(ids) == {str(r["id"]) for r in srv.records("helpdesk/tickets")}

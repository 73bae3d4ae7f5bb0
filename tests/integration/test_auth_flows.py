"""Authentication against the live sandbox: one token per run, expiry, 401 renewal,
refresh-token rotation, and the errors a user sees for wrong credentials."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from sandbox import SandboxServer
from tap_analytics.client import AnalyticsStream

from .helpers import config_for, error_lines, run_cli, run_tap
from .seeds import STREAMS


def _data_log(srv: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in srv.request_log if e["resource"] is not None]


def _token_log(srv: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in srv.request_log if e["path"].endswith("/oauth/token")]


def _assert_complete(result: Any, srv: SandboxServer, api: str) -> None:
    for name, key, _, _ in STREAMS[api]:
        ids = result.ids(name)
        assert len(ids) == len(set(ids)), f"{api}/{name}: duplicates"
        assert set(ids) == {str(r["id"]) for r in srv.records(key)}, f"{api}/{name}: records lost"


def _page_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["path"], tuple(sorted(entry["query"].items())))


def _assert_no_page_served_twice(srv: SandboxServer, api: str) -> None:
    """No page of data reached the tap twice (seed 001's discovery probe of page 1 aside)."""
    ok = [e for e in _data_log(srv) if e["status"] == 200]
    if api == "generic":
        ok = ok[1:]
    served = Counter(_page_key(e) for e in ok)
    twice = [k for k, n in served.items() if n > 1]
    assert not twice, f"pages served twice: {twice[:3]}"


@pytest.fixture
def token_bodies(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The form bodies of every token request the sandbox receives, in order."""
    bodies: list[dict[str, str]] = []
    original = sandbox._token

    def recording(api: str, method: str, path: str, headers: Any, body: bytes) -> Any:
        bodies.append(dict(parse_qsl(body.decode())))
        return original(api, method, path, headers, body)

    monkeypatch.setattr(sandbox, "_token", recording)
    return bodies


def _after_pages(monkeypatch: pytest.MonkeyPatch, pages: set[int], action: Callable[[], None]) -> None:
    """Run `action` right after the tap parsed its n-th page (1-based, across streams)."""
    original = AnalyticsStream.parse_page
    seen = [0]

    def parse_page(self: AnalyticsStream, response: Any) -> Any:
        parsed = original(self, response)
        seen[0] += 1
        if seen[0] in pages:
            action()
        return parsed

    monkeypatch.setattr(AnalyticsStream, "parse_page", parse_page)


# ------------------------------------------------------------------ one token per run
@pytest.mark.sandbox(records=260)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("api", ["devplatform", "generic", "helpdesk"])
def test_one_token_for_all_streams_of_a_run(sandbox: SandboxServer, api: str, concurrency: int) -> None:
    result = run_tap(config_for(sandbox, api, max_concurrent_requests=concurrency))

    _assert_complete(result, sandbox, api)
    assert sandbox.token_requests[api] == 1
    tokens = {e["headers"].get("Authorization") for e in _data_log(sandbox)}
    assert len(tokens) == 1
    assert next(iter(tokens)).startswith("Bearer at-")
    assert len({e["resource"] for e in _data_log(sandbox)}) == len(STREAMS[api])


# ------------------------------------------------------------------------- expiry
@pytest.mark.sandbox(records=260, token_ttl=0.12, latency_ms=15)
@pytest.mark.parametrize("api", ["devplatform", "helpdesk"])
def test_short_lived_tokens_are_renewed_without_losing_or_repeating_a_page(
    sandbox: SandboxServer, api: str
) -> None:
    result = run_tap(config_for(sandbox, api, max_concurrent_requests=1))

    _assert_complete(result, sandbox, api)
    _assert_no_page_served_twice(sandbox, api)
    assert sandbox.token_requests[api] >= 2, "a 0.12 s token must be renewed during a longer sync"
    assert all(e["status"] == 200 for e in _token_log(sandbox))
    # Renewed *before* expiry: at most a rare race ends in a 401 (then renewed and retried).
    unauthorized = [e for e in _data_log(sandbox) if e["status"] == 401]
    assert len(unauthorized) <= 1
    assert len({e["headers"]["Authorization"] for e in _data_log(sandbox)}) >= 2


@pytest.mark.sandbox(records=260)
@pytest.mark.parametrize("api", ["devplatform", "generic", "helpdesk"])
def test_tokens_revoked_mid_sync_are_renewed_once_and_the_page_retried(
    sandbox: SandboxServer, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _after_pages(monkeypatch, {2}, sandbox.expire_tokens)

    result = run_tap(config_for(sandbox, api, max_concurrent_requests=1))

    _assert_complete(result, sandbox, api)
    _assert_no_page_served_twice(sandbox, api)
    assert sandbox.token_requests[api] == 2
    log = sandbox.request_log
    failed = [i for i, e in enumerate(log) if e["status"] == 401]
    assert len(failed) == 1, "one request meets the revoked token"
    i = failed[0]
    assert log[i + 1]["path"].endswith("/oauth/token")
    assert log[i + 1]["status"] == 200
    assert _page_key(log[i + 2]) == _page_key(log[i]), "the same page is retried after renewal"
    assert log[i + 2]["status"] == 200


@pytest.mark.sandbox(records=260)
def test_revoked_tokens_with_concurrent_pages_renew_once(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several in-flight requests see 401 together: one renewal serves them all."""
    sandbox.set_records({"devplatform/events": 1000})
    _after_pages(monkeypatch, {2}, sandbox.expire_tokens)

    result = run_tap(config_for(sandbox, "devplatform"))

    _assert_complete(result, sandbox, "devplatform")
    _assert_no_page_served_twice(sandbox, "devplatform")
    assert sandbox.token_requests["devplatform"] == 2


# ------------------------------------------------------------------------------ 401
@pytest.mark.sandbox(records=130)
def test_401_renews_once_then_retries(sandbox: SandboxServer) -> None:
    sandbox.inject("/v1/organizations", [401])

    result = run_tap(config_for(sandbox, "devplatform", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "devplatform")
    orgs = [e for e in sandbox.request_log if e["resource"] == "devplatform/organizations"]
    assert [e["status"] for e in orgs] == [401, 200, 200]
    assert _page_key(orgs[0]) == _page_key(orgs[1])
    assert orgs[0]["headers"]["Authorization"] != orgs[1]["headers"]["Authorization"]
    assert sandbox.token_requests["devplatform"] == 2


@pytest.mark.sandbox(records=130)
def test_401_after_renewal_fails_with_credentials_advice(sandbox: SandboxServer) -> None:
    sandbox.inject("/v1/organizations", [401, 401])

    result = run_tap(config_for(sandbox, "devplatform", max_concurrent_requests=1), expect_error=True)

    message = str(result.error)
    assert "organizations" in message
    assert "401" in message
    assert "client.auth" in message
    assert "\n" not in message
    assert sandbox.token_requests["devplatform"] == 2, "renewed once, not in a loop"
    orgs = [e for e in sandbox.request_log if e["resource"] == "devplatform/organizations"]
    assert [e["status"] for e in orgs] == [401, 401]


# ------------------------------------------------------------------------ rotation
@pytest.mark.sandbox(records=130)
def test_refresh_token_rotation_never_resends_a_spent_token(
    sandbox: SandboxServer, token_bodies: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    initial = sandbox.credentials["helpdesk"]["refresh_token"]
    # Revoke the access token after several pages: the tap must refresh again and again.
    _after_pages(monkeypatch, {1, 3, 5, 7}, sandbox.expire_tokens)

    result = run_tap(config_for(sandbox, "helpdesk", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "helpdesk")
    _assert_no_page_served_twice(sandbox, "helpdesk")
    sent = [b["refresh_token"] for b in token_bodies]
    assert len(sent) == 5, "the first token, then one renewal per revocation"
    assert all(b["grant_type"] == "refresh_token" for b in token_bodies)
    assert sent[0] == initial
    assert len(set(sent)) == len(sent), f"a spent refresh token was sent again: {sent}"
    assert all(e["status"] == 200 for e in _token_log(sandbox)), "the server refused a refresh"
    # Each refresh used the token the previous response rotated in: the server's current
    # token is the one issued by the last refresh, never sent.
    assert sandbox.credentials["helpdesk"]["refresh_token"] not in sent


# Every response takes longer than a token lives (60 ms > 50 ms): later requests always
# find the token expired, however much of the run overlaps (streams' first pages do).
@pytest.mark.sandbox(records=130, token_ttl=0.05, latency_ms=60)
def test_rotation_with_expiring_tokens_and_concurrency(
    sandbox: SandboxServer, token_bodies: list[dict[str, str]]
) -> None:
    result = run_tap(config_for(sandbox, "helpdesk"))

    _assert_complete(result, sandbox, "helpdesk")
    sent = [b["refresh_token"] for b in token_bodies]
    assert len(sent) >= 2
    assert len(set(sent)) == len(sent), "a spent refresh token was sent again"
    assert all(e["status"] == 200 for e in _token_log(sandbox))


@pytest.mark.sandbox(records=130, client_auth="basic")
@pytest.mark.parametrize("api", ["devplatform", "generic", "helpdesk"])
def test_a_token_endpoint_that_accepts_only_http_basic(sandbox: SandboxServer, api: str) -> None:
    """HTTP Basic is the one client authentication RFC 6749 §2.3.1 obliges a server to
    accept: with client_auth unset, one refused request finds it, for the whole run."""
    result = run_tap(config_for(sandbox, api))

    _assert_complete(result, sandbox, api)
    assert [e["status"] for e in _token_log(sandbox)] == [401, 200]


@pytest.mark.sandbox(records=10, client_auth="body")
def test_configured_http_basic_against_a_body_only_endpoint_fails_clearly(
    sandbox: SandboxServer, tmp_path: Any
) -> None:
    config = config_for(sandbox, "devplatform")
    config["client"]["auth"]["client_auth"] = "basic"

    result = run_cli(tmp_path, config)

    assert result.returncode != 0
    [error] = [line for line in error_lines(result.stderr) if "token request" in line]
    assert "invalid_client" in error
    assert len(_token_log(sandbox)) == 1, "a configured method is never switched"


# ---------------------------------------------------------------- wrong credentials
WRONG_SECRET = "sk-live-devplatform-SECRET-0000wrong0000secret"


@pytest.mark.sandbox(records=10)
def test_bad_client_secret_exits_non_zero_with_one_secret_free_line(
    sandbox: SandboxServer, tmp_path: Any
) -> None:
    config = config_for(sandbox, "devplatform")
    config["client"]["auth"]["client_secret"] = WRONG_SECRET

    result = run_cli(tmp_path, config)

    assert result.returncode != 0
    assert WRONG_SECRET not in result.stderr
    assert WRONG_SECRET not in result.stdout
    assert "Traceback" not in result.stderr
    errors = [line for line in error_lines(result.stderr) if "client_secret" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "client.auth.client_secret" in errors[0]
    assert "401" in errors[0]
    assert not result.of_type("RECORD")


@pytest.mark.sandbox(records=10)
def test_spent_refresh_token_names_the_refresh_token(sandbox: SandboxServer, tmp_path: Any) -> None:
    config = config_for(sandbox, "helpdesk")
    spent = config["client"]["auth"]["refresh_token"]
    run_tap(config_for(sandbox, "helpdesk"))  # rotates: `spent` is now spent

    result = run_cli(tmp_path, config)

    assert result.returncode != 0
    assert spent not in result.stderr
    errors = [line for line in error_lines(result.stderr) if "refresh_token" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "client.auth.refresh_token" in errors[0]


@pytest.mark.sandbox(records=10)
@pytest.mark.parametrize(
    ("api", "setting", "wrong"),
    [
        ("timetracking", "token", "tt-live-timetracking-TOKEN-0000wrong0000"),
        ("statuspage", "api_key", "ak-live-statuspage-APIKEY-0000wrong0000"),
    ],
)
def test_wrong_static_credential_names_it(
    sandbox: SandboxServer, tmp_path: Any, api: str, setting: str, wrong: str
) -> None:
    config = config_for(sandbox, api)
    config["client"]["auth"][setting] = wrong

    result = run_cli(tmp_path, config)

    assert result.returncode != 0
    assert wrong not in result.stderr
    assert wrong not in result.stdout
    assert "Traceback" not in result.stderr
    errors = [line for line in error_lines(result.stderr) if "401" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert f"client.auth.{setting}" in errors[0], f"the error should name client.auth.{setting}: {errors[0]}"
    # One request, no retry loop on a credential the server refuses.
    assert len([e for e in sandbox.request_log if e["status"] == 401]) == 1


# ------------------------------------------------------ rotation across runs (cache)
@pytest.mark.sandbox(records=30)
def test_cli_reruns_with_the_same_config_after_rotation(sandbox: SandboxServer, tmp_path: Any) -> None:
    """The first run spends the configured refresh token; the second run, with the very
    same config file, continues from the rotated token the first one kept."""
    config = config_for(sandbox, "helpdesk")
    configured = config["client"]["auth"]["refresh_token"]

    first = run_cli(tmp_path, config)
    second = run_cli(tmp_path, config)

    assert first.returncode == 0, first.stderr[-2000:]
    assert second.returncode == 0, second.stderr[-2000:]
    assert len(second.records("tickets")) == 30
    assert all(e["status"] == 200 for e in _token_log(sandbox))
    assert sandbox.token_requests["helpdesk"] == 2
    current = sandbox.credentials["helpdesk"]["refresh_token"]
    for run in (first, second):
        assert configured not in run.stderr
        assert current not in run.stderr
    caches = [p for p in tmp_path.iterdir() if "token" in p.name and p.is_file()]
    assert caches, "the rotated token is kept beside the config"
    assert all(p.stat().st_mode & 0o077 == 0 for p in caches), "the token cache is private (0600)"


@pytest.mark.sandbox(records=30)
def test_token_cache_setting_in_process(
    sandbox: SandboxServer, tmp_path: Any, token_bodies: list[dict[str, str]]
) -> None:
    config = config_for(sandbox, "helpdesk", token_cache_path=str(tmp_path / "tokens.json"))

    for _ in range(3):
        result = run_tap(config)
        assert len(result.records("agents")) == 30

    sent = [b["refresh_token"] for b in token_bodies]
    assert len(sent) == 3
    assert len(set(sent)) == 3, "each run used the token the previous one rotated in"
    assert all(e["status"] == 200 for e in _token_log(sandbox))

"""Refresh-token rotation survives process death.

helpdesk's token endpoint spends the refresh token on every renewal and hands out a new
one; the sandbox refuses a spent one. The tap saves every rotated token atomically to
`token_cache_path` (mode 0600) and, on the next start, prefers it to the configured token
-- unless the configured token is a different one than the cache was seeded from.
"""

from __future__ import annotations

import json
import signal
import stat
from pathlib import Path
from typing import Any

import requests

from .helpers import (
    TapProcess,
    ground_truth,
    leaked,
    record_ids,
    sandbox_secrets,
    small_config,
)

SAVED = "rotated the refresh token; saved the new one"


def _rotating_config(srv: Any, cache: Path) -> dict[str, Any]:
    return small_config(srv, "helpdesk", limit=10, max_concurrent_requests=1, token_cache_path=str(cache))


def _cached_tokens(cache: Path) -> list[str]:
    data = json.loads(cache.read_text())
    return [entry["refresh_token"] for entry in data.values()]


def _assert_complete(srv: Any, messages: list[dict[str, Any]]) -> None:
    got = record_ids(messages)
    for stream, ids in ground_truth(srv, "helpdesk").items():
        assert sorted(got.get(stream, [])) == sorted(ids), f"helpdesk/{stream}: incomplete"


def test_rotated_refresh_token_survives_sigkill(make_sandbox: Any, tmp_path: Path) -> None:
    srv = make_sandbox(records=150, latency_ms=25, token_ttl=0.3)
    cache = tmp_path / "secrets" / "tokens.json"
    config = _rotating_config(srv, cache)
    configured = config["client"]["auth"]["refresh_token"]

    proc = TapProcess(tmp_path / "first", config)
    rotated = proc.wait_for_stderr(lambda err: err.count(SAVED) >= 3, timeout=30)
    proc.send(signal.SIGKILL)
    first = proc.finish()
    assert rotated, f"the tap did not rotate its refresh token 3 times: {first.stderr[-2000:]}"
    assert first.killed, "the sync ended before the kill"
    assert first.returncode == -signal.SIGKILL

    newest = srv.credentials["helpdesk"]["refresh_token"]
    assert newest != configured, "the sandbox never rotated: the test proves nothing"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    for path in cache.parent.iterdir():  # no temp file left readable by others either
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert _cached_tokens(cache) == [newest], "the cache does not hold the newest refresh token"

    # Restart with the same (now spent) configured token: the cache's token wins.
    second = TapProcess(tmp_path / "second", config).finish()
    assert second.returncode == 0, second.stderr[-2000:]
    _assert_complete(srv, second.messages)
    assert _cached_tokens(cache) == [srv.credentials["helpdesk"]["refresh_token"]]

    secrets = [*sandbox_secrets(srv), *_cached_tokens(cache), configured, newest]
    for run in (first, second):
        text = run.stdout + run.partial + run.stderr
        assert not leaked(text, secrets), f"secrets in the output: {leaked(text, secrets)[:3]}"
        assert cache.read_text() not in text


def test_configured_refresh_token_unlike_the_cache_seed_wins(make_sandbox: Any, tmp_path: Path) -> None:
    """A user who configures a new refresh token (the cached one was revoked, say) gets it
    used, not the stale cache seeded from the old configured token."""
    srv = make_sandbox(records=20)
    cache = tmp_path / "tokens.json"
    config = _rotating_config(srv, cache)
    first = TapProcess(tmp_path / "first", config).finish()
    assert first.returncode == 0, first.stderr[-2000:]
    stale = _cached_tokens(cache)[0]

    # Someone else spends the cached token: the cache is now stale.
    creds = srv.credentials["helpdesk"]
    response = requests.post(
        f"{srv.api_url('helpdesk')}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": stale,
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
        timeout=10,
    )
    assert response.status_code == 200
    fresh = response.json()["refresh_token"]
    assert fresh != stale

    config["client"]["auth"]["refresh_token"] = fresh
    second = TapProcess(tmp_path / "second", config).finish()
    assert second.returncode == 0, second.stderr[-2000:]
    _assert_complete(srv, second.messages)
    assert _cached_tokens(cache) == [srv.credentials["helpdesk"]["refresh_token"]]
    assert not leaked(second.stdout + second.stderr, [*sandbox_secrets(srv), stale, fresh])

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
"""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import leaked
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

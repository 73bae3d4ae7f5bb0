"""Bad input → one clear error line, a non-zero exit, nothing corrupted.

Each scenario of `scenarios.BAD_INPUT` runs the real CLI once (shared with
test_secrets.py). A run must exit non-zero without a traceback, and the tap's ERROR line
must name what the user has to look at: the stream (for a stream's failure), the
request's URL (secrets masked), the HTTP status, and the setting or the advice. stdout
stays a valid Singer stream: every line is JSON, the last STATE included.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import pytest

from .helpers import TRACEBACK, TapProcess
from .scenarios import BAD_INPUT, DEBUG_IDS, Env, ScenarioRun, insecure_base, seed_build

IDS = [s.id for s in BAD_INPUT]
LOOPBACK_URL = re.compile(r"https?://127\.0\.0\.1:\d+/\S*")


def _the_error_line(result: ScenarioRun) -> str:
    """The tap's ERROR line: the one holding what the scenario expects."""
    scenario, run = result.scenario, result.run
    wanted = list(scenario.expect)
    if scenario.stream:
        wanted.append(f"stream {scenario.stream}")
    if scenario.status:
        wanted.append(f"HTTP {scenario.status}")
    matching = [line for line in run.error_lines if all(w in line for w in wanted)]
    assert matching, (
        f"no ERROR line holds all of {wanted}; ERROR lines:\n"
        + "\n".join(run.error_lines)
        + f"\n(exit {run.returncode}; stderr tail: {run.stderr[-1500:]})"
    )
    return matching[0]


def _assert_stdout_valid(result: ScenarioRun) -> None:
    run = result.run
    assert not run.partial, f"stdout ends in a cut-off line: {run.partial[:200]}"
    for line in run.stdout_lines:
        json.loads(line)  # every line a message, STATE included
    states = [json.loads(line) for line in run.stdout_lines if '"type":"STATE"' in line.replace(" ", "")]
    if states:
        value = states[-1]["value"]
        assert isinstance(value, dict)
        assert isinstance(value.get("bookmarks", {}), dict)


@pytest.mark.parametrize("scenario_id", IDS)
def test_bad_input_fails_with_a_clear_error(scenario_run: Any, scenario_id: str) -> None:
    result: ScenarioRun = scenario_run(scenario_id)
    run = result.run
    assert run.returncode != 0, f"exit 0 on bad input; stderr tail: {run.stderr[-1500:]}"
    assert run.returncode == 1, f"exit {run.returncode} (a crash?); stderr tail: {run.stderr[-1500:]}"
    assert TRACEBACK not in run.stderr, run.stderr[-3000:]
    line = _the_error_line(result)
    if result.scenario.url:
        urls = LOOPBACK_URL.findall(line)
        assert urls, f"the line gives no request URL: {line}"
    _assert_stdout_valid(result)


@pytest.mark.parametrize("scenario_id", IDS)
def test_bad_input_logs_exactly_one_error_line(scenario_run: Any, scenario_id: str) -> None:
    """One failure, one ERROR line: the SDK's own "An unhandled error occurred while
    syncing" and "Config validation failed" lines are second ERROR lines saying nothing
    the first does not."""
    run = scenario_run(scenario_id).run
    assert len(run.error_lines) == 1, "\n".join(run.error_lines)


@pytest.mark.parametrize("scenario_id", DEBUG_IDS)
def test_debug_log_level_shows_the_traceback(scenario_run: Any, scenario_id: str) -> None:
    result: ScenarioRun = scenario_run(scenario_id, "--log-level=debug")
    run = result.run
    assert run.returncode != 0
    if result.scenario.stream or result.scenario.status:
        assert TRACEBACK in run.stderr, f"no traceback at --log-level=debug: {run.stderr[-1500:]}"
    _the_error_line(result)
    _assert_stdout_valid(result)


def test_insecure_http_is_allowed_when_configured(tmp_path: Any) -> None:
    """The insecure-http-base-url scenario's config with allow_insecure_http syncs."""
    with contextlib.ExitStack() as stack:
        env = Env(stack)
        config = seed_build("timetracking", "users")(env)
        insecure_base(config, env)
        assert "://0.0.0.0:" in config["client"]["base_url"]
        config["allow_insecure_http"] = True
        run = TapProcess(tmp_path, config).finish()
        assert run.returncode == 0, run.stderr[-2000:]
        assert len([m for m in run.messages if m["type"] == "RECORD"]) == 25

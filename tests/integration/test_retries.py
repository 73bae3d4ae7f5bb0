"""Retries against the live sandbox, with the fake clock recording every wait.

The waits are the seeds' policies (exponential 2, 4, 8 s; seed 004's constant 62 s),
`Retry-After` (seconds or an HTTP date) wins, transport failures are retried, and
giving up or a non-retried status ends the run with one clear line.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import SandboxServer
from tests.fakes import FakeClock

from .helpers import config_for, error_lines, pages_needed, run_cli, run_tap
from .seeds import STREAMS


def _assert_complete(result: Any, srv: SandboxServer, api: str) -> None:
    for name, key, _, _ in STREAMS[api]:
        ids = result.ids(name)
        assert len(ids) == len(set(ids)), f"{api}/{name}: duplicates"
        assert set(ids) == {str(r["id"]) for r in srv.records(key)}, f"{api}/{name}: records lost"


def _statuses(srv: SandboxServer, path_part: str) -> list[int]:
    return [e["status"] for e in srv.request_log if path_part in e["path"]]


#: api -> (stream, sandbox key, path substring to inject faults into)
FAULTED = {
    "devplatform": ("repositories", "devplatform/repositories", "/v1/repositories"),
    "helpdesk": ("tickets", "helpdesk/tickets", "/tickets"),
    "timetracking": ("projects", "timetracking/projects", "/v1/resource/projects"),
}


# --------------------------------------------------------------------- computed waits
@pytest.mark.sandbox(records=130, retry_after="")
@pytest.mark.parametrize(
    ("faults", "waits"),
    [
        ([503, 503], [2, 4]),
        ([500, 504], [2, 4]),
        ([429, 502, 503], [2, 4, 8]),
    ],
    ids=["503-503", "500-504", "three-retries"],
)
@pytest.mark.parametrize("api", ["devplatform", "helpdesk", "timetracking"])
def test_retried_statuses_back_off_exponentially(
    sandbox: SandboxServer, fake_clock: FakeClock, api: str, faults: list[int], waits: list[int]
) -> None:
    """Seeds 000-003: 429/500/502/503/504, 3 retries, waits 2, 4, 8 s (a blank Retry-After is no
    Retry-After)."""
    name, key, target = FAULTED[api]
    sandbox.inject(target, faults)

    result = run_tap(config_for(sandbox, api, max_concurrent_requests=1))

    _assert_complete(result, sandbox, api)
    assert fake_clock.sleeps == pytest.approx(waits)
    assert _statuses(sandbox, target)[: len(faults) + 1] == [*faults, 200]
    limit = next(limit for n, _, limit, _ in STREAMS[api] if n == name)
    assert sandbox.data_request_count(key) == pages_needed(130, limit) + len(faults)


@pytest.mark.sandbox(records=130)
@pytest.mark.parametrize("api", ["devplatform", "statuspage"])
def test_retry_after_seconds_wins(sandbox: SandboxServer, fake_clock: FakeClock, api: str) -> None:
    sandbox.configure(retry_after="7")
    target = "/v1/events" if api == "devplatform" else "/v1/resource/subscribers"
    sandbox.inject(target, [429, 429])

    result = run_tap(config_for(sandbox, api, max_concurrent_requests=1))

    _assert_complete(result, sandbox, api)
    assert fake_clock.sleeps == pytest.approx([7, 7])


@pytest.mark.sandbox(records=130, retry_after=30, retry_after_date=True)
def test_retry_after_http_date_wins(sandbox: SandboxServer, fake_clock: FakeClock) -> None:
    sandbox.inject("/v1/organizations", [503])

    result = run_tap(config_for(sandbox, "devplatform", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "devplatform")
    assert len(fake_clock.sleeps) == 1
    # An HTTP date has whole seconds: 30 s from "now" on the server is 29-30 s for the tap.
    assert 28.5 <= fake_clock.sleeps[0] <= 30.0
    assert fake_clock.sleeps[0] != pytest.approx(2.0), "the computed wait must not win over the date"


# --------------------------------------------------------------------- seed 004: 62 s
@pytest.mark.sandbox(records=130, retry_after="")
@pytest.mark.parametrize("faults", [[429], [420, 429], [429, 420, 429]])
def test_statuspage_rate_limits_wait_a_constant_62_seconds(
    sandbox: SandboxServer, fake_clock: FakeClock, faults: list[int]
) -> None:
    sandbox.inject("/v1/resource/subscribers", faults)

    result = run_tap(config_for(sandbox, "statuspage", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "statuspage")
    assert fake_clock.sleeps == pytest.approx([62] * len(faults))


@pytest.mark.sandbox(records=130, retry_after="5")
def test_statuspage_retry_after_beats_62_seconds(sandbox: SandboxServer, fake_clock: FakeClock) -> None:
    sandbox.inject("/v1/resource", [420, 429])

    result = run_tap(config_for(sandbox, "statuspage", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "statuspage")
    assert fake_clock.sleeps == pytest.approx([5, 5])


@pytest.mark.sandbox(records=600, retry_after="")
def test_rate_limit_under_concurrency_pauses_and_completes(
    sandbox: SandboxServer, fake_clock: FakeClock
) -> None:
    sandbox.inject("/v1/resource", [429])

    result = run_tap(config_for(sandbox, "statuspage"))

    _assert_complete(result, sandbox, "statuspage")
    assert fake_clock.sleeps, "a 429 must be waited out"
    assert max(fake_clock.sleeps) == pytest.approx(62)
    assert fake_clock.slept <= 62 * 8, "the run waits about one 62 s pause, not one per page"


# ---------------------------------------------------------------------------- give up
@pytest.mark.sandbox(records=130, retry_after="")
def test_gives_up_after_max_retries_naming_stream_and_url(
    sandbox: SandboxServer, fake_clock: FakeClock
) -> None:
    sandbox.inject("/v1/organizations", [503, 503, 503, 503, 503])

    result = run_tap(config_for(sandbox, "devplatform", max_concurrent_requests=1), expect_error=True)

    message = str(result.error)
    assert fake_clock.sleeps == pytest.approx([2, 4, 8])
    assert _statuses(sandbox, "/v1/organizations") == [503, 503, 503, 503], "1 try + 3 retries"
    assert "organizations" in message
    assert "/devplatform/v1/organizations" in message
    assert "503" in message
    assert "3 retries" in message
    assert "\n" not in message


@pytest.mark.sandbox(records=30)
def test_cli_gives_up_with_exit_code_and_one_line(sandbox: SandboxServer, tmp_path: Any) -> None:
    config = config_for(sandbox, "devplatform")
    config["client"]["error_handler"] = {
        "retry_on_status_codes": [500],
        "max_retries": 2,
        "backoff_factor": 0,
    }
    sandbox.inject("/v1/repositories", [500, 500, 500, 500])

    result = run_cli(tmp_path, config)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in error_lines(result.stderr) if "still failing" in line]
    assert len(lines) == 1, result.stderr[-2000:]
    assert "repositories" in lines[0]
    assert "/devplatform/v1/repositories" in lines[0]
    assert "2 retries" in lines[0]
    assert sandbox.credentials["devplatform"]["client_secret"] not in result.stderr
    assert _statuses(sandbox, "/v1/repositories") == [500, 500, 500]


# ------------------------------------------------------------------ transport failures
@pytest.mark.sandbox(records=130)
def test_502_with_html_body_is_retried(sandbox: SandboxServer, fake_clock: FakeClock) -> None:
    sandbox.inject("/tickets", [502, 504])

    result = run_tap(config_for(sandbox, "helpdesk", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "helpdesk")
    assert fake_clock.sleeps == pytest.approx([2, 4])


@pytest.mark.sandbox(records=130)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_dropped_connection_is_retried(
    sandbox: SandboxServer, fake_clock: FakeClock, concurrency: int
) -> None:
    sandbox.inject("/v1/resource/clients", ["drop", "drop"])

    result = run_tap(config_for(sandbox, "timetracking", max_concurrent_requests=concurrency))

    _assert_complete(result, sandbox, "timetracking")
    assert _statuses(sandbox, "/v1/resource/clients").count(0) == 2
    assert len(fake_clock.sleeps) == 2
    if concurrency == 1:
        assert fake_clock.sleeps == pytest.approx([2, 4])
    else:  # the two drops may hit one request (2, 4) or two (2, 2)
        assert sorted(fake_clock.sleeps) in ([2, 2], [2, 4])


@pytest.mark.sandbox(records=30, slow_seconds=0.5)
def test_timeout_is_retried(sandbox: SandboxServer, fake_clock: FakeClock) -> None:
    """A response slower than `request_timeout` (a number of seconds, 0.25 here) is retried."""
    sandbox.inject("/v1/resource/labels", ["slow"])

    result = run_tap(config_for(sandbox, "timetracking", request_timeout=0.25, max_concurrent_requests=1))

    _assert_complete(result, sandbox, "timetracking")
    assert fake_clock.sleeps == pytest.approx([2])


@pytest.mark.sandbox(records=30, retry_after="")
def test_token_endpoint_outage_is_retried(sandbox: SandboxServer, fake_clock: FakeClock) -> None:
    """A 503 from the token endpoint is as transient as one from a data endpoint."""
    sandbox.inject("/oauth/token", [503])

    result = run_tap(config_for(sandbox, "devplatform", max_concurrent_requests=1))

    _assert_complete(result, sandbox, "devplatform")
    assert sandbox.token_requests["devplatform"] == 2
    assert fake_clock.sleeps == pytest.approx([2])


# ------------------------------------------------------------------- not retried
@pytest.mark.sandbox(records=130)
def test_status_outside_the_policy_fails_at_once_with_advice(
    sandbox: SandboxServer, fake_clock: FakeClock
) -> None:
    """Seed 004 retries 420/429 only: a 500 is not retried, and the error says what to do."""
    sandbox.inject("/v1/resource/subscribers", [500])

    result = run_tap(config_for(sandbox, "statuspage", max_concurrent_requests=1), expect_error=True)

    message = str(result.error)
    assert fake_clock.sleeps == []
    assert _statuses(sandbox, "/v1/resource/subscribers") == [500]
    assert "subscribers" in message
    assert "/statuspage/v1/resource/subscribers" in message
    assert "500" in message
    assert "error_handler.retry_on_status_codes" in message
    assert "\n" not in message

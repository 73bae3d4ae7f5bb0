"""An API that cannot be reached: exponential waits whatever the status backoff, and one
line naming client.base_url; a TLS failure fails at once."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tap_analytics.retry import RetryPolicy

from .conftest import FakeTime
from .test_client import THINGS_URL, cfg, error_of, stream_of, things

#: Seed 004's policy: 420/429 retried after a constant 62 s.
CONSTANT_62 = {"retry_on_status_codes": [420, 429], "max_retries": 3, "backoff_factor": 62,
               "backoff": "constant"}


def test_refused_connections_back_off_exponentially_even_under_a_constant_policy(
    requests_mock: Any, fake_time: FakeTime
) -> None:
    requests_mock.get(THINGS_URL, exc=requests.exceptions.ConnectionError("refused"))
    message = error_of(stream_of(cfg(things(error_handler=CONSTANT_62))))
    assert fake_time.sleeps == [2.0, 4.0, 8.0], "not 3 x 62 s before failing on a wrong host"
    assert "client.base_url" in message
    assert "cannot connect" in message
    assert requests_mock.call_count == 4


def test_the_constant_policy_still_applies_to_the_apis_own_statuses(
    requests_mock: Any, fake_time: FakeTime
) -> None:
    requests_mock.get(THINGS_URL, [{"status_code": 429}, {"json": {"data": [{"id": "1"}]}}])
    stream = stream_of(cfg(things(error_handler=CONSTANT_62)))
    assert list(stream.request_records(None)) == [{"id": "1"}]
    assert fake_time.sleeps == [62.0]


def test_a_tls_failure_is_not_retried_and_names_the_settings(
    requests_mock: Any, fake_time: FakeTime
) -> None:
    requests_mock.get(THINGS_URL, exc=requests.exceptions.SSLError("certificate verify failed"))
    message = error_of(stream_of(cfg()))
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []
    assert "TLS" in message
    assert "ca_bundle" in message


@pytest.mark.parametrize(
    ("policy", "waits"),
    [
        (RetryPolicy(), [2.0, 4.0, 8.0]),
        (RetryPolicy(backoff_factor=0.5), [0.5, 1.0, 2.0]),
        (RetryPolicy(backoff="constant", backoff_factor=62), [2.0, 4.0, 8.0]),
        (RetryPolicy(backoff="constant", backoff_factor=1), [1.0, 2.0, 4.0]),
    ],
)
def test_connection_waits(policy: RetryPolicy, waits: list[float]) -> None:
    assert [policy.connection_wait(n) for n in (1, 2, 3)] == waits

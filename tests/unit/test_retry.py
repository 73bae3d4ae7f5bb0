"""The retry policy: computed waits, Retry-After, defaults. Pure: nothing sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from tap_analytics.retry import DEFAULT_RETRY_STATUSES, RetryPolicy, parse_retry_after

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def fixed_now() -> datetime:
    return NOW


def test_exponential_waits_for_factor_two() -> None:
    policy = RetryPolicy()
    assert [policy.computed_wait(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert [policy.wait(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_exponential_waits_scale_with_the_factor() -> None:
    policy = RetryPolicy(backoff_factor=0.5)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]


def test_constant_wait_of_62_seconds() -> None:
    policy = RetryPolicy(
        retry_on_status_codes=frozenset({420, 429}), backoff_factor=62, backoff="constant"
    )
    assert [policy.wait(n) for n in (1, 2, 3)] == [62.0, 62.0, 62.0]
    assert policy.retries_status(420)
    assert policy.retries_status(429)
    assert not policy.retries_status(503)


def test_retry_after_seconds_wins_over_the_computed_wait() -> None:
    policy = RetryPolicy()
    assert policy.wait(3, "7") == 7.0
    assert policy.wait(1, "120") == 120.0
    assert policy.wait(2, "0") == 0.0
    assert RetryPolicy(backoff_factor=62, backoff="constant").wait(1, "5") == 5.0


def test_retry_after_seconds_with_whitespace() -> None:
    assert parse_retry_after(" 30 ") == 30.0


def test_retry_after_http_date_in_the_future() -> None:
    header = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=fixed_now) == pytest.approx(90.0)


def test_retry_after_rfc9110_example_date() -> None:
    # RFC 9110 §10.2.3's example, 30 s after an injected "now".
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: now) == 30.0


def test_retry_after_http_date_in_the_past_means_no_wait() -> None:
    header = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert parse_retry_after(header, now=fixed_now) == 0.0


def test_policy_wait_uses_an_http_date() -> None:
    header = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 115.0 <= RetryPolicy().wait(1, header) <= 120.0


@pytest.mark.parametrize("garbage", ["soon", "", "   ", "-5", "12 apples", "Wed, 99 Foo 2015"])
def test_unreadable_retry_after_falls_back_to_the_computed_wait(garbage: str) -> None:
    assert parse_retry_after(garbage, now=fixed_now) is None
    assert RetryPolicy().wait(2, garbage) == 4.0


def test_absent_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert RetryPolicy().wait(3, None) == 8.0


def test_defaults_are_the_seeds() -> None:
    policy = RetryPolicy()
    assert policy.retry_on_status_codes == frozenset({429, 500, 502, 503, 504})
    assert set(DEFAULT_RETRY_STATUSES) == {429, 500, 502, 503, 504}
    assert policy.max_retries == 3
    assert policy.backoff_factor == 2
    assert policy.backoff == "exponential"


def test_from_config_defaults_equal_the_seeds() -> None:
    assert RetryPolicy.from_config({}) == RetryPolicy()
    seeds_000_to_003 = {
        "retry_on_status_codes": [429, 500, 502, 503, 504],
        "max_retries": 3,
        "backoff_factor": 2,
    }
    assert RetryPolicy.from_config(seeds_000_to_003) == RetryPolicy()


def test_from_config_reads_every_option() -> None:
    policy = RetryPolicy.from_config(
        {"retry_on_status_codes": [420, 429], "max_retries": 5, "backoff_factor": 62,
         "backoff": "constant"}
    )
    assert policy.retry_on_status_codes == frozenset({420, 429})
    assert policy.max_retries == 5
    assert policy.backoff_factor == 62.0
    assert policy.backoff == "constant"
    assert [policy.wait(n) for n in (1, 2, 3)] == [62.0, 62.0, 62.0]


def test_from_config_partial_keeps_the_other_defaults() -> None:
    policy = RetryPolicy.from_config({"max_retries": 0})
    assert policy.max_retries == 0
    assert policy.retry_on_status_codes == frozenset(DEFAULT_RETRY_STATUSES)
    assert policy.wait(1) == 2.0


def test_empty_status_list_retries_nothing() -> None:
    policy = RetryPolicy.from_config({"retry_on_status_codes": []})
    assert not any(policy.retries_status(code) for code in DEFAULT_RETRY_STATUSES)

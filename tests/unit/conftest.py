"""Shared helpers for the unit tests: configs, taps, a fake clock for retries."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tap_analytics import retry
from tests.fakes import FakeClock

if TYPE_CHECKING:
    from tap_analytics.tap import TapAnalytics

CONFIGS = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
SEED_APIS = ("devplatform", "generic", "helpdesk", "timetracking", "statuspage")
BASE_URL = "https://api.example.com"


def seed_config(api: str) -> dict[str, Any]:
    """A fresh copy of the JSON fixture of one seed's configuration."""
    return json.loads((CONFIGS / f"{api}.json").read_text())


def make_tap(config: dict[str, Any], state: dict[str, Any] | None = None) -> TapAnalytics:
    from tap_analytics.tap import TapAnalytics  # noqa: PLC0415 - keep pure tests importable

    return TapAnalytics(config=copy.deepcopy(config), parse_env_config=False, state=state)


def query(request: Any) -> dict[str, str]:
    """The query parameters of a (mocked) request, case preserved, last value wins."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(request.url).query).items()}


def offset_server(
    records: list[dict[str, Any]],
    *,
    with_total: bool = True,
    cap: int | None = None,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> Callable[[Any, Any], dict[str, Any]]:
    """A requests-mock JSON callback serving `records` by offset/limit, like a real API."""

    def callback(request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        offset = int(q.get(offset_param, 0))
        limit = int(q.get(limit_param, 10))
        if cap is not None:
            limit = min(limit, cap)
        body: dict[str, Any] = {"data": records[offset : offset + limit]}
        if with_total:
            body["total"] = len(records)
        return body

    return callback


FakeTime = FakeClock


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeClock()
    monkeypatch.setattr(retry, "sleep", fake.sleep)
    monkeypatch.setattr(retry, "clock", fake.clock)
    return fake


@pytest.fixture(autouse=True)
def _no_real_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any retry that is not expected by a test must not make the suite slow."""

    def refuse(seconds: float) -> None:
        msg = f"unexpected real sleep of {seconds} s in a unit test"
        raise AssertionError(msg)

    monkeypatch.setattr(retry, "sleep", refuse)


def response(
    body: bytes | str,
    *,
    url: str = f"{BASE_URL}/v1/things?offset=0&limit=10",
    status: int = 200,
    content_type: str = "application/json",
) -> requests.Response:
    """A hand-made `requests.Response` for pure parsing tests."""
    made = requests.Response()
    made._content = body.encode() if isinstance(body, str) else body
    made.status_code = status
    made.url = url
    made.headers["Content-Type"] = content_type
    made.reason = "OK" if status == 200 else "Error"
    return made

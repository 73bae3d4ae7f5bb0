"""Behaviour of the local sandbox server that the tap's tests, demo and benchmarks rely on.

Talks plain HTTP with ``requests`` so what is checked is what a client sees.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import requests

from sandbox import RESOURCE_KEYS, SandboxServer
from sandbox.data import SPECS_BY_KEY

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tap_analytics" / "schemas"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
#: Volatile fields the sandbox adds on purpose, outside the schemas.
EXTRA_FIELDS = {"devplatform/events": {"updated_at"}, "devplatform/organizations": {"followers"}}
GENERIC_FIELDS = {
    "id": "string",
    "customer_id": "string",
    "name": "string",
    "amount": "number",
    "is_active": "boolean",
    "created_at": "date-time",
    "updated_at": "date-time",
}
TIMEOUT = 5


@pytest.fixture
def srv() -> Iterator[SandboxServer]:
    with SandboxServer(records=120) as server:
        yield server


def token_for(srv: SandboxServer, api: str) -> str:
    creds = srv.credentials[api]
    form = {"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    if api == "helpdesk":
        form |= {"grant_type": "refresh_token", "refresh_token": creds["refresh_token"]}
    else:
        form["grant_type"] = "client_credentials"
    resp = requests.post(f"{srv.api_url(api)}/oauth/token", data=form, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def auth_headers(srv: SandboxServer, api: str) -> dict[str, str]:
    if api == "statuspage":
        return {"api_key": srv.credentials[api]["api_key"]}
    if api == "timetracking":
        return {"Authorization": f"Bearer {srv.credentials[api]['token']}"}
    return {"Authorization": f"Bearer {token_for(srv, api)}"}


def get(
    srv: SandboxServer, key: str, headers: dict[str, str] | None = None, **params: Any
) -> requests.Response:
    spec = SPECS_BY_KEY[key]
    hdrs = auth_headers(srv, spec.api) if headers is None else headers
    return requests.get(f"{srv.api_url(spec.api)}{spec.path}", headers=hdrs, params=params, timeout=TIMEOUT)


def fetch_all(srv: SandboxServer, key: str, size: int = 25, **params: Any) -> list[dict[str, Any]]:
    spec = SPECS_BY_KEY[key]
    headers = auth_headers(srv, spec.api)
    out: list[dict[str, Any]] = []
    for n in range(10_000):
        paging = (
            {"page": n + 1, "per_page": size}
            if spec.paging == "page"
            else {"offset": len(out), "limit": size}
        )
        data = get(srv, key, headers, **paging, **params).json()["data"]
        if not data:
            return out
        out.extend(data)
    raise AssertionError("paging never ended")


def check_type(value: Any, types: list[str], fmt: str | None) -> bool:
    checks = {
        "string": lambda v: isinstance(v, str) and (fmt != "date-time" or bool(ISO_Z.match(v))),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "null": lambda v: v is None,
    }
    return any(checks[t](value) for t in types)


# ------------------------------------------------------------------ records
@pytest.mark.parametrize("key", [k for k in RESOURCE_KEYS if k != "generic/resource_name"])
def test_records_match_schema(srv: SandboxServer, key: str) -> None:
    api, name = key.split("/")
    schema = json.loads((SCHEMAS / api / f"{name}.json").read_text())
    props = schema["properties"]
    records = fetch_all(srv, key)
    assert len(records) == 120
    assert records == srv.records(key)
    for rec in records:
        assert set(rec) == set(props) | EXTRA_FIELDS.get(key, set())
        for field, prop in props.items():
            assert check_type(rec[field], prop["type"], prop.get("format")), (key, field, rec[field])
        assert isinstance(rec["id"], str)
    assert len({r["id"] for r in records}) == len(records)


def test_generic_records_fields(srv: SandboxServer) -> None:
    for rec in fetch_all(srv, "generic/resource_name"):
        assert set(rec) == set(GENERIC_FIELDS)
        for field, kind in GENERIC_FIELDS.items():
            types = ["string"] if kind == "date-time" else [kind]
            assert check_type(rec[field], types, kind if kind == "date-time" else None), (field, rec)


def test_records_are_deterministic_and_ordered(srv: SandboxServer) -> None:
    with SandboxServer(records=120) as other:
        assert other.records("helpdesk/tickets") == srv.records("helpdesk/tickets")
    events = srv.records("devplatform/events")
    assert events[0]["timestamp"] == "2024-01-01T00:00:00Z"
    assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)


# --------------------------------------------------------------------- auth
@pytest.mark.parametrize("api", ["devplatform", "generic"])
def test_client_credentials_body_and_basic(srv: SandboxServer, api: str) -> None:
    creds = srv.credentials[api]
    url = f"{srv.api_url(api)}/oauth/token"
    body = requests.post(url, data={"grant_type": "client_credentials", **creds}, timeout=TIMEOUT)
    assert body.status_code == 200
    assert body.json()["token_type"] == "Bearer"
    assert body.json()["expires_in"] == 3600
    basic = base64.b64encode(
        f"{quote_plus(creds['client_id'])}:{quote_plus(creds['client_secret'])}".encode()
    ).decode()
    via_basic = requests.post(
        url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=TIMEOUT,
    )
    assert via_basic.status_code == 200
    assert via_basic.json()["access_token"] != body.json()["access_token"]
    key = "devplatform/events" if api == "devplatform" else "generic/resource_name"
    ok = get(srv, key, {"Authorization": f"Bearer {via_basic.json()['access_token']}"})
    assert ok.status_code == 200
    assert srv.token_requests[api] == 2


def test_token_endpoint_errors_never_echo_secrets(srv: SandboxServer) -> None:
    creds = srv.credentials["devplatform"]
    url = f"{srv.api_url('devplatform')}/oauth/token"
    bad = requests.post(
        url,
        data={
            "grant_type": "client_credentials",
            "client_id": creds["client_id"],
            "client_secret": "nope-SECRET",
        },
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    assert bad.json()["client_id"] == creds["client_id"]
    assert "nope-SECRET" not in bad.text
    assert creds["client_secret"] not in bad.text
    basic = base64.b64encode(f"{creds['client_id']}:wrong".encode()).decode()
    bad_basic = requests.post(
        url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=TIMEOUT,
    )
    assert bad_basic.status_code == 401
    assert bad_basic.headers["WWW-Authenticate"].startswith("Basic")
    wrong_grant = requests.post(url, data={"grant_type": "password", **creds}, timeout=TIMEOUT)
    assert wrong_grant.status_code == 400
    assert wrong_grant.json()["error"] == "unsupported_grant_type"
    assert requests.get(url, timeout=TIMEOUT).status_code == 405


def test_data_endpoints_reject_bad_credentials(srv: SandboxServer) -> None:
    missing = get(srv, "devplatform/events", {})
    assert missing.status_code == 401
    assert missing.json() == {"error": "unauthorized"}
    bogus = get(srv, "devplatform/events", {"Authorization": "Bearer not-a-token"})
    assert bogus.status_code == 401
    assert 'error="invalid_token"' in bogus.headers["WWW-Authenticate"]
    generic_token = token_for(srv, "generic")
    assert get(srv, "devplatform/events", {"Authorization": f"Bearer {generic_token}"}).status_code == 401
    assert get(srv, "timetracking/users", {"Authorization": "Bearer wrong"}).status_code == 401
    assert get(srv, "statuspage/pages", {"api_key": "wrong"}).status_code == 401
    assert get(srv, "statuspage/pages", {"Authorization": "Bearer x"}).status_code == 401
    assert get(srv, "timetracking/users").status_code == 200
    assert get(srv, "statuspage/subscribers").status_code == 200


def test_unknown_path_is_404_only_when_authenticated(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "timetracking")
    assert (
        requests.get(f"{srv.api_url('timetracking')}/v1/nope", headers=headers, timeout=TIMEOUT).status_code
        == 404
    )
    assert requests.get(f"{srv.api_url('timetracking')}/v1/nope", timeout=TIMEOUT).status_code == 401
    assert requests.get(f"{srv.base_url}/unknown-api/v1", timeout=TIMEOUT).status_code == 404


def test_api_key_header_name_is_configurable(srv: SandboxServer) -> None:
    key = srv.credentials["statuspage"]["api_key"]
    srv.configure(api_key_header="X-Api-Key")
    assert get(srv, "statuspage/pages", {"x-api-key": key}).status_code == 200
    assert get(srv, "statuspage/pages", {"api_key": key}).status_code == 401


def test_helpdesk_refresh_token_rotates(srv: SandboxServer) -> None:
    creds = srv.credentials["helpdesk"]
    url = f"{srv.api_url('helpdesk')}/oauth/token"
    form = {
        "grant_type": "refresh_token",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    first = requests.post(url, data={**form, "refresh_token": creds["refresh_token"]}, timeout=TIMEOUT)
    assert first.status_code == 200
    new_rt = first.json()["refresh_token"]
    assert new_rt != creds["refresh_token"]
    assert srv.credentials["helpdesk"]["refresh_token"] == new_rt
    reused = requests.post(url, data={**form, "refresh_token": creds["refresh_token"]}, timeout=TIMEOUT)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert creds["refresh_token"] not in reused.text
    assert creds["client_secret"] not in reused.text
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    second = requests.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": new_rt},
        headers={"Authorization": f"Basic {basic}"},
        timeout=TIMEOUT,
    )
    assert second.status_code == 200
    access = second.json()["access_token"]
    assert get(srv, "helpdesk/tickets", {"Authorization": f"Bearer {access}"}).status_code == 200
    cc = requests.post(url, data={**form, "grant_type": "client_credentials"}, timeout=TIMEOUT)
    assert cc.json()["error"] == "unsupported_grant_type"


def test_access_token_expires() -> None:
    with SandboxServer(records=5, token_ttl=0.2) as srv:
        creds = srv.credentials["generic"]
        resp = requests.post(
            f"{srv.api_url('generic')}/oauth/token",
            data={"grant_type": "client_credentials", **creds},
            timeout=TIMEOUT,
        )
        assert resp.json()["expires_in"] == 0.2
        headers = {"Authorization": f"Bearer {resp.json()['access_token']}"}
        assert get(srv, "generic/resource_name", headers).status_code == 200
        time.sleep(0.3)
        expired = get(srv, "generic/resource_name", headers)
        assert expired.status_code == 401
        assert expired.headers["WWW-Authenticate"] == 'Bearer realm="sandbox", error="invalid_token"'


def test_expire_tokens(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "devplatform")
    srv.expire_tokens()
    assert get(srv, "devplatform/events", headers).status_code == 401


# ------------------------------------------------------------------- paging
def test_offset_paging(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "helpdesk")
    default = get(srv, "helpdesk/tickets", headers).json()
    assert len(default["data"]) == 50  # seed 002's page size
    assert default["total"] == 120
    last = get(srv, "helpdesk/tickets", headers, offset=100, limit=50).json()
    assert [r["id"] for r in last["data"]] == [f"tkt_{n}" for n in range(101, 121)]
    beyond = get(srv, "helpdesk/tickets", headers, offset=500, limit=50).json()
    assert beyond == {"data": [], "total": 120}
    assert get(srv, "helpdesk/tickets", headers, offset=-1).status_code == 400
    assert get(srv, "helpdesk/tickets", headers, limit="x").status_code == 400


def test_page_number_paging(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "timetracking")
    first = get(srv, "timetracking/events", headers, page=1, per_page=50).json()
    assert first["total"] == 3  # total PAGES for page-number paging
    assert first["page"] == 1
    assert first["per_page"] == 50
    assert first["data"][0]["id"] == "tte_1"
    third = get(srv, "timetracking/events", headers, page=3, per_page=50).json()
    assert [r["id"] for r in third["data"]] == [f"tte_{n}" for n in range(101, 121)]
    assert get(srv, "timetracking/events", headers, page=4, per_page=50).json()["data"] == []
    assert get(srv, "timetracking/events", headers, page=0).status_code == 400
    assert fetch_all(srv, "timetracking/events", size=7) == srv.records("timetracking/events")


def test_include_total_off() -> None:
    with SandboxServer(records=10, include_total=False) as srv:
        assert get(srv, "devplatform/repositories").json().keys() == {"data"}
        assert "total" not in get(srv, "timetracking/events").json()


def test_max_page_size_caps_but_honours_offset() -> None:
    with SandboxServer(records=30, max_page_size=7) as srv:
        headers = auth_headers(srv, "statuspage")
        page = get(srv, "statuspage/pages", headers, offset=10, limit=100).json()
        assert [r["id"] for r in page["data"]] == [f"page_{n}" for n in range(11, 18)]
        assert fetch_all(srv, "statuspage/pages", size=100) == srv.records("statuspage/pages")
        tt = get(srv, "timetracking/events", page=2, per_page=100).json()
        assert [r["id"] for r in tt["data"]] == [f"tte_{n}" for n in range(8, 15)]
        assert tt["total"] == 5


def test_ignore_paging_always_serves_first_page() -> None:
    with SandboxServer(records=30, ignore_paging=True) as srv:
        headers = auth_headers(srv, "devplatform")
        a = get(srv, "devplatform/events", headers, offset=0, limit=10).json()["data"]
        b = get(srv, "devplatform/events", headers, offset=20, limit=10).json()["data"]
        assert a == b
        assert get(srv, "timetracking/events", page=3, per_page=10).json()["data"][0]["id"] == "tte_1"


def test_endless_never_returns_an_empty_page() -> None:
    with SandboxServer(records=5, endless=True, include_total=False) as srv:
        headers = auth_headers(srv, "generic")
        seen: set[str] = set()
        for offset in range(0, 50, 5):
            data = get(srv, "generic/resource_name", headers, offset=offset, limit=5).json()["data"]
            assert len(data) == 5
            seen.update(r["id"] for r in data)
        assert len(seen) == 50


# ------------------------------------------------------------------- faults
def test_injected_fault_queue(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "devplatform")
    srv.inject("/v1/events", [503, 502, "drop", 429])
    r503 = get(srv, "devplatform/events", headers)
    assert r503.status_code == 503
    assert r503.headers["Retry-After"] == "1"
    r502 = get(srv, "devplatform/events", headers)
    assert r502.status_code == 502
    assert r502.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r502.text
    with pytest.raises(requests.ConnectionError):
        get(srv, "devplatform/events", headers)
    assert get(srv, "devplatform/organizations", headers).status_code == 200  # other paths untouched
    assert get(srv, "devplatform/events", headers).status_code == 429
    assert get(srv, "devplatform/events", headers).status_code == 200
    statuses = [e["status"] for e in srv.request_log if e["resource"] == "devplatform/events"]
    assert statuses == [503, 502, 0, 429, 200]


def test_injected_payload_faults(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "timetracking")
    srv.inject("/clients", ["html200", "truncated", "no_data", "null_data", 420])
    html = get(srv, "timetracking/clients", headers)
    assert html.status_code == 200
    assert html.headers["Content-Type"].startswith("text/html")
    truncated = get(srv, "timetracking/clients", headers)
    assert truncated.status_code == 200
    with pytest.raises(ValueError):  # requests' JSONDecodeError
        truncated.json()
    assert get(srv, "timetracking/clients", headers).json() == {"items": []}
    assert get(srv, "timetracking/clients", headers).json() == {"data": None}
    enhance = get(srv, "timetracking/clients", headers)
    assert enhance.status_code == 420
    assert "Retry-After" in enhance.headers
    with pytest.raises(ValueError):
        srv.inject("/clients", ["explode"])


def test_retry_after_http_date() -> None:
    with SandboxServer(records=5, retry_after="30", retry_after_date=True) as srv:
        srv.inject("/v1/resource", [429])
        resp = get(srv, "statuspage/pages")
        assert resp.status_code == 429
        delta = parsedate_to_datetime(resp.headers["Retry-After"]).timestamp() - time.time()
        assert 25 < delta <= 31


def test_slow_fault_triggers_client_read_timeout() -> None:
    with SandboxServer(records=5, slow_seconds=0.5) as srv:
        headers = auth_headers(srv, "timetracking")
        srv.inject("/labels", ["slow"])
        spec = SPECS_BY_KEY["timetracking/labels"]
        with pytest.raises(requests.ReadTimeout):
            requests.get(f"{srv.api_url('timetracking')}{spec.path}", headers=headers, timeout=0.1)
        assert get(srv, "timetracking/labels", headers).status_code == 200


def test_token_endpoint_can_be_faulted(srv: SandboxServer) -> None:
    srv.inject("/generic/oauth/token", [503])
    creds = srv.credentials["generic"]
    url = f"{srv.api_url('generic')}/oauth/token"
    assert (
        requests.post(url, data={"grant_type": "client_credentials", **creds}, timeout=TIMEOUT).status_code
        == 503
    )
    assert token_for(srv, "generic")


def test_random_faults_are_deterministic() -> None:
    def run() -> list[int]:
        with SandboxServer(records=5, fail_rate=0.5, fault_seed=42, fail_statuses=[500, 503, 429]) as srv:
            headers = auth_headers(srv, "statuspage")
            return [get(srv, "statuspage/subscribers", headers).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert 200 in first
    assert set(first) - {200}
    assert set(first) <= {200, 500, 503, 429}


def test_latency_is_added_to_data_requests() -> None:
    with SandboxServer(records=5, latency_ms=80) as srv:
        headers = auth_headers(srv, "timetracking")
        t0 = time.perf_counter()
        get(srv, "timetracking/users", headers)
        assert time.perf_counter() - t0 >= 0.08


# --------------------------------------------------------- data changes
def test_mutate_adds_and_updates(srv: SandboxServer) -> None:
    before = {r["id"]: r for r in srv.records("timetracking/projects")}
    latest = max(r["updated_at"] for r in before.values())
    result = srv.mutate("timetracking/projects", add=4, update=3)
    assert result["added"] == ["prj_121", "prj_122", "prj_123", "prj_124"]
    assert len(result["updated"]) == 3
    after = srv.records("timetracking/projects")
    assert len(after) == 124
    assert [r["id"] for r in after[:120]] == list(before)  # updates keep their place
    by_id = {r["id"]: r for r in after}
    for rid in result["updated"]:
        assert by_id[rid]["updated_at"] > latest
        assert by_id[rid]["budget"] != before[rid]["budget"]
        assert by_id[rid]["created_at"] == before[rid]["created_at"]
    for rid in result["added"]:
        assert by_id[rid]["created_at"] > latest
    # Incremental read since the old high-water mark returns exactly the changes.
    changed = fetch_all(srv, "timetracking/projects", updated_since=latest)
    changed_ids = {r["id"] for r in changed if r["updated_at"] > latest}
    assert changed_ids == set(result["added"]) | set(result["updated"])
    # Deterministic: the same mutation on a fresh server picks the same records.
    with SandboxServer(records=120) as other:
        assert other.mutate("timetracking/projects", add=4, update=3) == result


def test_mutate_records_without_visible_cursor(srv: SandboxServer) -> None:
    srv.mutate("devplatform/events", update=1)  # advances the clock
    result = srv.mutate("helpdesk/agents", add=1, update=2)
    events = srv.records("devplatform/events")
    since = max(e["timestamp"] for e in events)
    changed = fetch_all(srv, "helpdesk/agents", updated_since=since)
    assert {r["id"] for r in changed} == set(result["added"]) | set(result["updated"])
    assert all(set(r) == set(srv.records("helpdesk/agents")[0]) for r in changed)


def test_insert_at_head_shifts_offsets(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "devplatform")
    page1 = get(srv, "devplatform/repositories", headers, offset=0, limit=10).json()["data"]
    ids = srv.insert_at_head("devplatform/repositories", 3)
    assert ids == ["repo_121", "repo_122", "repo_123"]
    page2 = get(srv, "devplatform/repositories", headers, offset=10, limit=10).json()
    assert page2["total"] == 123
    assert [r["id"] for r in page2["data"][:3]] == [r["id"] for r in page1[-3:]]  # seen again
    assert [r["id"] for r in srv.records("devplatform/repositories")[:4]] == [*ids, "repo_1"]


def test_since_filter_on_generated_data(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "devplatform")
    events = get(srv, "devplatform/events", headers, updated_since="2024-01-01T01:00:00Z", limit=100).json()
    assert events["total"] == 60  # events filter on `timestamp`: minutes 60..119
    assert events["data"][0]["timestamp"] == "2024-01-01T01:00:00Z"
    users = get(srv, "timetracking/users", updated_since="2024-01-01T01:00:00Z", limit=200).json()
    assert users["data"][0]["updated_at"] == "2024-01-01T01:00:30Z"  # updated_at = created_at + 30 s
    assert users["total"] == 60
    paged = get(srv, "timetracking/events", updated_since="2024-01-01T01:00:00+00:00", per_page=25).json()
    assert paged["total"] == 3
    assert get(srv, "timetracking/users", updated_since="yesterday").status_code == 400
    srv.configure(start_param="since")
    assert get(srv, "timetracking/users", since="2024-01-01T01:00:00Z").json()["total"] == 60


def test_set_records_per_resource(srv: SandboxServer) -> None:
    srv.set_records({"helpdesk/tickets": 3})
    assert srv.record_count("helpdesk/tickets") == 3
    assert srv.record_count("helpdesk/agents") == 120
    with pytest.raises(KeyError):
        srv.set_records({"helpdesk/nope": 1})


# ------------------------------------------------------------ introspection
def test_request_log_and_counters(srv: SandboxServer) -> None:
    headers = auth_headers(srv, "generic")
    get(srv, "generic/resource_name", headers, offset=0, limit=5)
    log = srv.request_log
    assert [e["method"] for e in log] == ["POST", "GET"]
    entry = log[-1]
    assert entry["path"] == "/generic/v1/resource"
    assert entry["query"] == {"offset": "0", "limit": "5"}
    assert entry["status"] == 200
    assert entry["api"] == "generic"
    assert entry["resource"] == "generic/resource_name"
    assert entry["headers"]["Authorization"].startswith("Bearer ")
    assert srv.data_request_count("generic/resource_name") == 1
    assert srv.token_requests["generic"] == 1
    srv.reset_log()
    assert srv.request_log == []
    assert srv.data_request_count("generic/resource_name") == 0
    assert srv.token_requests["generic"] == 0


def test_control_endpoints(srv: SandboxServer) -> None:
    base = f"{srv.base_url}/_control"
    assert requests.get(f"{base}/credentials", timeout=TIMEOUT).json() == srv.credentials
    resp = requests.post(
        f"{base}/mutate", json={"resource": "helpdesk/tickets", "add": 2, "update": 1}, timeout=5
    )
    assert resp.status_code == 200
    assert resp.json()["added"] == ["tkt_121", "tkt_122"]
    stats = requests.get(f"{base}/stats", timeout=TIMEOUT).json()
    assert stats["records"]["helpdesk/tickets"] == 122
    assert requests.post(f"{base}/mutate", json={"resource": "nope"}, timeout=TIMEOUT).status_code == 400
    assert srv.request_log == []  # control calls are not logged


def test_stop_closes_keepalive_connections() -> None:
    srv = SandboxServer(records=5).start()
    session = requests.Session()
    url = f"{srv.base_url}/_control/stats"
    session.get(url, timeout=TIMEOUT)
    t0 = time.perf_counter()
    srv.stop()
    assert time.perf_counter() - t0 < 1
    with pytest.raises(requests.ConnectionError):
        session.get(url, timeout=1)


def test_cli_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--records", "3", "--no-total"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        match = re.fullmatch(r"sandbox listening on (http://127\.0\.0\.1:\d+)", first)
        assert match, first
        creds = json.loads(proc.stdout.readline())
        resp = requests.get(
            f"{match.group(1)}/statuspage/v1/resource",
            headers={"api_key": creds["statuspage"]["api_key"]},
            timeout=5,
        )
        assert resp.json().keys() == {"data"}
        assert len(resp.json()["data"]) == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

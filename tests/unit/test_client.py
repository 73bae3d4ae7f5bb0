"""The stream class against mocked data URLs: parsing, retries, auth renewal, records."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tap_analytics.client import AnalyticsStream
from tap_analytics.errors import TapAnalyticsError

from .conftest import BASE_URL, FakeTime, make_tap, offset_server, query, response

TOKEN_URL = f"{BASE_URL}/oauth/token"
THINGS_URL = f"{BASE_URL}/v1/things"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "name": {"type": ["string", "null"]},
        "count": {"type": ["integer", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


def things(
    *,
    paginator: Any = None,
    selector: str | None = None,
    incremental: dict[str, Any] | None = None,
    error_handler: dict[str, Any] | None = None,
    **resource: Any,
) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"path": "/v1/things"}
    if paginator is not None:
        endpoint["paginator"] = paginator
    if selector is not None:
        endpoint["data_selector"] = selector
    if incremental is not None:
        endpoint["incremental"] = incremental
    if error_handler is not None:
        endpoint["error_handler"] = error_handler
    return {"name": "things", "endpoint": endpoint, "schema": SCHEMA, **resource}


def cfg(
    resource: dict[str, Any] | None = None,
    auth: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    return {
        "client": {"base_url": BASE_URL, "auth": auth or {"type": "bearer", "token": "bt-unit-client-1"}},
        "resources": [resource or things()],
        **top,
    }


def stream_of(config: dict[str, Any], state: dict[str, Any] | None = None) -> AnalyticsStream:
    stream = make_tap(config, state).streams["things"]
    assert isinstance(stream, AnalyticsStream)
    return stream


def records_of(stream: AnalyticsStream) -> list[dict[str, Any]]:
    return list(stream.request_records(None))


def synced(config: dict[str, Any], capsys: pytest.CaptureFixture[str],
           state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run a full sync (SDK path: post_process, state) and return the RECORD messages."""
    make_tap(config, state).sync_all()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [m for m in lines if m["type"] == "RECORD"]


def error_of(stream: AnalyticsStream) -> str:
    with pytest.raises(TapAnalyticsError) as caught:
        records_of(stream)
    message = str(caught.value)
    assert "\n" not in message
    assert "stream things" in message
    return message


def sync_error_of(config: dict[str, Any], capsys: pytest.CaptureFixture[str],
                  state: dict[str, Any] | None = None) -> str:
    """The one-line error a whole sync fails with."""
    with pytest.raises(TapAnalyticsError) as caught:
        synced(config, capsys, state)
    message = str(caught.value)
    assert "\n" not in message
    assert "stream things" in message
    return message


# --- parse_page: a pure function of one response ------------------------------------------


@pytest.mark.parametrize(
    ("selector", "body"),
    [
        ("data", {"data": [{"id": "1"}, {"id": "2"}], "total": 2}),
        ("$.data[*]", {"data": [{"id": "1"}, {"id": "2"}], "total": 2}),
        ("$.data", {"data": [{"id": "1"}, {"id": "2"}], "total": 2}),
        ("result.items", {"result": {"items": [{"id": "1"}, {"id": "2"}]}, "total": 2}),
        ("$.result.items[*]", {"result": {"items": [{"id": "1"}, {"id": "2"}]}, "total": 2}),
        ("$[*]", [{"id": "1"}, {"id": "2"}]),
    ],
)
def test_parse_page_selectors(selector: str, body: Any) -> None:
    stream = stream_of(cfg(things(selector=selector)))
    records, _ = stream.parse_page(response(json.dumps(body)))
    assert records == [{"id": "1"}, {"id": "2"}]


def test_parse_page_reads_the_total() -> None:
    stream = stream_of(cfg(things(paginator={"type": "offset", "limit": 10})))
    assert stream.parse_page(response('{"data": [], "total": 42}')) == ([], 42)
    assert stream.parse_page(response('{"data": [], "total": "42"}')) == ([], 42)
    assert stream.parse_page(response('{"data": []}')) == ([], None)
    assert stream.parse_page(response('{"data": [], "total": null}')) == ([], None)
    nested = stream_of(cfg(things(paginator={"type": "offset", "limit": 10, "total_path": "meta.count"})))
    assert nested.parse_page(response('{"data": [], "meta": {"count": 7}}')) == ([], 7)


def test_parse_page_ignores_a_byte_order_mark() -> None:
    stream = stream_of(cfg())
    body = b"\xef\xbb\xbf" + b'{"data": [{"id": "1"}]}'
    assert stream.parse_page(response(body)) == ([{"id": "1"}], None)


def test_parse_page_keeps_decimals_exact() -> None:
    stream = stream_of(cfg())
    records, _ = stream.parse_page(response('{"data": [{"id": "1", "score": 0.1}]}'))
    assert str(records[0]["score"]) == "0.1"


@pytest.mark.parametrize(
    ("body", "hint"),
    [
        ('{"items": [{"id": "1"}], "total": 1}', "items"),
        ('{"data": null}', "data_selector"),
        ('{"data": "nothing"}', "str"),
        ('{"data": [1, 2]}', "int"),
        ("[]", "data_selector"),
    ],
)
def test_parse_page_rejects_bodies_without_a_record_list(body: str, hint: str) -> None:
    stream = stream_of(cfg(things(selector="data")))
    url = f"{THINGS_URL}?page=3"
    with pytest.raises(TapAnalyticsError) as caught:
        stream.parse_page(response(body, url=url))
    message = str(caught.value)
    assert "stream things" in message
    assert url in message
    assert hint in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("<!DOCTYPE html><html><body>Sign in</body></html>", "text/html; charset=utf-8"),
        ('{"data": [{"id": "1"}, {"id": "2"', "application/json"),
        ("", "application/json"),
        (b"\xff\xfe{\x00", "application/json"),
    ],
)
def test_parse_page_rejects_bodies_that_are_not_json(body: Any, content_type: str) -> None:
    stream = stream_of(cfg())
    with pytest.raises(TapAnalyticsError) as caught:
        stream.parse_page(response(body, content_type=content_type))
    message = str(caught.value)
    assert "stream things" in message
    assert THINGS_URL in message
    assert "not valid JSON" in message
    assert content_type in message
    assert "Sign in" not in message
    assert "\n" not in message


def test_missing_data_key_through_the_page_loop(requests_mock: Any) -> None:
    requests_mock.get(THINGS_URL, json={"results": []})
    message = error_of(stream_of(cfg(things(selector="data"))))
    assert THINGS_URL in message
    assert "results" in message


def test_html_body_through_the_page_loop(requests_mock: Any) -> None:
    requests_mock.get(THINGS_URL, text="<html>maintenance</html>", headers={"Content-Type": "text/html"})
    message = error_of(stream_of(cfg()))
    assert "text/html" in message


# --- the request: params and headers ----------------------------------------------------------


def test_build_request_carries_params_and_headers() -> None:
    resource = things()
    resource["endpoint"]["params"] = {"status": "all", "skip_me": None}
    resource["endpoint"]["headers"] = {"X-Team": "blue"}
    stream = stream_of(cfg(resource))
    prepared = stream.build_request({**stream.base_params(None), "offset": 0})
    assert prepared.url == f"{THINGS_URL}?status=all&offset=0"
    assert prepared.headers["X-Team"] == "blue"
    assert prepared.headers["Accept"] == "application/json"


@pytest.mark.parametrize("path", ["/v1/things", "/v1/things?fixed=1", "/v1/ünïcode things"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"offset": 100, "limit": 50},
        {"since": "2024-01-01T00:00:00+02:00", "q": "a b&c=d/é"},
        {"ids": ["1", "2"], "flag": True, "ratio": 0.5, "gone": None},
    ],
)
def test_build_request_encodes_like_requests(path: str, params: dict[str, Any]) -> None:
    """The request template saves preparing each request from scratch; the URL it makes
    must be the one requests itself would make."""
    resource = things()
    resource["endpoint"]["path"] = path
    stream = stream_of(cfg(resource))
    expected = requests.Request("GET", stream.url, params=params).prepare().url
    assert stream.build_request(params).url == expected
    assert stream.build_request(params).headers is not stream.build_request(params).headers


def test_base_url_with_a_path_and_trailing_slash(requests_mock: Any) -> None:
    config = cfg()
    config["client"]["base_url"] = "https://api.example.com/api/"
    requests_mock.get("https://api.example.com/api/v1/things", json={"data": [{"id": "1"}]})
    assert records_of(stream_of(config)) == [{"id": "1"}]


# --- the retry loop (fake time: nothing really sleeps) ------------------------------------------


def test_retry_503_twice_then_success(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, [
        {"status_code": 503}, {"status_code": 503}, {"json": {"data": [{"id": "1"}]}},
    ])
    stream = stream_of(cfg())
    assert records_of(stream) == [{"id": "1"}]
    assert fake_time.sleeps == [2.0, 4.0]
    assert requests_mock.call_count == 3
    assert stream.retries_made == 2


def test_retry_after_seconds_is_honoured(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, [
        {"status_code": 503, "headers": {"Retry-After": "7"}},
        {"json": {"data": [{"id": "1"}]}},
    ])
    assert records_of(stream_of(cfg())) == [{"id": "1"}]
    assert sum(fake_time.sleeps) == pytest.approx(7.0)
    assert requests_mock.call_count == 2


def test_retry_after_on_429_is_honoured(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, [
        {"status_code": 429, "headers": {"Retry-After": "11"}},
        {"json": {"data": [{"id": "1"}]}},
    ])
    assert records_of(stream_of(cfg())) == [{"id": "1"}]
    assert sum(fake_time.sleeps) == pytest.approx(11.0)


def test_seed_004_constant_62_second_wait_on_420(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, [
        {"status_code": 420}, {"status_code": 420}, {"json": {"data": [{"id": "1"}]}},
    ])
    resource = things(error_handler={"retry_on_status_codes": [420, 429], "max_retries": 3,
                                     "backoff_factor": 62, "backoff": "constant"})
    assert records_of(stream_of(cfg(resource))) == [{"id": "1"}]
    assert sum(fake_time.sleeps) == pytest.approx(124.0)
    assert requests_mock.call_count == 3


def test_give_up_after_max_retries(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, status_code=503)
    message = error_of(stream_of(cfg()))
    assert requests_mock.call_count == 4
    assert fake_time.sleeps == [2.0, 4.0, 8.0]
    assert "HTTP 503" in message
    assert "3 retries" in message
    assert "max_retries" in message


def test_max_retries_zero_fails_at_once(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, status_code=500)
    error_of(stream_of(cfg(things(error_handler={"max_retries": 0}))))
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []


def test_status_not_in_the_list_is_not_retried(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, status_code=503)
    resource = things(error_handler={"retry_on_status_codes": [429]})
    message = error_of(stream_of(cfg(resource)))
    assert requests_mock.call_count == 1
    assert "retry_on_status_codes" in message


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        (404, "endpoint.path"),
        (403, "permissions"),
        (400, "params"),
        (401, "client.auth"),
        (422, "configuration"),
    ],
)
def test_client_errors_fail_at_once_with_advice(
    requests_mock: Any, fake_time: FakeTime, status: int, advice: str
) -> None:
    requests_mock.get(THINGS_URL, status_code=status, text="secret body text")
    message = error_of(stream_of(cfg()))
    assert requests_mock.call_count == 1
    assert fake_time.sleeps == []
    assert f"HTTP {status}" in message
    assert advice in message
    assert THINGS_URL in message
    assert "secret body text" not in message


@pytest.mark.parametrize(
    "exc",
    [requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout,
     requests.exceptions.ConnectTimeout, requests.exceptions.ChunkedEncodingError],
)
def test_connection_errors_are_retried(requests_mock: Any, fake_time: FakeTime, exc: type) -> None:
    requests_mock.get(THINGS_URL, [{"exc": exc}, {"json": {"data": [{"id": "1"}]}}])
    assert records_of(stream_of(cfg())) == [{"id": "1"}]
    assert fake_time.sleeps == [2.0]


def test_connection_errors_give_up_with_a_clear_error(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, exc=requests.exceptions.ConnectionError)
    message = error_of(stream_of(cfg()))
    assert "ConnectionError" in message
    assert requests_mock.call_count == 4


def test_unreasonable_retry_after_fails_instead_of_hanging(
    requests_mock: Any, fake_time: FakeTime
) -> None:
    requests_mock.get(THINGS_URL, status_code=503, headers={"Retry-After": "86400"})
    message = error_of(stream_of(cfg()))
    assert "86400" in message
    assert fake_time.sleeps == []


# --- auth on data requests ------------------------------------------------------------------------

OAUTH = {"type": "oauth2", "client_id": "cid-unit", "client_secret": "cs-UNIT-client-9911",
         "token_url": TOKEN_URL}


def test_401_with_oauth2_renews_once_and_retries(requests_mock: Any, fake_time: FakeTime) -> None:
    # The API revokes the first token right after issuing it: the 401 must renew it.
    requests_mock.post(TOKEN_URL, [
        {"json": {"access_token": "at-1", "expires_in": 3600}},
        {"json": {"access_token": "at-2", "expires_in": 3600}},
    ])

    def serve(request: Any, context: Any) -> dict[str, Any]:
        if request.headers["Authorization"] != "Bearer at-2":
            context.status_code = 401
            return {"error": "invalid_token"}
        return {"data": [{"id": "1"}]}

    requests_mock.get(THINGS_URL, json=serve)
    assert records_of(stream_of(cfg(auth=OAUTH))) == [{"id": "1"}]
    data = [r for r in requests_mock.request_history if r.method == "GET"]
    assert [r.headers["Authorization"] for r in data] == ["Bearer at-1", "Bearer at-2"]
    assert sum(r.method == "POST" for r in requests_mock.request_history) == 2
    assert fake_time.sleeps == []


def test_401_on_a_later_request_renews_once(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.post(TOKEN_URL, [
        {"json": {"access_token": "at-1", "expires_in": 3600}},
        {"json": {"access_token": "at-2", "expires_in": 3600}},
    ])
    revoked = {"at-1": False}

    def serve(request: Any, context: Any) -> dict[str, Any]:
        if request.headers["Authorization"] == "Bearer at-1" and revoked["at-1"]:
            context.status_code = 401
            return {}
        return {"data": [{"id": "1"}]}

    requests_mock.get(THINGS_URL, json=serve)
    stream = stream_of(cfg(auth=OAUTH))
    assert records_of(stream) == [{"id": "1"}]
    revoked["at-1"] = True
    assert records_of(stream) == [{"id": "1"}]
    data = [r for r in requests_mock.request_history if r.method == "GET"]
    assert [r.headers["Authorization"] for r in data] == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]


def test_401_after_renewal_is_an_error_not_a_loop(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "at-x", "expires_in": 3600})
    requests_mock.get(THINGS_URL, status_code=401)
    message = error_of(stream_of(cfg(auth=OAUTH)))
    assert "client.auth" in message
    assert sum(r.method == "GET" for r in requests_mock.request_history) == 2
    assert "cs-UNIT-client-9911" not in message


def test_401_with_bearer_is_not_retried(requests_mock: Any, fake_time: FakeTime) -> None:
    requests_mock.get(THINGS_URL, status_code=401)
    error_of(stream_of(cfg()))
    assert requests_mock.call_count == 1


def test_one_token_for_all_streams(requests_mock: Any) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "at-1", "expires_in": 3600})
    requests_mock.get(THINGS_URL, json={"data": [{"id": "1"}]})
    requests_mock.get(f"{BASE_URL}/v1/others", json={"data": [{"id": "2"}]})
    other = {**things(), "name": "others"}
    other["endpoint"] = {"path": "/v1/others"}
    config = cfg(auth=OAUTH)
    config["resources"].append(other)
    tap = make_tap(config)
    assert tap.streams["things"].authenticator is tap.streams["others"].authenticator
    records_of(tap.streams["things"])
    records_of(tap.streams["others"])
    assert sum(r.method == "POST" for r in requests_mock.request_history) == 1


API_KEY_SECRET = "AK-unit-very-secret-5eb1"


@pytest.mark.parametrize("name", ["api_key", "x_auth"])
def test_query_api_key_is_redacted_in_errors(requests_mock: Any, fake_time: FakeTime, name: str) -> None:
    auth = {"type": "api_key", "name": name, "api_key": API_KEY_SECRET, "location": "query"}
    requests_mock.get(THINGS_URL, status_code=404)
    message = error_of(stream_of(cfg(auth=auth)))
    assert query(requests_mock.request_history[0])[name] == API_KEY_SECRET
    assert API_KEY_SECRET not in message
    assert f"{name}=***" in message


def test_query_api_key_is_redacted_when_giving_up(requests_mock: Any, fake_time: FakeTime) -> None:
    auth = {"type": "api_key", "name": "x_auth", "api_key": API_KEY_SECRET, "location": "query"}
    requests_mock.get(THINGS_URL, status_code=502)
    message = error_of(stream_of(cfg(auth=auth)))
    assert API_KEY_SECRET not in message
    assert "x_auth=***" in message


def test_header_api_key_is_sent(requests_mock: Any) -> None:
    auth = {"type": "api_key", "name": "api_key", "api_key": API_KEY_SECRET, "location": "header"}
    requests_mock.get(THINGS_URL, json={"data": []})
    records_of(stream_of(cfg(auth=auth)))
    request = requests_mock.request_history[0]
    assert request.headers["api_key"] == API_KEY_SECRET
    assert API_KEY_SECRET not in request.url


# --- paging through the stream -------------------------------------------------------------------


def test_offset_paging_through_the_stream(requests_mock: Any) -> None:
    data = [{"id": str(i)} for i in range(25)]
    requests_mock.get(THINGS_URL, json=offset_server(data))
    resource = things(paginator={"type": "offset", "limit": 10})
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=1))) == data
    assert [query(r)["offset"] for r in requests_mock.request_history] == ["0", "10", "20"]


@pytest.mark.parametrize(("n", "requests"), [(250, 4), (300, 4), (30, 2), (0, 1)])
def test_sequential_paging_without_total_makes_at_most_one_request_beyond_the_data(
    requests_mock: Any, n: int, requests: int
) -> None:
    data = [{"id": str(i)} for i in range(n)]
    requests_mock.get(THINGS_URL, json=offset_server(data, with_total=False))
    resource = things(paginator={"type": "offset", "limit": 100})
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=1))) == data
    assert requests_mock.call_count == requests


def test_paging_without_total_with_default_settings(requests_mock: Any) -> None:
    # Issue 2: "at most one request beyond the data when the server gives no total".
    data = [{"id": str(i)} for i in range(250)]
    requests_mock.get(THINGS_URL, json=offset_server(data, with_total=False))
    resource = things(paginator={"type": "offset", "limit": 100})
    assert records_of(stream_of(cfg(resource))) == data
    assert requests_mock.call_count <= 3 + 1


@pytest.mark.parametrize("concurrency", [1, 8])
def test_paging_with_total_makes_no_request_beyond_the_data(
    requests_mock: Any, concurrency: int
) -> None:
    data = [{"id": str(i)} for i in range(300)]
    requests_mock.get(THINGS_URL, json=offset_server(data, cap=40))
    resource = things(paginator={"type": "offset", "limit": 100})
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=concurrency))) == data
    assert requests_mock.call_count == 8


@pytest.mark.parametrize(
    ("n", "limit", "cap", "with_total"),
    [
        (0, 10, None, True), (1, 10, None, False), (10, 10, None, False), (10, 10, None, True),
        (95, 10, None, False), (95, 10, 7, True), (95, 10, 7, False), (100, 25, 30, True),
        (333, 50, 20, False), (333, 50, None, True),
    ],
)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_record_exactly_once_in_order(
    requests_mock: Any, n: int, limit: int, cap: int | None, with_total: bool, concurrency: int
) -> None:
    data = [{"id": str(i)} for i in range(n)]
    requests_mock.get(THINGS_URL, json=offset_server(data, with_total=with_total, cap=cap))
    resource = things(paginator={"type": "offset", "limit": limit})
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=concurrency))) == data


def test_server_ignoring_offset_fails_the_stream(requests_mock: Any) -> None:
    def same_page(request: Any, context: Any) -> dict[str, Any]:
        assert requests_mock.call_count < 50, "the stream loops on a repeated page"
        return {"data": [{"id": str(i)} for i in range(10)]}

    requests_mock.get(THINGS_URL, json=same_page)
    resource = things(paginator={"type": "offset", "limit": 10})
    message = error_of(stream_of(cfg(resource, max_concurrent_requests=1)))
    assert "offset=10" in message
    assert requests_mock.call_count == 2


def test_keyless_append_resource_is_not_mistaken_for_repeated_pages(requests_mock: Any) -> None:
    # dlt allows resources without a primary key (append-only logs). Different pages of
    # keyless records are not "the same page again".
    data = [{"name": f"line {i}"} for i in range(25)]
    requests_mock.get(THINGS_URL, json=offset_server(data))
    resource = things(paginator={"type": "offset", "limit": 10}, primary_key=[],
                      write_disposition="append")
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=1))) == data


def test_page_number_paging_through_the_stream(requests_mock: Any) -> None:
    data = [{"id": str(i)} for i in range(25)]

    def serve(request: Any, context: Any) -> dict[str, Any]:
        q = query(request)
        page, size = int(q["page"]), int(q["per_page"])
        return {"data": data[(page - 1) * size : page * size]}

    requests_mock.get(THINGS_URL, json=serve)
    resource = things(paginator={"type": "page_number", "limit": 10, "limit_param": "per_page"})
    assert records_of(stream_of(cfg(resource, max_concurrent_requests=1))) == data
    # the short third page is not taken for the end (dlt's rule): the empty fourth is
    assert [query(r)["page"] for r in requests_mock.request_history] == ["1", "2", "3", "4"]


# --- records: coercion, incremental filtering -------------------------------------------------


def test_integer_ids_become_strings_for_string_fields(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [
        {"id": 7, "name": 12.5, "count": 3, "updated_at": "2024-01-01T00:00:00Z"},
    ]})
    [message] = synced(cfg(), capsys)
    record = message["record"]
    assert record["id"] == "7"
    assert record["name"] == "12.5"
    assert record["count"] == 3


TAGGED = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
    },
}


def test_array_items_are_conformed_like_fields(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"id": "1", "tags": ["a", 2, 3.5]}]})
    [message] = synced(cfg(things(schema=TAGGED)), capsys)
    assert message["record"]["tags"] == ["a", "2", "3.5"]


def test_an_array_item_of_the_wrong_type_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    """A null in a list of strings would be refused by a target validating the schema."""
    requests_mock.get(THINGS_URL, json={"data": [{"id": "1", "tags": ["a", None]}]})
    message = sync_error_of(cfg(things(schema=TAGGED)), capsys)
    assert "tags[1]=" in message
    assert "schema says string" in message
    assert "id='1'" in message


def test_a_field_of_the_wrong_type_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"id": "1", "count": "many"}]})
    message = sync_error_of(cfg(), capsys)
    assert "count='many' (str), but the schema says integer/null" in message


def test_fields_beyond_the_schema_are_dropped(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"id": "1", "followers": 10, "name": "a"}]})
    [message] = synced(cfg(), capsys)
    assert message["record"] == {"id": "1", "name": "a"}


def test_missing_primary_key_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"name": "no id"}]})
    message = sync_error_of(cfg(), capsys)
    assert "'id'" in message
    assert "primary_key" in message


INCREMENTAL = {"cursor_path": "updated_at", "start_param": "updated_since"}
ROWS = [
    {"id": "1", "updated_at": "2024-01-01T00:00:00Z"},
    {"id": "2", "updated_at": "2024-01-02T00:00:00Z"},
    {"id": "3", "updated_at": "2024-01-03T00:00:00Z"},
    {"id": "4", "updated_at": "2024-01-02T12:00:00+02:00"},
]


def test_records_before_the_bookmark_are_dropped_those_at_it_kept(
    requests_mock: Any, capsys: Any
) -> None:
    """Inclusive, as Singer taps and dlt's closed range: a record at exactly the bookmark may
    be a change within the bookmark's second; the target's merge drops a repeat."""
    requests_mock.get(THINGS_URL, json={"data": ROWS})  # the API ignores updated_since
    state = {"bookmarks": {"things": {"replication_key": "updated_at",
                                      "replication_key_value": "2024-01-02T00:00:00Z"}}}
    messages = synced(cfg(things(incremental=INCREMENTAL)), capsys, state)
    assert [m["record"]["id"] for m in messages] == ["2", "3", "4"]
    assert query(requests_mock.request_history[0])["updated_since"] == "2024-01-02T00:00:00Z"


def test_start_date_filters_and_is_sent_without_a_bookmark(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": ROWS})
    config = cfg(things(incremental=INCREMENTAL), start_date="2024-01-02T06:00:00Z")
    messages = synced(config, capsys)
    assert [m["record"]["id"] for m in messages] == ["3", "4"]
    assert query(requests_mock.request_history[0])["updated_since"].startswith("2024-01-02T06:00:00")


def test_initial_value_used_when_later_than_start_date(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": ROWS})
    incremental = {**INCREMENTAL, "initial_value": "2024-01-02T06:00:00Z"}
    messages = synced(cfg(things(incremental=incremental), start_date="2023-01-01T00:00:00Z"), capsys)
    assert [m["record"]["id"] for m in messages] == ["3", "4"]
    assert query(requests_mock.request_history[0])["updated_since"] == "2024-01-02T06:00:00Z"


def test_no_start_param_without_bookmark_or_start(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": ROWS})
    messages = synced(cfg(things(incremental=INCREMENTAL)), capsys)
    assert len(messages) == 4
    assert "updated_since" not in query(requests_mock.request_history[0])


def test_missing_replication_key_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"id": "9", "name": "no cursor"}]})
    message = sync_error_of(cfg(things(incremental=INCREMENTAL)), capsys)
    assert "'updated_at'" in message
    assert "cursor_path" in message
    assert "id='9'" in message


def test_unreadable_replication_key_is_a_clear_error(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": [{"id": "9", "updated_at": "last tuesday"}]})
    message = sync_error_of(cfg(things(incremental=INCREMENTAL)), capsys)
    assert "last tuesday" in message


def test_final_state_bookmarks_the_latest_value(requests_mock: Any, capsys: Any) -> None:
    requests_mock.get(THINGS_URL, json={"data": ROWS})
    make_tap(cfg(things(incremental=INCREMENTAL))).sync_all()
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]
    states = [m["value"] for m in lines if m["type"] == "STATE"]
    bookmark = states[-1]["bookmarks"]["things"]
    assert bookmark["replication_key"] == "updated_at"
    assert bookmark["replication_key_value"] == "2024-01-03T00:00:00Z"

"""A `PageRequest` applied to a stream's prepared request: query, next URL, POST bodies."""

from __future__ import annotations

import json

import pytest
import requests

from tap_analytics.errors import TapAnalyticsError
from tap_analytics.paging import PageRequest
from tap_analytics.paging.http import prepare_page, request_template

URL = "https://api.example.com/v1/search"


def template(method: str = "GET", url: str = URL) -> tuple[requests.PreparedRequest, str]:
    return request_template(requests.Session(), method, url, {"Accept": "application/json"})


def test_query_parameters_follow_the_template() -> None:
    prepared = prepare_page(*template(url=URL + "?fixed=1"), PageRequest({"offset": 10, "limit": 5}))
    assert prepared.url == URL + "?fixed=1&offset=10&limit=5"
    assert prepared.body is None


def test_a_next_url_replaces_the_endpoint_url_and_query() -> None:
    prepared = prepare_page(*template(url=URL + "?fixed=1"), PageRequest(url=URL + "?page=2&size=5"))
    assert prepared.url == URL + "?page=2&size=5"


@pytest.mark.parametrize("elsewhere", ["https://other.example.com/v1/search?page=2",
                                       "http://api.example.com/v1/search?page=2"])
def test_a_page_url_on_another_origin_is_never_requested(elsewhere: str) -> None:
    with pytest.raises(TapAnalyticsError, match="another scheme, host or port"):
        prepare_page(*template(), PageRequest(url=elsewhere))


def test_body_values_patch_a_copy_of_the_json_body_per_page() -> None:
    body = {"filter": {"tags": ["a"]}, "paging": {"limit": 5}}
    first = prepare_page(*template("POST"), PageRequest(body={"paging.offset": 0}), json_body=body)
    second = prepare_page(*template("POST"), PageRequest(body={"paging.offset": 5}), json_body=body)
    assert first.method == "POST"
    assert first.headers["Content-Type"] == "application/json"
    assert json.loads(first.body or b"") == {"filter": {"tags": ["a"]}, "paging": {"limit": 5, "offset": 0}}
    assert json.loads(second.body or b"")["paging"]["offset"] == 5
    assert body == {"filter": {"tags": ["a"]}, "paging": {"limit": 5}}, "the config's body is untouched"
    assert first.headers["Content-Length"] == str(len(first.body or b""))


def test_a_cursor_at_a_body_path_on_the_first_page_is_absent() -> None:
    prepared = prepare_page(*template("POST"), PageRequest(), json_body={"limit": 2})
    assert json.loads(prepared.body or b"") == {"limit": 2}


def test_form_data_is_sent_as_it_is() -> None:
    prepared = prepare_page(*template("POST"), PageRequest(), data_body={"q": "x y"})
    assert prepared.body == "q=x+y"
    assert prepared.headers["Content-Type"] == "application/x-www-form-urlencoded"

"""Where paging meets HTTP: a `PageRequest` applied to a stream's prepared request, and a
response's body decoded for the paginator and the records.

Both are pure functions of their arguments (no I/O), so the stream's `build_request` and
`read_page` stay thin and testable.
"""

from __future__ import annotations

import copy
import decimal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
import requests

from tap_analytics.errors import TapAnalyticsError, redact_url
from tap_analytics.paging.base import PageRequest
from tap_analytics.paging.links import origin
from tap_analytics.selectors import set_at_path

#: Decimal for non-integers, as the SDK's own parser: no precision is lost in transit.
JSON_DECODER = msgspec.json.Decoder(float_hook=decimal.Decimal)


@dataclass(frozen=True)
class RequestPlan:
    """Everything a page request of one endpoint shares once its templates are filled:
    the prepared request (method, URL, headers), where its query continues, its body."""

    template: requests.PreparedRequest
    separator: str
    json: Mapping[str, Any] | None = None
    data: Any = None

    def page(self, request: Mapping[str, Any] | PageRequest) -> requests.PreparedRequest:
        return prepare_page(
            self.template, self.separator, request, json_body=self.json, data_body=self.data
        )


def request_template(
    session: requests.Session, method: str, url: str, headers: Mapping[str, str]
) -> tuple[requests.PreparedRequest, str]:
    """What every page request of a stream shares -- method, URL, headers -- prepared once,
    with the separator its query parameters follow. Preparing a request from scratch
    costs more CPU than sending it (and session cookies are not replayed: the APIs
    authenticate with tokens and keys, not cookies)."""
    prepared = session.prepare_request(requests.Request(method=method, url=url, headers=dict(headers)))
    return prepared, "&" if urlsplit(prepared.url or "").query else "?"


def prepare_page(
    template: requests.PreparedRequest,
    separator: str,
    request: Mapping[str, Any] | PageRequest,
    *,
    json_body: Mapping[str, Any] | None = None,
    data_body: Any = None,
) -> requests.PreparedRequest:
    """`template` (method, URL, headers of every page; its query continues after
    `separator`) with one page's query parameters, body values or next URL. A next URL
    on another origin than the template's is refused: the authenticator would send the
    API's credentials there."""
    if isinstance(request, PageRequest):
        params, body_values, url = request.params, request.body, request.url
    else:
        params, body_values, url = request, {}, None
    prepared = template.copy()
    base = template.url or ""
    if url is not None:
        if origin(url) != origin(base):
            msg = (
                f"the page URL {redact_url(url)} is on another scheme, host or port than "
                f"the endpoint's {redact_url(base)}: not requested, so no credential goes there"
            )
            raise TapAnalyticsError(msg)
        prepared.prepare_url(url, None)
        base = prepared.url or url
        separator = "&" if urlsplit(base).query else "?"
    pairs = [(k, v) for k, v in params.items() if v is not None]
    if pairs:
        if all(type(v) is str or type(v) is int for _, v in pairs):
            prepared.url = f"{base}{separator}{urlencode(pairs)}"
        else:  # lists, booleans, floats: exactly as requests encodes them
            prepared.prepare_url(base, pairs)
    if body_values or json_body is not None:
        payload: dict[str, Any] = copy.deepcopy(dict(json_body or {}))
        for path, value in body_values.items():
            set_at_path(payload, path, value)
        prepared.prepare_body(data=None, files=None, json=payload)
    elif data_body is not None:
        prepared.prepare_body(data=data_body, files=None)
    return prepared


def decode_json(response: requests.Response, where: str) -> Any:
    """The JSON body of `response`; a clear error naming `where` when it is not JSON."""
    try:
        # RFC 8259 §8.1: a parser may ignore a byte order mark, and some servers send one.
        return JSON_DECODER.decode(response.content.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("Content-Type", "unknown content type")
        msg = (
            f"{where} returned a body that is not valid "
            f"JSON ({kind}, {len(response.content)} bytes); check client.base_url and "
            "endpoint.path point at the JSON API, or retry if the response was cut off"
        )
        raise TapAnalyticsError(msg) from None

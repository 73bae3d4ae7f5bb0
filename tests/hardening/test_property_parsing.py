"""Property-based tests: arbitrary JSON shapes at response parsing and paging.

Whatever a server sends, the tap either produces schema-valid records and a sane next
page, or fails with a `TapAnalyticsError` (or `PagingError`) whose message is one line.
Never another exception, and never an endless loop: every walk below is driven against a
server with finitely many distinct answers and must end within a bound the test enforces.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jsonschema
import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from tap_analytics.client import AnalyticsStream
from tap_analytics.errors import TapAnalyticsError
from tap_analytics.paging import (
    OffsetPaginator,
    Page,
    PageNumberPaginator,
    PageRequest,
    Paginator,
    PagingError,
)
from tap_analytics.tap import TapAnalytics

BASE_URL = "https://api.example.com"
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "name": {"type": ["string", "null"]},
        "count": {"type": ["integer", "null"]},
        "score": {"type": ["number", "null"]},
        "active": {"type": ["boolean", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "meta": {"type": ["object", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
FIELDS = list(SCHEMA["properties"])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
iso_datetimes = st.datetimes().map(lambda moment: moment.isoformat() + "Z")
records = st.dictionaries(st.sampled_from([*FIELDS, "extra", "id "]), json_values, max_size=9)
#: Records close to valid ones (an id and a readable cursor), so type errors get a chance
#: to show beyond the first missing key.
plausible_records = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=6), "updated_at": st.one_of(iso_datetimes, json_values)},
    optional={name: json_values for name in FIELDS if name not in {"id", "updated_at"}},
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "data": st.one_of(
                json_values, st.lists(records, max_size=5), st.lists(plausible_records, max_size=5)
            ),
            "total": json_values,
            "junk": json_values,
        },
    ),
)


def _tap(**top: Any) -> TapAnalytics:
    config = {
        "client": {"base_url": BASE_URL, "auth": {"type": "bearer", "token": "property-TOKEN-123456"}},
        "resources": [
            {
                "name": "things",
                "endpoint": {
                    "path": "/things",
                    "paginator": {"type": "offset", "limit": 5},
                    "incremental": {"cursor_path": "updated_at"},
                },
                "schema": SCHEMA,
                "primary_key": "id",
            }
        ],
        **top,
    }
    return TapAnalytics(config=config, parse_env_config=False)


@pytest.fixture(scope="module")
def stream() -> AnalyticsStream:
    return _tap().streams["things"]


def _response(
    body: bytes, *, content_type: str = "application/json", query: str = "offset=0&limit=5"
) -> requests.Response:
    made = requests.Response()
    made._content = body
    made.status_code = 200
    made.url = f"{BASE_URL}/things?{query}"
    made.headers["Content-Type"] = content_type
    made.reason = "OK"
    return made


def _assert_one_line(exc: BaseException, naming: str = "") -> None:
    message = str(exc)
    assert naming in message
    assert message
    assert "\n" not in message, repr(message)
    assert "Traceback" not in message


# ---------------------------------------------------------------------- parse_page
@given(body=bodies)
@example(body={"\n": None})  # a key the error message names must not break its one line
def test_parse_page_returns_records_or_a_clear_error(stream: AnalyticsStream, body: Any) -> None:
    try:
        found, total = stream.parse_page(_response(json.dumps(body).encode()))
    except TapAnalyticsError as exc:
        _assert_one_line(exc, "stream things")
        return
    assert isinstance(found, list)
    assert all(isinstance(r, dict) for r in found)
    assert total is None or isinstance(total, int)


@given(
    raw=st.binary(max_size=200),
    # What an HTTP header can hold: no control characters.
    content_type=st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
)
def test_parse_page_of_arbitrary_bytes(stream: AnalyticsStream, raw: bytes, content_type: str) -> None:
    try:
        found, _ = stream.parse_page(_response(raw, content_type=content_type))
    except TapAnalyticsError as exc:
        _assert_one_line(exc)
        return
    assert isinstance(found, list)


@given(body=bodies, cut=st.integers(1, 400))
def test_parse_page_of_truncated_json(stream: AnalyticsStream, body: Any, cut: int) -> None:
    text = json.dumps(body).encode()
    try:
        stream.parse_page(_response(text[: min(cut, max(len(text) - 1, 1))]))
    except TapAnalyticsError as exc:
        _assert_one_line(exc)


@given(rows=st.lists(st.one_of(records, plausible_records), min_size=1, max_size=5))
@example(rows=[{"id": "0", "updated_at": "2000-01-01T00:00:00Z", "tags": [None]}])
def test_records_are_schema_valid_or_a_clear_error(
    stream: AnalyticsStream, rows: list[dict[str, Any]]
) -> None:
    """A record the tap emits conforms to the stream's schema: a value of the wrong type
    is converted (a number into a string field) or the stream fails naming the field --
    never passed on for the target to choke on."""
    body = json.dumps({"data": rows}).encode()
    try:
        found, _ = stream.parse_page(_response(body))
        emitted = [stream.post_process(dict(row)) for row in found]
    except TapAnalyticsError as exc:
        _assert_one_line(exc)
        return
    for record in emitted:
        if record is not None:
            jsonschema.validate(record, stream.schema)


# ---------------------------------------------------------------------- paginators
def _walk(
    paginator: Paginator, serve: Callable[[dict[str, Any]], tuple[list[int], int | None]], bound: int
) -> tuple[list[int], int]:
    """Drive `paginator` against `serve` until it stops; fail past `bound` requests."""
    collected: list[int] = []
    for request in range(1, bound + 1):
        params = paginator.params()
        assert all(isinstance(v, int) and v >= 0 for v in params.values() if not isinstance(v, str)), params
        ids, total = serve(params)
        collected += ids
        fingerprint = hash(tuple(ids)) if ids else None
        if not paginator.advance(Page(len(ids), total, fingerprint)):
            return collected, request
    pytest.fail(f"still paging after {bound} requests: {paginator.describe()}")


@st.composite
def honest_servers(draw: st.DrawFn) -> tuple[int, int, bool]:
    return draw(st.integers(0, 80)), draw(st.integers(1, 25)), draw(st.booleans())


@given(server=honest_servers(), limit=st.integers(1, 40), start=st.integers(0, 3))
def test_offset_paging_against_an_honest_server_reads_everything_once(
    server: tuple[int, int, bool], limit: int, start: int
) -> None:
    """A server holding `n` records, serving at most `cap` a page, with or without a total:
    every record exactly once, and at most one request beyond the data (none with a total)."""
    n, cap, with_total = server
    data = list(range(n))

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        offset, size = params["offset"], min(params["limit"], cap)
        return data[offset : offset + size], n if with_total else None

    paginator = OffsetPaginator(limit=limit)
    got, requests_made = _walk(paginator, serve, bound=n + 3)
    assert got == data
    pages = max(1, math.ceil(n / min(limit, cap)))
    assert requests_made <= pages + (0 if with_total else 1)


@given(server=honest_servers(), limit=st.integers(1, 40), window=st.integers(1, 5))
def test_offset_guesses_match_the_pages_asked_for(
    server: tuple[int, int, bool], limit: int, window: int
) -> None:
    """What a concurrent fetcher requests ahead is exactly what the paginator asks for next
    (an honest server, a total): no wasted request, none past the end."""
    n, cap, _ = server
    data = list(range(n))
    paginator = OffsetPaginator(limit=limit)
    asked: list[dict[str, Any]] = []
    guessed: list[list[dict[str, Any]]] = []
    for _ in range(n + 3):
        params = paginator.params()
        asked.append(params)
        size = min(params["limit"], cap)
        ids = data[params["offset"] : params["offset"] + size]
        more = paginator.advance(Page(len(ids), n, hash(tuple(ids)) if ids else None))
        if not more:
            break
        guessed.append([guess.params for guess in paginator.speculate(window)])
    for step, guesses in enumerate(guessed):
        assert guesses == asked[step + 2 : step + 2 + len(guesses)], (step, guesses, asked)


@given(server=honest_servers(), limit=st.one_of(st.none(), st.integers(1, 40)), base=st.integers(0, 1))
def test_page_number_paging_against_an_honest_server_reads_everything_once(
    server: tuple[int, int, bool], limit: int | None, base: int
) -> None:
    n, cap, with_total = server
    data = list(range(n))
    size = min(limit or 10, cap)  # the server's page size: what it was asked for, capped

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        first = (params["page"] - base) * size
        return data[first : first + size], math.ceil(n / size) if with_total else None

    paginator = PageNumberPaginator(
        base_page=base, page_param="page", limit=limit, limit_param="per_page" if limit else None
    )
    got, requests_made = _walk(paginator, serve, bound=n + 3)
    assert got == data
    assert requests_made <= max(1, math.ceil(n / size)) + (0 if with_total else 1)


answers = st.lists(
    st.tuples(st.lists(st.integers(0, 30), max_size=8), st.one_of(st.none(), st.integers(-5, 200))),
    min_size=1,
    max_size=6,
)


@given(table=answers, kind=st.sampled_from(["offset", "page_number"]), limit=st.integers(1, 20))
# Found in CI: a total that falls and rises again once excused the same page forever.
@example(table=[([0], 4), ([0, 0], 5), ([0, 0], 6)], kind="page_number", limit=1)
def test_paging_against_any_finite_server_ends(
    table: list[tuple[list[int], int | None]], kind: str, limit: int
) -> None:
    """A server with finitely many distinct answers, whatever they are (wrong totals, the
    same page again, pages of any size): the walk ends, by a stop or a PagingError, before
    every answer could have been seen twice."""
    paginator: Paginator = (
        OffsetPaginator(limit=limit)
        if kind == "offset"
        else PageNumberPaginator(limit=limit, limit_param="n")
    )

    def serve(params: dict[str, Any]) -> tuple[list[int], int | None]:
        position = params.get("offset", params.get("page", 0))
        return table[hash(position) % len(table)]

    try:
        _walk(paginator, serve, bound=len(table) + 2)
    except PagingError as exc:
        _assert_one_line(exc)


@given(saved=json_values, kind=st.sampled_from(["offset", "page_number"]))
def test_restoring_any_saved_paging_state_is_safe(saved: Any, kind: str) -> None:
    """A resumed run's `bookmarks.<stream>.paging` may be anything a user or a target wrote:
    restore accepts it or refuses it, and the next page is still a valid request."""
    paginator: Paginator = OffsetPaginator(limit=5) if kind == "offset" else PageNumberPaginator()
    ok = paginator.restore(saved if isinstance(saved, dict) else {"offset": saved, "page": saved})
    assert isinstance(ok, bool)
    params = paginator.params()
    assert all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in params.values()), params


# ---------------------------------------------------------------------- the whole page loop
@given(table=st.lists(bodies, min_size=1, max_size=5), concurrency=st.sampled_from([1, 3]))
def test_the_stream_page_loop_ends_on_any_finite_server(table: list[Any], concurrency: int) -> None:
    """`request_records` (parse, paginate, skip repeats, max pages) against a server whose
    answers are arbitrary bodies from a finite table: it yields records and ends, or fails
    with one clear line, within a bounded number of requests."""
    tap = _tap(max_pages_per_stream=50, max_concurrent_requests=concurrency)
    stream = tap.streams["things"]
    calls: list[dict[str, Any]] = []
    bound = len(table) + 3

    def send(request: PageRequest | dict[str, Any]) -> requests.Response:
        params = dict(request.params if isinstance(request, PageRequest) else request)
        calls.append(params)
        if len(calls) > bound * concurrency + 10:
            raise AssertionError(f"unbounded paging: {len(calls)} requests")
        position = params.get("offset", 0)
        body = table[hash(position) % len(table)]
        return _response(json.dumps(body).encode(), query=urlencode(params))

    stream.send = send  # type: ignore[method-assign]
    out: list[dict[str, Any]] = []
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            out = list(stream.request_records(None))
        except TapAnalyticsError as exc:
            _assert_one_line(exc)
    assert all(isinstance(r, dict) for r in out)

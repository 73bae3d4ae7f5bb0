"""The DRF test API behaves as Django REST Framework and django-oauth-toolkit do (checked with requests)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.servers.drf import DRFServer
from tests.servers.drf.seed import BASE_INSTANT

TIMEOUT = 10
MAX_PAGES = 100


def client_token(srv: DRFServer) -> dict[str, Any]:
    resp = requests.post(
        srv.token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": srv.client_id,
            "client_secret": srv.client_secret,
        },
        timeout=TIMEOUT,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def bearer(srv: DRFServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {client_token(srv)['access_token']}"}


def refresh(srv: DRFServer, token: str) -> requests.Response:
    return requests.post(
        srv.token_url,
        data={"grant_type": "refresh_token", "refresh_token": token},
        auth=(srv.refresh_client_id, srv.refresh_client_secret),
        timeout=TIMEOUT,
    )


def walk(url: str, headers: dict[str, str], params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every page body, following DRF's ``next`` links (bounded)."""
    pages = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        resp = requests.get(next_url, headers=headers, params=params if not pages else None, timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        next_url = pages[-1]["next"]
        if next_url is None:
            return pages
    raise AssertionError("next links never ended")


def ids(pages: list[dict[str, Any]]) -> list[int]:
    return [rec["id"] for page in pages for rec in page["results"]]


def test_limit_offset_walk_returns_exactly_the_seeded_items(drf_server: DRFServer) -> None:
    headers = bearer(drf_server)
    drf_server.reset_log()
    pages = walk(drf_server.url("/api/limit-offset/items/"), headers)
    assert [len(p["results"]) for p in pages] == [50, 50, 20]
    assert {p["count"] for p in pages} == {120}
    assert pages[0]["previous"] is None
    assert pages[1]["previous"] is not None
    assert [rec for p in pages for rec in p["results"]] == drf_server.records()
    served = drf_server.requests("/api/limit-offset/items/")
    assert [r.params.get("offset") for r in served] == [None, ["50"], ["100"]]
    assert len(pages) == 3 == drf_server.count()
    small = walk(drf_server.url("/api/limit-offset/items/"), headers, {"limit": 7})
    assert len(small) == 18
    assert ids(small) == list(range(1, 121))


def test_page_number_walk_and_the_404_past_the_last_page(drf_server: DRFServer) -> None:
    headers = bearer(drf_server)
    url = drf_server.url("/api/page-number/items/")
    assert ids(walk(url, headers)) == list(range(1, 121))
    drf_server.reset_log()
    got: list[int] = []
    for page in range(1, MAX_PAGES):
        resp = requests.get(url, headers=headers, params={"page": page, "page_size": 40}, timeout=TIMEOUT)
        if resp.status_code == 404:
            assert resp.json() == {"detail": "Invalid page."}
            break
        got += [rec["id"] for rec in resp.json()["results"]]
    assert got == list(range(1, 121))
    # 3 pages needed, and the 4th request is the one that finds the end.
    assert drf_server.count("/api/page-number/items/") == 4
    assert drf_server.count("/api/page-number/items/", status=404) == 1


def test_cursor_walk_follows_cursor_links(drf_server: DRFServer) -> None:
    headers = bearer(drf_server)
    pages = walk(drf_server.url("/api/cursor/items/"), headers)
    assert "cursor=" in pages[0]["next"]
    assert "count" not in pages[0]
    assert ids(pages) == list(range(1, 121))
    assert drf_server.count("/api/cursor/items/") == 3


def test_cursor_by_updated_at_moves_updated_items_last(drf_server: DRFServer) -> None:
    headers = bearer(drf_server)
    later = BASE_INSTANT + timedelta(days=1)
    assert drf_server.update_items([1, 2], at=later) == 2
    pages = walk(drf_server.url("/api/cursor-updated/items/"), headers, {"page_size": 30})
    assert len(pages) == 4
    assert ids(pages) == [*range(3, 121), 1, 2]
    assert pages[-1]["results"][-1]["updated_at"] == "2024-01-02T05:30:00+05:30"


def test_datetimes_are_rendered_in_the_server_time_zone(make_drf_server) -> None:
    kolkata = make_drf_server(items=5)
    records = requests.get(kolkata.url("/open/items/"), timeout=TIMEOUT).json()
    assert [r["created_at"] for r in records] == [f"2024-01-01T05:3{k}:00+05:30" for k in range(1, 6)]
    assert all(r["updated_at"].endswith("+05:30") for r in records)
    kolkata.stop()
    utc = make_drf_server(items=5, time_zone="UTC")
    records_utc = requests.get(utc.url("/open/items/"), timeout=TIMEOUT).json()
    assert [r["created_at"] for r in records_utc] == [f"2024-01-01T00:0{k}:00Z" for k in range(1, 6)]
    assert [datetime.fromisoformat(r["created_at"]) for r in records] == [
        datetime.fromisoformat(r["created_at"]) for r in records_utc
    ]


def test_updated_window_filters(drf_server: DRFServer) -> None:
    url = drf_server.url("/open/limit-offset/items/")

    def window(**params: str) -> list[int]:
        resp = requests.get(url, params={"limit": 500, **params}, timeout=TIMEOUT)
        assert resp.status_code == 200, resp.text
        return [rec["id"] for rec in resp.json()["results"]]

    expected = list(range(10, 20))  # item k was updated at BASE + k minutes
    assert window(updated_since="2024-01-01T00:10:00Z", updated_until="2024-01-01T00:20:00Z") == expected
    assert (
        window(updated_since="2024-01-01T05:40:00+05:30", updated_until="2024-01-01T05:50:00+05:30")
        == expected
    )
    assert (
        window(updated_since="2024-01-01T05:40:00", updated_until="2024-01-01T05:50:00") == expected
    )  # naive: IST
    assert window(updated_since="2024-01-01T01:59:00Z") == [119, 120]
    resp = requests.get(url, params={"updated_since": "yesterday"}, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert "updated_since" in resp.json()


def test_detail_comments_and_deletion(make_drf_server) -> None:
    srv = make_drf_server(items=10, comments_per_item=5, page_size=2)
    headers = bearer(srv)
    detail = requests.get(srv.url("/api/items/3/"), headers=headers, timeout=TIMEOUT)
    assert detail.json() == srv.records()[2]
    pages = walk(srv.url("/api/items/3/comments/"), headers)
    assert [len(p["results"]) for p in pages] == [2, 2, 1]
    comments = [c for p in pages for c in p["results"]]
    assert {c["item"] for c in comments} == {3}
    assert [c["body"] for c in comments] == [f"Comment {c} on item 3" for c in range(1, 6)]
    assert srv.delete_items([3]) == 1
    for path in ("/api/items/3/", "/api/items/3/comments/"):
        assert requests.get(srv.url(path), headers=headers, timeout=TIMEOUT).status_code == 404
    assert [
        r["id"] for r in requests.get(srv.url("/api/items/"), headers=headers, timeout=TIMEOUT).json()
    ] == [
        1,
        2,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
    ]


def test_item_ids_are_never_reused_until_set_items(drf_server: DRFServer) -> None:
    drf_server.set_items(5)
    drf_server.delete_items([5])
    assert drf_server.add_items(2) == [6, 7]
    drf_server.set_items(3)
    assert [r["id"] for r in drf_server.records()] == [1, 2, 3]


def test_client_credentials_grant(make_drf_server) -> None:
    srv = make_drf_server(access_token_seconds=120)
    token = client_token(srv)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 120
    assert token["scope"] == "read"
    assert "refresh_token" not in token
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(srv.url("/api/items/1/"), headers=headers, timeout=TIMEOUT).status_code == 200
    bad = requests.post(
        srv.token_url,
        data={"grant_type": "client_credentials"},
        auth=(srv.client_id, "wrong"),
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"


def test_refresh_rotates_and_spends_the_old_token(drf_server: DRFServer) -> None:
    seeded = {"Authorization": f"Bearer {drf_server.access_token}"}
    assert requests.get(drf_server.url("/api/items/1/"), headers=seeded, timeout=TIMEOUT).status_code == 200
    first = refresh(drf_server, drf_server.refresh_token)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["refresh_token"] != drf_server.refresh_token
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(drf_server.url("/api/items/1/"), headers=headers, timeout=TIMEOUT).status_code == 200
    reused = refresh(drf_server, drf_server.refresh_token)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    second = refresh(drf_server, body["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] not in (body["refresh_token"], drf_server.refresh_token)


def test_revocation_and_expiry_make_the_api_answer_401(drf_server: DRFServer) -> None:
    url = drf_server.url("/api/cursor/items/")
    kept, revoked = client_token(drf_server)["access_token"], client_token(drf_server)["access_token"]
    resp = requests.post(
        drf_server.revoke_url,
        data={"token": revoked, "token_type_hint": "access_token"},
        auth=(drf_server.client_id, drf_server.client_secret),
        timeout=TIMEOUT,
    )
    assert resp.status_code == 200

    def status(token: str) -> int:
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT).status_code

    assert status(revoked) == 401
    challenge = requests.get(url, headers={"Authorization": f"Bearer {revoked}"}, timeout=TIMEOUT).headers
    assert 'error="invalid_token"' in challenge["WWW-Authenticate"]
    assert status(kept) == 200
    assert drf_server.expire_access_tokens() >= 1
    answer = requests.get(url, headers={"Authorization": f"Bearer {kept}"}, timeout=TIMEOUT)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    fresh = client_token(drf_server)["access_token"]
    assert status(fresh) == 200
    assert drf_server.revoke_access_tokens() >= 1
    assert status(fresh) == 401
    assert drf_server.revoke(drf_server.refresh_token)
    assert refresh(drf_server, drf_server.refresh_token).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "path",
    [
        "/limit-offset/items/",
        "/page-number/items/",
        "/cursor/items/",
        "/cursor-updated/items/",
        "/items/",
        "/items/1/",
        "/items/1/comments/",
    ],
)
def test_open_needs_no_token_and_api_does(drf_server: DRFServer, path: str) -> None:
    assert requests.get(drf_server.url("/open" + path), timeout=TIMEOUT).status_code == 200
    ignored = {"Authorization": "Bearer not-a-token"}
    assert requests.get(drf_server.url("/open" + path), headers=ignored, timeout=TIMEOUT).status_code == 200
    assert requests.get(drf_server.url("/api" + path), timeout=TIMEOUT).status_code == 401
    assert requests.get(drf_server.url("/api" + path), headers=ignored, timeout=TIMEOUT).status_code == 401


def test_request_log_records_what_was_served_and_no_secret(drf_server: DRFServer) -> None:
    requests.post(
        drf_server.token_url,
        data={"grant_type": "client_credentials"},
        auth=(drf_server.client_id, drf_server.client_secret),
        timeout=TIMEOUT,
    )
    requests.get(drf_server.url("/open/page-number/items/"), params={"page": 9}, timeout=TIMEOUT)
    log = drf_server.log
    assert [(r.method, r.path, r.status, r.auth_scheme) for r in log] == [
        ("POST", "/o/token/", 200, "Basic"),
        ("GET", "/open/page-number/items/", 404, None),
    ]
    assert log[1].query == "page=9"
    assert drf_server.client_secret not in repr(log)
    drf_server.reset_log()
    assert drf_server.count() == 0


def test_servers_one_after_another_keep_their_own_data() -> None:
    with DRFServer(items=7) as first:
        first_creds = (first.client_id, first.client_secret)
        first_token = client_token(first)["access_token"]
        first.add_items(2)
        assert len(requests.get(first.url("/open/items/"), timeout=TIMEOUT).json()) == 9
        with pytest.raises(RuntimeError, match="another DRFServer is running"):
            DRFServer().start()
    with DRFServer(items=3) as second:
        assert [r["id"] for r in requests.get(second.url("/open/items/"), timeout=TIMEOUT).json()] == [
            1,
            2,
            3,
        ]
        assert second.count() == 1  # the log is the server's own too
        stale = requests.post(
            second.token_url, data={"grant_type": "client_credentials"}, auth=first_creds, timeout=TIMEOUT
        )
        assert stale.status_code == 401
        old = {"Authorization": f"Bearer {first_token}"}
        assert requests.get(second.url("/api/items/"), headers=old, timeout=TIMEOUT).status_code == 401


def test_concurrent_requests_are_served_in_parallel_threads(drf_server: DRFServer) -> None:
    headers = bearer(drf_server)

    def page(n: int) -> list[int]:
        resp = requests.get(
            drf_server.url("/api/page-number/items/"),
            headers=headers,
            params={"page": n, "page_size": 15},
            timeout=TIMEOUT,
        )
        assert resp.status_code == 200, resp.text
        return [rec["id"] for rec in resp.json()["results"]]

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(page, range(1, 9)))
        tokens = list(pool.map(lambda _: client_token(drf_server)["access_token"], range(4)))
    assert [i for p in pages for i in p] == list(range(1, 121))
    assert len(set(tokens)) == 4


def test_update_items_default_is_now(drf_server: DRFServer) -> None:
    before = datetime.now(UTC)
    drf_server.update_items([4])
    updated = datetime.fromisoformat(drf_server.records()[3]["updated_at"])
    assert updated >= before - timedelta(seconds=1)
    assert updated.utcoffset() == timedelta(hours=5, minutes=30)

"""The forum API's access side, through plain `requests`: each `forum_auth` mode, the OAuth2
token endpoint, the redirect helper (two servers = two hosts), the request log and counters,
faults and latency, the control endpoint and `python -m sandbox --forum-auth`.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import FORUM_AUTH_MODES, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 5
#: The `forum_get` fixture (conftest.py): GET a path below the forum's base URL.
Get = Callable[..., requests.Response]


# --------------------------------------------------------------------- auth
def credentials_by_mode(srv: SandboxServer) -> dict[str, dict[str, Any]]:
    """requests kwargs carrying each mode's credential."""
    c = srv.credentials["forum"]
    token = requests.post(
        f"{srv.api_url('forum')}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": c["client_id"],
            "client_secret": c["client_secret"],
        },
        timeout=TIMEOUT,
    ).json()["access_token"]
    return {
        "none": {},
        "bearer": {"headers": {"Authorization": f"Bearer {c['token']}"}},
        "basic": {"auth": (c["username"], c["password"])},
        "api_key_header": {"headers": {"X-API-Key": c["api_key"]}},
        "api_key_query": {"params": {"api_key": c["api_key"]}},
        "api_key_cookie": {"cookies": {"session_key": c["api_key"]}},
        "oauth2": {"headers": {"Authorization": f"Bearer {token}"}},
    }


@pytest.mark.parametrize("mode", FORUM_AUTH_MODES)
def test_each_auth_mode_takes_its_credential_only(srv: SandboxServer, forum_get: Get, mode: str) -> None:
    by_mode = credentials_by_mode(srv)
    srv.configure(forum_auth=mode)
    assert forum_get("/users", **by_mode[mode]).status_code == 200
    if mode == "none":
        return
    for other, kwargs in by_mode.items():
        if other != mode:
            refused = forum_get("/users", **kwargs)
            assert (refused.status_code, refused.json()) == (401, {"error": "unauthorized"}), other
    wrong = {
        "bearer": {"headers": {"Authorization": "Bearer fr-live-forum-TOKEN-wrong"}},
        "basic": {"auth": (srv.credentials["forum"]["username"], "wrong")},
        "api_key_header": {"headers": {"X-API-Key": "wrong"}},
        "api_key_query": {"params": {"api_key": "wrong"}},
        "api_key_cookie": {"cookies": {"session_key": "wrong"}},
        "oauth2": {"headers": {"Authorization": "Bearer at-forum-ACCESS-0-wrong"}},
    }[mode]
    assert forum_get("/users", **wrong).status_code == 401
    assert forum_get("/nope", **by_mode[mode]).status_code == 404
    assert forum_get("/nope").status_code == 401


def test_basic_challenge_and_credentials_are_distinctive(srv: SandboxServer, forum_get: Get) -> None:
    srv.configure(forum_auth="basic")
    assert forum_get("/users").headers["WWW-Authenticate"] == 'Basic realm="forum"'
    c = srv.credentials["forum"]
    assert set(c) == {"token", "username", "password", "api_key", "client_id", "client_secret"}
    for key, marker in [
        ("token", "-TOKEN-"),
        ("password", "SECRET-"),
        ("api_key", "APIKEY-"),
        ("client_secret", "SECRET-"),
    ]:
        assert marker in c[key]
    with pytest.raises(ValueError):
        srv.configure(forum_auth="kerberos")


def test_oauth2_token_endpoint(srv: SandboxServer, forum_get: Get) -> None:
    srv.configure(forum_auth="oauth2")
    c = srv.credentials["forum"]
    url = f"{srv.api_url('forum')}/oauth/token"
    basic = requests.post(
        url,
        data={"grant_type": "client_credentials"},
        auth=(c["client_id"], c["client_secret"]),
        timeout=TIMEOUT,
    )
    assert basic.status_code == 200
    assert basic.json().keys() == {"access_token", "token_type", "expires_in"}
    assert basic.json()["token_type"] == "Bearer"
    headers = {"Authorization": f"Bearer {basic.json()['access_token']}"}
    assert forum_get("/offset/posts", headers=headers).status_code == 200
    bad = requests.post(
        url, data={"grant_type": "client_credentials", "client_id": c["client_id"]}, timeout=TIMEOUT
    )
    assert bad.status_code == 401
    srv.expire_tokens()
    assert forum_get("/offset/posts", headers=headers).status_code == 401
    assert srv.token_requests["forum"] == 2


def test_api_key_never_comes_back_in_links(srv: SandboxServer, forum_get: Get) -> None:
    srv.configure(forum_auth="api_key_query")
    key = srv.credentials["forum"]["api_key"]
    for style in ("json_link", "odata", "header_link", "json_link_relative"):
        resp = forum_get(f"/{style}/posts", params={"api_key": key, "page_size": 5})
        assert resp.status_code == 200
        assert key not in resp.text
        assert key not in str(resp.headers)


# ------------------------------------------------- redirects, log, faults
def test_redirect_helper_to_another_host(srv: SandboxServer, forum_get: Get) -> None:
    for status in (301, 302, 303, 307, 308):
        resp = forum_get(
            "/redirect",
            params={"to": "http://example.invalid/x", "status": status},
            allow_redirects=False,
        )
        assert (resp.status_code, resp.headers["Location"]) == (status, "http://example.invalid/x")
    assert forum_get("/redirect", params={"to": "/x", "status": 200}).status_code == 400
    assert forum_get("/redirect").status_code == 400
    srv.reset_log()
    srv.configure(forum_auth="bearer")
    token = srv.credentials["forum"]["token"]
    with SandboxServer(records=1) as other:
        target = f"http://localhost:{other.port}/forum/offset/posts?limit=3"
        resp = forum_get(
            "/redirect",
            params={"to": target, "status": 307},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert resp.status_code == 200
        assert [p["id"] for p in resp.json()["data"]] == [1, 2, 3]
        (hop,) = other.request_log
        assert hop["headers"]["Host"] == f"localhost:{other.port}"
        assert hop["query"] == {"limit": "3"}
        assert token not in json.dumps(hop)  # requests drops Authorization on a host change
    (first,) = srv.request_log
    assert first["status"] == 307
    assert first["resource"] == "forum/redirect"
    assert first["headers"]["Authorization"] == f"Bearer {token}"


def test_request_log_and_counters(srv: SandboxServer, forum_get: Get) -> None:
    srv.configure(forum_auth="api_key_header")
    forum_get("/offset/posts")  # refused: logged, not counted
    forum_get(
        "/posts/3/comments",
        params={"limit": 2},
        headers={"X-API-Key": srv.credentials["forum"]["api_key"]},
    )
    refused, ok = srv.request_log
    assert (refused["status"], refused["api"], refused["resource"]) == (401, "forum", None)
    assert ok["method"] == "GET"
    assert ok["path"] == "/forum/posts/3/comments"
    assert ok["query"] == {"limit": "2"}
    assert ok["status"] == 200
    assert ok["api"] == "forum"
    assert ok["resource"] == "forum/posts/{id}/comments"
    assert ok["headers"]["X-API-Key"] == srv.credentials["forum"]["api_key"]
    assert srv.data_request_count("forum/posts/{id}/comments") == 1
    assert srv.data_request_count("forum/offset/posts") == 0
    srv.reset_log()
    assert srv.request_log == []
    assert srv.data_request_count("forum/posts/{id}/comments") == 0


def test_faults_and_latency_apply(srv: SandboxServer, forum_get: Get) -> None:
    srv.inject("/forum/cursor/posts", [503, "truncated"])
    unavailable = forum_get("/cursor/posts")
    assert unavailable.status_code == 503
    assert unavailable.headers["Retry-After"] == "1"
    with pytest.raises(ValueError):
        forum_get("/cursor/posts").json()
    assert forum_get("/cursor/posts").status_code == 200
    assert forum_get("/offset/posts").status_code == 200  # other paths untouched
    assert [e["status"] for e in srv.request_log] == [503, 200, 200, 200]
    srv.configure(latency_ms=60)
    t0 = time.perf_counter()
    forum_get("/posts/1")
    assert time.perf_counter() - t0 >= 0.06


def test_control_endpoint_drives_the_forum(srv: SandboxServer) -> None:
    base = f"{srv.base_url}/_control"
    assert requests.get(f"{base}/credentials", timeout=TIMEOUT).json()["forum"] == srv.credentials["forum"]
    configure = requests.post(f"{base}/configure", json={"forum_auth": "basic"}, timeout=TIMEOUT)
    assert configure.status_code == 200
    assert srv.forum_auth == "basic"
    assert requests.post(f"{base}/configure", json={"forum_auth": "nope"}, timeout=TIMEOUT).status_code == 400
    mutated = requests.post(
        f"{base}/mutate",
        json={"resource": "forum/posts", "add": 1, "update": [2], "delete": [3]},
        timeout=TIMEOUT,
    ).json()
    assert mutated == {"added": [231], "updated": [2], "deleted": [3]}
    bad = requests.post(f"{base}/mutate", json={"resource": "helpdesk/tickets", "delete": 1}, timeout=TIMEOUT)
    assert bad.status_code == 400
    records = requests.post(f"{base}/records", json={"records": {"forum/posts": 20}}, timeout=TIMEOUT)
    assert records.status_code == 200
    stats = requests.get(f"{base}/stats", timeout=TIMEOUT).json()
    assert stats["forum"] == {"posts": 20, "users": 17, "deleted": 0}
    assert "forum/posts" not in stats["records"]  # the demo mutates every key listed there


def test_cli_serves_the_forum() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--records", "2",
         "--forum-auth", "basic", "--resource-records", "forum/posts=12"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        creds = json.loads(proc.stdout.readline())["forum"]
        url = f"{base}/forum/single/posts"
        assert requests.get(url, timeout=TIMEOUT).status_code == 401
        posts = requests.get(url, auth=(creds["username"], creds["password"]), timeout=TIMEOUT).json()
        assert [p["id"] for p in posts] == list(range(1, 13))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

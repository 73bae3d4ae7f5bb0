"""The bad-input scenarios of `test_bad_input.py`, and the normal syncs `test_secrets.py`
adds to them: each builds a config against servers it starts, and is run once per test
session through the real CLI (see `conftest.scenario_run`), so both test modules judge
the same runs.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import SandboxServer

from .helpers import (
    CliRun,
    TinyServer,
    json_body,
    offset_pages,
    run_cli_capture,
    sandbox_secrets,
    small_config,
)


def _distinct(kind: str) -> str:
    return hashlib.sha256(f"tap-analytics-hardening:{kind}".encode()).hexdigest()[:24]


#: Secrets of the tiny server's configs, in the sandbox's style (markers included).
QUERY_API_KEY = f"ak-query-APIKEY-{_distinct('query-key')}"
ECHO_CLIENT_SECRET = f"sk-echo-SECRET-{_distinct('client-secret')}"
WRONG_BEARER = f"tt-wrong-TOKEN-{_distinct('bearer')}"
WRONG_API_KEY = f"ak-wrong-APIKEY-{_distinct('api-key')}"
WRONG_CLIENT_SECRET = f"sk-wrong-SECRET-{_distinct('secret')}"

THINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": ["string"]},
        "name": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
    },
}


@dataclass
class Env:
    """The servers of one scenario (stopped after its run) and its extra secrets."""

    stack: contextlib.ExitStack
    sandboxes: list[SandboxServer] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def sandbox(self, **options: Any) -> SandboxServer:
        srv = SandboxServer(**{"records": 25, **options}).start()
        self.stack.callback(srv.stop)
        self.sandboxes.append(srv)
        return srv

    def tiny(self, **options: Any) -> TinyServer:
        server = TinyServer(**options).start()
        self.stack.callback(server.stop)
        return server


@dataclass(frozen=True)
class Scenario:
    id: str
    build: Callable[[Env], dict[str, Any]]
    #: Substrings the tap's one ERROR line must hold (the setting or the advice).
    expect: tuple[str, ...] = ()
    #: The stream the line must name ("stream NAME"), when the failure is a stream's.
    stream: str | None = None
    #: The HTTP status the line must give ("HTTP NNN").
    status: int | None = None
    #: Whether the line must give the request's URL (loopback, secrets masked).
    url: bool = False
    #: A normal sync: must succeed (only `test_secrets` runs these).
    succeeds: bool = False


@dataclass
class ScenarioRun:
    scenario: Scenario
    config: dict[str, Any]
    run: CliRun
    secrets: list[str]


def run_scenario(scenario: Scenario, workdir: Path, *args: str) -> ScenarioRun:
    with contextlib.ExitStack() as stack:
        env = Env(stack)
        config = scenario.build(env)
        run = run_cli_capture(workdir, config, *args)
        secrets = [*env.secrets, *_config_secrets(config)]
        for srv in env.sandboxes:
            secrets += sandbox_secrets(srv)
    return ScenarioRun(scenario, config, run, secrets)


def _config_secrets(config: dict[str, Any]) -> list[str]:
    auth = (config.get("client") or {}).get("auth") or {}
    return [str(auth[k]) for k in ("client_secret", "refresh_token", "token", "api_key") if auth.get(k)]


# ---------------------------------------------------------------------- builders
def _only(config: dict[str, Any], *names: str) -> dict[str, Any]:
    config["resources"] = [r for r in config["resources"] if r["name"] in names]
    return config


def seed_build(api: str, *names: str, records: int = 25, **options: Any) -> Callable[[Env], dict[str, Any]]:
    """A seed config, restricted to `names`, against a fresh sandbox."""

    def build(env: Env) -> dict[str, Any]:
        srv = env.sandbox(records=records, **options)
        config = small_config(srv, api)
        return _only(config, *names) if names else config

    return build


def _edit(
    build: Callable[[Env], dict[str, Any]], edit: Callable[[dict[str, Any], Env], None]
) -> Callable[[Env], dict[str, Any]]:
    def edited(env: Env) -> dict[str, Any]:
        config = build(env)
        edit(config, env)
        return config

    return edited


def _inject(path: str, faults: list[Any]) -> Callable[[dict[str, Any], Env], None]:
    def edit(config: dict[str, Any], env: Env) -> None:
        env.sandboxes[-1].inject(path, faults)

    return edit


def _set(path: str, value: Any) -> Callable[[dict[str, Any], Env], None]:
    """Set a dotted `path` of the config (numbers index lists); None deletes."""

    def edit(config: dict[str, Any], env: Env) -> None:
        *parents, last = path.split(".")
        node: Any = config
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key: Any = int(last) if last.isdigit() else last
        if value is None:
            del node[key]
        elif isinstance(node, list) and key == len(node):
            node.append(copy.deepcopy(value))
        else:
            node[key] = copy.deepcopy(value)

    return edit


def _both(*edits: Callable[[dict[str, Any], Env], None]) -> Callable[[dict[str, Any], Env], None]:
    def edit(config: dict[str, Any], env: Env) -> None:
        for one in edits:
            one(config, env)

    return edit


def _things(
    records: list[dict[str, Any]] | None = None,
    *,
    body: Any = None,
    incremental: bool = False,
    path: str = "/things",
) -> Callable[[Env], dict[str, Any]]:
    """A config-declared resource `things` on the tiny server, API key in the query."""

    def build(env: Env) -> dict[str, Any]:
        route = offset_pages(records or []) if body is None else (lambda _query: json_body(body))
        server = env.tiny(routes={"/things": route}, api_key=QUERY_API_KEY)
        env.secrets.append(QUERY_API_KEY)
        endpoint: dict[str, Any] = {
            "path": path, "data_selector": "data", "paginator": {"type": "offset", "limit": 10}
        }
        if incremental:
            endpoint["incremental"] = {"cursor_path": "updated_at"}
        return {
            "client": {
                "base_url": server.base_url,
                "auth": {"type": "api_key", "location": "query", "name": "api_key", "api_key": QUERY_API_KEY},
                "error_handler": {"backoff_factor": 0},
            },
            "resources": [
                {"name": "things", "endpoint": endpoint, "schema": THINGS_SCHEMA, "primary_key": "id"}
            ],
        }

    return build


def _echoing_token_endpoint(env: Env) -> dict[str, Any]:
    """An OAuth2 token endpoint that echoes the client secret in its error body."""

    def refuse(form: dict[str, str]) -> tuple[int, bytes, str]:
        secret = form.get("client_secret", "")
        return json_body(
            {
                "error": f"invalid_client {secret}",
                "error_description": f"wrong secret {secret}",
                "client_secret": secret,
            },
            401,
        )

    server = env.tiny(routes={}, post_routes={"/oauth/token": refuse})
    env.secrets.append(ECHO_CLIENT_SECRET)
    return {
        "client": {
            "base_url": server.base_url,
            "auth": {
                "type": "oauth2",
                "client_id": "client-echo",
                "client_secret": ECHO_CLIENT_SECRET,
                "token_url": f"{server.base_url}/oauth/token",
            },
        },
        "resources": [{"name": "things", "endpoint": {"path": "/things"}, "schema": THINGS_SCHEMA}],
    }


def _record(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": str(i), "name": f"thing {i}", "updated_at": f"2024-01-{i % 28 + 1:02d}T00:00:00Z", **fields}


def insecure_base(config: dict[str, Any], env: Env) -> None:
    # 0.0.0.0 reaches this host (so the run could work) but is not a loopback name.
    config["client"]["base_url"] = config["client"]["base_url"].replace("127.0.0.1", "0.0.0.0")


def _insecure_token_url(config: dict[str, Any], env: Env) -> None:
    auth = config["client"]["auth"]
    auth["token_url"] = auth["token_url"].replace("127.0.0.1", "0.0.0.0")


NOTHING_SCHEMA = {"type": "object", "properties": {"id": {"type": ["string"]}}}

BAD_INPUT: list[Scenario] = [
    # --- configuration: one line naming the setting, before any request
    Scenario(
        "missing-auth-setting",
        _edit(seed_build("devplatform"), _set("client.auth.client_secret", None)),
        ("client.auth.client_secret", "required"),
    ),
    Scenario(
        "invalid-auth-setting",
        _edit(seed_build("statuspage"), _set("client.auth.location", "body")),
        ("client.auth.location", "header", "query"),
    ),
    Scenario(
        "unknown-auth-type",
        _edit(seed_build("timetracking"), _set("client.auth.type", "digest")),
        ("client.auth.type", "digest", "bearer"),
    ),
    Scenario(
        "unknown-paginator-type",
        _edit(seed_build("timetracking"), _set("resources.1.endpoint.paginator", {"type": "cursr"})),
        ("paginator.type", "cursr", "offset"),
    ),
    Scenario(
        "base-url-without-scheme",
        _edit(seed_build("timetracking"), _set("client.base_url", "api.example.com/timetracking")),
        ("client.base_url", "https://"),
    ),
    Scenario(
        "insecure-http-base-url",
        _edit(seed_build("timetracking"), insecure_base),
        ("client.base_url", "allow_insecure_http"),
    ),
    Scenario(
        "insecure-http-token-url",
        _edit(seed_build("devplatform"), _insecure_token_url),
        ("client.auth.token_url", "allow_insecure_http"),
    ),
    Scenario(
        "unknown-top-level-key",
        _edit(seed_build("timetracking"), _set("max_concurent_requests", 4)),
        ("max_concurent_requests", "did you mean 'max_concurrent_requests'"),
    ),
    Scenario(
        "unknown-client-key",
        _edit(seed_build("statuspage"), _set("client.auht", {"type": "api_key"})),
        ("client.auht", "did you mean 'auth'"),
    ),
    Scenario(
        "refused-dlt-resource-key",
        _edit(seed_build("devplatform"), _set("resources.0.max_table_nesting", 0)),
        ("resources[0] (events).max_table_nesting", "flattening_max_depth"),
    ),
    Scenario(
        "unparseable-start-date",
        _edit(seed_build("timetracking"), _set("start_date", "last tuesday")),
        ("start_date", "ISO 8601"),
    ),
    # --- credentials: the line names the setting to check
    Scenario(
        "bearer-401",
        _edit(seed_build("timetracking", "users"), _set("client.auth.token", WRONG_BEARER)),
        ("client.auth.token",),
        stream="users",
        status=401,
        url=True,
    ),
    Scenario(
        "api-key-401",
        _edit(seed_build("statuspage", "subscribers"), _set("client.auth.api_key", WRONG_API_KEY)),
        ("client.auth.api_key",),
        stream="subscribers",
        status=401,
        url=True,
    ),
    Scenario(
        "oauth-token-401",
        _edit(
            seed_build("devplatform", "organizations"), _set("client.auth.client_secret", WRONG_CLIENT_SECRET)
        ),
        ("client.auth.client_secret", "token"),
        status=401,
        url=True,
    ),
    Scenario(
        "oauth-token-error-echoes-secret",
        _echoing_token_endpoint,
        ("client.auth.client_secret",),
        status=401,
        url=True,
    ),
    Scenario(
        "oauth-data-401",
        _edit(seed_build("devplatform", "organizations"), _inject("/v1/organizations", [401, 401])),
        ("client.auth.client_id",),
        stream="organizations",
        status=401,
        url=True,
    ),
    Scenario(
        "http-403",
        _edit(seed_build("devplatform", "events", "organizations"), _inject("/v1/organizations", [403])),
        ("client.auth",),
        stream="organizations",
        status=403,
        url=True,
    ),
    # --- the server answers, but not with data
    Scenario(
        "http-404",
        _edit(
            seed_build("timetracking", "clients"),
            _set(
                "resources.1",
                {
                    "name": "missing_things",
                    "endpoint": {
                        "path": "/v1/resource/nothing",
                        "paginator": {"type": "offset", "limit": 10},
                    },
                    "schema": NOTHING_SCHEMA,
                },
            ),
        ),
        ("endpoint.path",),
        stream="missing_things",
        status=404,
        url=True,
    ),
    Scenario(
        "http-503-after-retries",
        _edit(
            seed_build("timetracking", "clients", "users", retry_after="0"),
            _both(_set("client.error_handler.backoff_factor", 0), _inject("/v1/resource/users", [503] * 4)),
        ),
        ("max_retries",),
        stream="users",
        status=503,
        url=True,
    ),
    Scenario(
        "html-200",
        _edit(seed_build("timetracking", "clients", "users"), _inject("/v1/resource/users", ["html200"])),
        ("not valid JSON",),
        stream="users",
        status=200,
        url=True,
    ),
    Scenario(
        "truncated-json",
        _edit(seed_build("timetracking", "clients", "users"), _inject("/v1/resource/users", ["truncated"])),
        ("not valid JSON",),
        stream="users",
        status=200,
        url=True,
    ),
    Scenario(
        "data-missing",
        _edit(seed_build("timetracking", "clients", "users"), _inject("/v1/resource/users", ["no_data"])),
        ("data_selector",),
        stream="users",
        status=200,
        url=True,
    ),
    Scenario(
        "data-null",
        _edit(seed_build("timetracking", "clients", "users"), _inject("/v1/resource/users", ["null_data"])),
        ("data_selector",),
        stream="users",
        status=200,
        url=True,
    ),
    Scenario(
        "data-not-a-list",
        _things(body={"data": "one", "total": 1}),
        ("data_selector", "not a list"),
        stream="things",
        status=200,
        url=True,
    ),
    Scenario(
        "record-without-primary-key",
        _things([_record(1), {"name": "no id"}]),
        ("primary key", "'id'"),
        stream="things",
        url=True,
    ),
    Scenario(
        "replication-key-missing",
        _things([_record(1), {"id": "2", "name": "no cursor"}], incremental=True),
        ("replication key", "'updated_at'"),
        stream="things",
    ),
    Scenario(
        "replication-key-unparseable",
        _things([_record(1), _record(2, updated_at="soon")], incremental=True),
        ("'updated_at'", "soon"),
        stream="things",
    ),
    # --- paging that would never end, or flood memory
    Scenario(
        "endless-server",
        _edit(
            seed_build("timetracking", "clients", "users", endless=True, include_total=False),
            _set("max_pages_per_stream", 5),
        ),
        ("max_pages_per_stream",),
        stream="clients",
        url=True,
    ),
    Scenario(
        "server-repeats-pages",
        seed_build("timetracking", "users", ignore_paging=True, include_total=False),
        ("same page", "paginator"),
        stream="users",
        url=True,
    ),
    # The server ignores the page size parameter (a name it does not know) and answers
    # with its default of 100 records for a limit of 2.
    Scenario(
        "oversized-page-limit-ignored",
        _edit(
            seed_build("statuspage", "subscribers", records=150),
            _set("resources.0.endpoint.paginator", {"type": "offset", "limit": 2, "limit_param": "size"}),
        ),
        ("limit_param",),
        stream="subscribers",
        url=True,
    ),
    # The same with an absurd page: 2500 records for a page of 10.
    Scenario(
        "oversized-page-huge",
        _edit(
            seed_build("statuspage", "subscribers", records=2500),
            _both(
                _set(
                    "resources.0.endpoint.paginator", {"type": "offset", "limit": 10, "limit_param": "size"}
                ),
                _set("resources.0.endpoint.params", {"limit": 2500}),
            ),
        ),
        ("limit_param",),
        stream="subscribers",
        url=True,
    ),
    Scenario(
        "api-key-query-404",
        _things([_record(1)], path="/missing"),
        ("endpoint.path", "api_key=***"),
        stream="things",
        status=404,
        url=True,
    ),
]

#: Scenarios also run with --log-level=debug: a failure during the sync then shows its
#: traceback (a config error has none worth showing: it stays one line per problem).
DEBUG_IDS = ("unknown-paginator-type", "oauth-token-401", "http-404", "html-200", "api-key-query-404")


def _rotating_helpdesk(env: Env) -> dict[str, Any]:
    srv = env.sandbox(records=60, latency_ms=40, token_ttl=0.2)
    return small_config(srv, "helpdesk", max_concurrent_requests=1, token_cache_path="tokens.json")


NORMAL_SYNCS: list[Scenario] = [
    *(
        Scenario(f"sync-{api}", seed_build(api), succeeds=True)
        for api in ("devplatform", "generic", "helpdesk", "timetracking", "statuspage")
    ),
    Scenario("sync-helpdesk-rotating", _rotating_helpdesk, succeeds=True),
    Scenario("sync-api-key-in-query", _things([_record(i) for i in range(1, 26)]), succeeds=True),
]

BY_ID = {s.id: s for s in (*BAD_INPUT, *NORMAL_SYNCS)}

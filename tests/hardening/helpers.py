"""Helpers of the hardening suite: small seed configs, a killable CLI run, a tiny HTTP
server for responses the sandbox cannot produce, and the secrets to grep output for.

The sandbox runners, Singer parsing and the fake clock are the integration suite's
(`tests/integration/helpers.py`); only what that suite lacks lives here.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import queue
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox import SandboxServer
from sandbox.server import _secret
from tap_analytics.tap import TapAnalytics
from tests.integration.helpers import TAP_BIN, SyncResult, config_for, parse_messages
from tests.integration.seeds import STREAMS

#: Every seed configuration, by the sandbox API name.
SEED_APIS = tuple(STREAMS)

#: Statuses the seeds 000-003 retry, plus seed 004's 420: the fault test retries all of them.
FAULT_STATUSES = [429, 420, 500, 502, 503, 504]

#: Log lines: "date | LEVEL | logger | message".
ERROR_LINE = re.compile(r"\|\s*ERROR\s*\|")
TRACEBACK = "Traceback (most recent call last)"

#: Markers of the sandbox's distinctive secret strings (client secrets, refresh and access
#: tokens, the bearer token, the API key): none may ever reach stdout, stderr or STATE.
SECRET_MARKERS = re.compile(r"SECRET-|REFRESH-|ACCESS-|-TOKEN-|APIKEY-")

BASE_ENV = {"PATH": "/usr/bin:/bin", "NO_PROXY": "*", "no_proxy": "*"}


# ---------------------------------------------------------------------- configs
def small_config(
    srv: SandboxServer,
    api: str,
    *,
    limit: int = 10,
    error_handler: dict[str, Any] | None = None,
    **top_level: Any,
) -> dict[str, Any]:
    """The seed config of `api` against `srv`, every page `limit` records (so a small
    sandbox still takes several pages), optionally every endpoint's retry policy replaced."""
    config = config_for(srv, api, **top_level)
    for resource in config["resources"]:
        endpoint = resource["endpoint"]
        endpoint["paginator"] = {**endpoint["paginator"], "limit": limit}
        if error_handler is not None:
            endpoint["error_handler"] = copy.deepcopy(error_handler)
    return config


def page_size(config: dict[str, Any], stream: str) -> int:
    for resource in config["resources"]:
        if resource["name"] == stream:
            return int(resource["endpoint"]["paginator"]["limit"])
    raise KeyError(stream)


def ground_truth(srv: SandboxServer, api: str) -> dict[str, list[str]]:
    """stream -> the ids the sandbox holds, in serving order."""
    return {name: [str(r["id"]) for r in srv.records(key)] for name, key, _, _ in STREAMS[api]}


def record_ids(messages: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    """stream -> ids of its RECORD messages, in output order."""
    out: dict[str, list[str]] = {}
    for message in messages:
        if message.get("type") == "RECORD":
            out.setdefault(message["stream"], []).append(str(message["record"]["id"]))
    return out


def duplicates(ids: Iterable[str]) -> list[str]:
    return [i for i, n in Counter(ids).items() if n > 1]


def data_log(srv: SandboxServer) -> list[dict[str, Any]]:
    return [e for e in srv.request_log if e["resource"] is not None]


def page_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry["path"], tuple(sorted(entry["query"].items())))


def settle(srv: SandboxServer, timeout: float = 5.0) -> None:
    """Wait until every data request the sandbox received is in its log (a "slow" fault
    is logged only when its delayed answer is written, after the tap gave up on it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = sum(srv.stats()["data_requests"].values())
        if len(data_log(srv)) >= received:
            return
        time.sleep(0.05)


def sync_in_process(config: dict[str, Any], before_sync: Callable[[], None] = lambda: None) -> SyncResult:
    """`run_tap`, with `before_sync` called between discovery (seed 001 probes its first
    page to infer a schema) and the sync, so a test can arm faults for the sync alone."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap = TapAnalytics(config=copy.deepcopy(config), parse_env_config=False)
        _ = tap.streams
        before_sync()
        tap.sync_all()
    return SyncResult(parse_messages(out.getvalue()), tap=tap)


# ---------------------------------------------------------------------- secrets
def sandbox_secrets(srv: SandboxServer) -> list[str]:
    """Every secret the sandbox handed out so far: client secrets, the bearer token, the
    API key, every refresh token of helpdesk's rotation and every access token issued."""
    creds = srv.credentials
    values = [
        creds[api][k] for api in creds for k in ("client_secret", "token", "api_key") if k in creds[api]
    ]
    generations = srv._refresh_generation
    values += [srv.refresh_token_of(n) for n in range(1, generations + 1)]
    for serial in range(1, srv._token_serial + 1):
        for api in ("devplatform", "generic", "helpdesk"):
            values.append(f"at-{api}-ACCESS-{serial}-{_secret('access_token', api, serial)}")
    return values


def leaked(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets (or secret-looking sandbox markers) that occur in `text`."""
    found = [s for s in secrets if s and s in text]
    found += [m.group(0) for m in SECRET_MARKERS.finditer(text)]
    return found


# ---------------------------------------------------------------------- CLI runs
@dataclass
class CliRun:
    """What one CLI process wrote, and how it ended."""

    stdout_lines: list[str]
    stderr: str
    returncode: int
    killed: bool = False
    #: A last stdout line cut off by the kill (no newline): not a message.
    partial: str = ""

    @property
    def stdout(self) -> str:
        return "".join(self.stdout_lines)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return parse_messages(self.stdout)

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any] | None:
        states = self.states
        return states[-1] if states else None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if ERROR_LINE.search(line)]


class TapProcess:
    """The real console script in a subprocess whose stdout is read line by line, so a
    test can kill it after exactly K lines."""

    #: Every process started, so a failed test leaves none behind (`conftest`).
    started: list[TapProcess] = []

    def __init__(
        self,
        workdir: Path,
        config: dict[str, Any],
        *,
        state: dict[str, Any] | None = None,
        args: Iterable[str] = (),
        name: str = "run",
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config_file = workdir / "config.json"
        config_file.write_text(json.dumps(config))
        argv = [TAP_BIN, "--config", str(config_file), *args]
        if state is not None:
            state_file = workdir / f"{name}-state.json"
            state_file.write_text(json.dumps(state))
            argv += ["--state", str(state_file)]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env={**BASE_ENV, "HOME": str(workdir)},
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: list[bytes] = []
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.read: list[bytes] = []
        self.killed = False
        TapProcess.started.append(self)

    def _pump_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr.append(line)

    @property
    def stderr_so_far(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    def read_lines(self, count: int, timeout: float = 30.0) -> bool:
        """Read up to `count` more stdout lines; False when the output ended first."""
        deadline = time.monotonic() + timeout
        for _ in range(count):
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no output for {timeout} s; stderr: {self.stderr_so_far[-2000:]}"
                ) from None
            if line is None:
                self.lines.put(None)
                return False
            self.read.append(line)
        return True

    def wait_for_stderr(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.stderr_so_far):
                return True
            if self.proc.poll() is not None and predicate(self.stderr_so_far) is False:
                time.sleep(0.05)
                return predicate(self.stderr_so_far)
            time.sleep(0.005)
        return False

    def kill_if_running(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def send(self, signum: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            self.killed = signum == signal.SIGKILL

    def finish(self, timeout: float = 60.0) -> CliRun:
        """Wait for the process to end and collect everything it wrote."""
        try:
            returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the tap did not end within {timeout} s") from None
        for thread in self._threads:
            thread.join(timeout=10)
        while True:
            line = self.lines.get()
            if line is None:
                break
            self.read.append(line)
        text = [line.decode() for line in self.read]
        partial = ""
        if text and not text[-1].endswith("\n"):
            partial = text.pop()
        return CliRun(text, self.stderr_so_far, returncode, killed=self.killed, partial=partial)


def run_cli_capture(
    workdir: Path,
    config: dict[str, Any],
    *args: str,
    state: dict[str, Any] | None = None,
    timeout: float = 60,
) -> CliRun:
    """The CLI run to its end."""
    return TapProcess(workdir, config, state=state, args=args).finish(timeout)


# ---------------------------------------------------------------------- tiny server
Handler = Callable[[str, dict[str, str], dict[str, str]], tuple[int, bytes, str]]


def json_body(obj: Any, status: int = 200) -> tuple[int, bytes, str]:
    return status, json.dumps(obj).encode(), "application/json"


def offset_pages(
    records: list[dict[str, Any]], *, total: bool = True, ignore_limit: int | None = None
) -> Callable[[dict[str, str]], tuple[int, bytes, str]]:
    """offset/limit paging over `records`; `ignore_limit`: always serve that many."""

    def serve(query: dict[str, str]) -> tuple[int, bytes, str]:
        offset = int(query.get("offset", 0))
        limit = ignore_limit or int(query.get("limit", 10))
        body: dict[str, Any] = {"data": records[offset : offset + limit]}
        if total:
            body["total"] = len(records)
        return json_body(body)

    return serve


@dataclass
class TinyServer:
    """A loopback HTTP server answering each path with a canned or computed response.

    `routes` maps a GET path to a function of the query, `post_routes` a POST path to a
    function of the form body. With `api_key` set, a GET must carry it as the query
    parameter `api_key_param`, else 401: an API key in the query is not something the
    sandbox accepts."""

    routes: dict[str, Callable[[dict[str, str]], tuple[int, bytes, str]]] = field(default_factory=dict)
    post_routes: dict[str, Callable[[dict[str, str]], tuple[int, bytes, str]]] = field(default_factory=dict)
    api_key: str | None = None
    api_key_param: str = "api_key"
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        app = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                app.requests.append(self.path)
                route = app.routes.get(parts.path)
                if app.api_key is not None and query.get(app.api_key_param) != app.api_key:
                    self._answer(*json_body({"error": "unauthorized"}, 401))
                elif route is None:
                    self._answer(*json_body({"error": "not_found"}, 404))
                else:
                    self._answer(*route(query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                app.requests.append(self.path)
                route = app.post_routes.get(urlsplit(self.path).path)
                self._answer(*(route(form) if route else json_body({"error": "not_found"}, 404)))

            def _answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> TinyServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> TinyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

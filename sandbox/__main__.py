"""``python -m sandbox``: serve the fake APIs until SIGTERM/SIGINT (used by the demo)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .data import RESOURCE_KEYS
from .forum_data import COUNT_KEYS
from .server import DEFAULT_FAIL_STATUSES, DEFAULT_RECORDS, FORUM_AUTH_MODES, SandboxServer, _check_fault

#: Keys --resource-records accepts: the seed resources and the forum's counts.
COUNTED_KEYS = (*RESOURCE_KEYS, *COUNT_KEYS)


def _fault(value: str) -> int | str:
    return _check_fault(int(value) if value.strip().isdigit() else value.strip())


def _resource_count(value: str) -> tuple[str, int]:
    key, sep, count = value.partition("=")
    if not sep or key not in COUNTED_KEYS:
        raise argparse.ArgumentTypeError(f"expected KEY=N with KEY one of {', '.join(COUNTED_KEYS)}")
    return key, int(count)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sandbox", description="Local fake analytics APIs (127.0.0.1 only)."
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (0 = any free port)")
    p.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="records per resource")
    p.add_argument(
        "--resource-records",
        type=_resource_count,
        action="append",
        default=[],
        metavar="KEY=N",
        help="record count for one resource, e.g. helpdesk/tickets=5000 or forum/posts=40 (repeatable;"
        " the forum keeps its own defaults, 230 posts and 17 users, unless named)",
    )
    p.add_argument("--no-total", action="store_true", help="omit the 'total' key from page responses")
    p.add_argument("--max-page-size", type=int, default=None, help="cap on records per page")
    p.add_argument("--ignore-paging", action="store_true", help="always serve the first page (broken server)")
    p.add_argument("--endless", action="store_true", help="never serve an empty page (broken server)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="delay per data request")
    p.add_argument("--token-ttl", type=float, default=3600.0, help="OAuth access token lifetime, seconds")
    p.add_argument("--fail-rate", type=float, default=0.0, help="share of data requests that fail (0..1)")
    p.add_argument(
        "--fail-statuses",
        default=",".join(map(str, DEFAULT_FAIL_STATUSES)),
        help="comma-separated statuses/kinds random failures pick from (e.g. 429,503,drop,slow)",
    )
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the random fault sequence")
    p.add_argument("--retry-after", default="1", help="Retry-After seconds on 429/420/503")
    p.add_argument("--retry-after-date", action="store_true", help="send Retry-After as an HTTP-date")
    p.add_argument("--slow-seconds", type=float, default=2.0, help="delay of the 'slow' fault")
    p.add_argument(
        "--start-param", default="updated_since", help="query parameter carrying the incremental start"
    )
    p.add_argument("--api-key-header", default="api_key", help="header carrying statuspage's API key")
    p.add_argument("--no-log", action="store_true", help="keep no per-request log (long benchmarks)")
    p.add_argument("--client-auth", choices=("any", "basic", "body"), default="any",
                   help="client authentication the token endpoint accepts (basic: RFC 6749's minimum)")
    p.add_argument("--forum-auth", choices=FORUM_AUTH_MODES, default="none",
                   help="credential the forum API's data endpoints require")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    records: int | dict[str, int] = args.records
    if args.resource_records:
        records = dict.fromkeys(RESOURCE_KEYS, args.records) | dict(args.resource_records)
    server = SandboxServer(
        port=args.port,
        records=records,
        include_total=not args.no_total,
        max_page_size=args.max_page_size,
        ignore_paging=args.ignore_paging,
        endless=args.endless,
        latency_ms=args.latency_ms,
        token_ttl=args.token_ttl,
        fail_rate=args.fail_rate,
        fail_statuses=[_fault(f) for f in args.fail_statuses.split(",") if f.strip()],
        fault_seed=args.fault_seed,
        retry_after=args.retry_after,
        retry_after_date=args.retry_after_date,
        slow_seconds=args.slow_seconds,
        start_param=args.start_param,
        api_key_header=args.api_key_header,
        log_requests=not args.no_log,
        client_auth=args.client_auth,
        forum_auth=args.forum_auth,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    server.start()
    try:
        print(f"sandbox listening on {server.base_url}", flush=True)
        print(json.dumps(server.credentials), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

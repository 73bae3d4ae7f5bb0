"""Run an embedded PostgreSQL (from the `pgserver` wheel) until SIGTERM/SIGINT.

Why a separate process: the demo (bash) and the e2e tests (pytest) both need a real PostgreSQL that
outlives a single Python call and stops cleanly; pgserver ties a server's life to the Python process
that opened it, so this script *is* that process. It writes a SQLAlchemy URL for target-postgres
(`postgresql+psycopg://postgres@/postgres?host=<socket dir>`; pgserver listens on a Unix socket only)
to --url-file once the server accepts connections.

    python scripts/embedded_postgres.py --data .demo/pgdata --url-file .demo/pg.url
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from urllib.parse import parse_qs, urlsplit


def sqlalchemy_url(libpq_uri: str) -> str:
    """Turn pgserver's libpq URI into the psycopg3 SQLAlchemy URL target-postgres expects."""
    parts = urlsplit(libpq_uri)
    host = parse_qs(parts.query).get("host", [""])[0]
    database = parts.path.lstrip("/") or "postgres"
    user = parts.username or "postgres"
    return f"postgresql+psycopg://{user}@/{database}?host={host}"


def main(argv: list[str] | None = None) -> int:
    """Start the server, publish its URL, block until told to stop, then stop it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="PGDATA directory (created)")
    parser.add_argument("--url-file", required=True, type=Path, help="where to write the URL")
    parser.add_argument("--delete", action="store_true", help="delete the data directory when stopping")
    args = parser.parse_args(argv)

    try:
        import pgserver  # noqa: PLC0415 - optional dependency, imported late for a clear error
    except ImportError:
        print("pgserver is not installed: run scripts/setup.sh (or pip install pgserver)", file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.WARNING)
    args.data.mkdir(parents=True, exist_ok=True)
    cleanup_mode = "delete" if args.delete else "stop"
    server = pgserver.get_server(args.data.resolve(), cleanup_mode=cleanup_mode)  # type: ignore[attr-defined]
    url = sqlalchemy_url(server.get_uri())
    args.url_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.url_file.with_suffix(".tmp")
    tmp.write_text(url + "\n", encoding="utf-8")
    tmp.replace(args.url_file)  # atomic: readers never see half a URL
    print(url, flush=True)

    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    stop.wait()
    server.cleanup()
    args.url_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

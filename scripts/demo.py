"""The demo: every seed API -> Meltano -> an embedded PostgreSQL, then an incremental second run.

Run through `make demo` (or `bash scripts/demo.sh`), which first builds the environments. Starts the
sandbox API (`python -m sandbox`) and an embedded PostgreSQL (pgserver) as child processes, loads each
`tap-analytics-<api>` with `meltano run ... target-postgres-embedded`, changes data through the
sandbox's control endpoint, runs again, and shows per table what moved. Both servers are stopped on
exit, Ctrl-C included. Everything it writes lives in .demo/ (logs, Meltano state, PostgreSQL data).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from meltano_pipeline import (
    APIS,
    ROOT,
    extractor,
    extractor_env,
    format_table,
    libpq_url,
    meltano_env,
    meltano_run,
    table_stats,
)

DEMO_DIR = ROOT / ".demo"
LOADER = "target-postgres-embedded"
PYTHON = sys.executable


def say(text: str = "") -> None:
    print(text, flush=True)


def http_json(url: str, payload: dict[str, Any] | None = None) -> Any:
    """GET (or POST JSON to) a sandbox control endpoint."""
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback sandbox
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


class Servers:
    """The sandbox API and the embedded PostgreSQL, as child processes stopped on any exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.sandbox_url = ""
        self.pg_url = ""

    def start_sandbox(self, records: int) -> None:
        proc = subprocess.Popen(  # noqa: S603 - our own scripts, fixed arguments
            [PYTHON, "-m", "sandbox", "--port", "0", "--records", str(records)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()  # "sandbox listening on http://127.0.0.1:PORT"
        if not first.startswith("sandbox listening on "):
            raise RuntimeError(f"sandbox did not start: {first!r}")
        self.sandbox_url = first.rsplit(" ", 1)[1]
        proc.stdout.readline()  # the credentials JSON; fetched fresh per run instead

    def start_postgres(self, data_dir: Path, url_file: Path) -> None:
        shutil.rmtree(data_dir, ignore_errors=True)
        url_file.unlink(missing_ok=True)
        log = (DEMO_DIR / "logs" / "postgres.log").open("w")
        proc = subprocess.Popen(  # noqa: S603 - our own scripts, fixed arguments
            [PYTHON, str(ROOT / "scripts" / "embedded_postgres.py"), "--data", str(data_dir),
             "--url-file", str(url_file)],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + 120
        while not url_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"embedded PostgreSQL did not start; see {log.name}")
            time.sleep(0.2)
        self.pg_url = url_file.read_text(encoding="utf-8").strip()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


def catalog_streams(api: str) -> dict[str, str | None]:
    """stream -> replication key (None: full table), from the committed catalog."""
    catalog = json.loads((ROOT / "catalog" / f"{api}.json").read_text(encoding="utf-8"))
    return {s["tap_stream_id"]: s.get("replication_key") for s in catalog["streams"]}


def batch_env(api: str, root: Path) -> dict[str, str]:
    """The env var that turns on BATCH messages for `tap-analytics-<api>`: jsonl.gz files in `root`."""
    config = {"encoding": {"format": "jsonl", "compression": "gzip"},
              "storage": {"root": root.as_uri(), "prefix": f"{api}-"}}
    return {f"TAP_ANALYTICS_{api.upper()}_BATCH_CONFIG": json.dumps(config)}


def run_all(
    servers: Servers, creds: dict[str, dict[str, str]], system_db: Path, label: str,
    batches: Path | None = None,
) -> dict[str, dict[str, int]]:
    """One `meltano run` per seed API; returns api -> stream -> records the tap emitted.

    `creds` are the credentials as first handed out, for both runs, as a user would configure them:
    helpdesk's refresh token rotates, and its second run uses the one the tap kept in its token cache.
    """
    emitted: dict[str, dict[str, int]] = {}
    for api in APIS:
        env = meltano_env(
            system_db=system_db,
            extra={
                "EMBEDDED_POSTGRES_URL": servers.pg_url,
                **extractor_env(api, f"{servers.sandbox_url}/{api}", creds[api]),
                **(batch_env(api, batches) if batches is not None else {}),
            },
        )
        log_file = DEMO_DIR / "logs" / f"{label}-{api}.log"
        result = meltano_run(extractor(api), LOADER, env, log_file=log_file)
        if result.returncode != 0:
            tail = result.tail(25)
            raise RuntimeError(f"meltano run {extractor(api)} {LOADER} failed ({log_file}):\n{tail}")
        emitted[api] = result.emitted
        total = sum(result.emitted.values())
        say(
            f"  meltano run {extractor(api):<27} {LOADER}   ok  "
            f"{len(result.emitted)} streams, {total:>4} records sent, {result.seconds:4.1f} s"
        )
    return emitted


def snapshot(pg_url: str) -> dict[str, tuple[int, int]]:
    """'schema.table' -> (rows, distinct ids) over every seed API's schema."""
    with psycopg.connect(libpq_url(pg_url)) as conn:
        return {f"{api}.{table}": stats for api in APIS for table, stats in table_stats(conn, api).items()}


def at_bookmark(pg_url: str, table: str, cursor: str) -> list[str]:
    """The ids of the rows whose replication value is the table's latest: the bookmark run 1 left.
    Bookmarks are inclusive (a row changed within the bookmark's instant is never lost), so run 2
    sends these again, and target-postgres merges them."""
    schema, name = table.split(".")
    with psycopg.connect(libpq_url(pg_url)) as conn:
        found = conn.execute(
            f'select id from "{schema}"."{name}" where "{cursor}" = '  # noqa: S608
            f'(select max("{cursor}") from "{schema}"."{name}")',
        ).fetchall()
    return [str(row[0]) for row in found]


def row_contents(pg_url: str, table: str, ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """id -> the row's values (the `_sdc_*` columns left out) of the rows with those ids. Compared
    before and after run 2, it shows which updated records were merged into their rows, in RECORD
    and in BATCH mode alike (target-postgres writes no `_sdc_*` metadata for a BATCH file's rows)."""
    schema, name = table.split(".")
    with psycopg.connect(libpq_url(pg_url)) as conn:
        cursor = conn.execute(f'select * from "{schema}"."{name}" where id = any(%s)', (ids,))  # noqa: S608
        columns = [c.name for c in cursor.description or []]
        keep = [i for i, c in enumerate(columns) if not c.startswith("_sdc_")]
        return {str(row[columns.index("id")]): tuple(row[i] for i in keep) for row in cursor.fetchall()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=120, help="records per resource (120)")
    parser.add_argument("--add", type=int, default=5, help="new records per resource before run 2")
    parser.add_argument("--update", type=int, default=3, help="changed records per resource")
    parser.add_argument("--batch", action="store_true",
                        help="the tap sends BATCH messages (jsonl.gz files in .demo/batches), not RECORDs")
    args = parser.parse_args(argv)
    batches = DEMO_DIR / "batches" if args.batch else None
    if batches is not None:
        shutil.rmtree(batches, ignore_errors=True)  # target-postgres leaves loaded files behind
        batches.mkdir(parents=True)

    (DEMO_DIR / "logs").mkdir(parents=True, exist_ok=True)
    system_db = DEMO_DIR / "meltano.db"
    system_db.unlink(missing_ok=True)  # fresh state: run 1 is always a full load
    servers = Servers()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    try:
        servers.start_sandbox(args.records)
        servers.start_postgres(DEMO_DIR / "pgdata", DEMO_DIR / "pg.url")
        say("tap-analytics demo: 5 seed APIs -> Meltano -> PostgreSQL")
        say(f"  sandbox API   {servers.sandbox_url}/<api>  ({args.records} records per resource)")
        say(f"  PostgreSQL    embedded (pgserver), data in {DEMO_DIR.relative_to(ROOT)}/pgdata")
        say(f"  Meltano       state in {system_db.relative_to(ROOT)}, logs in .demo/logs/")
        if batches is not None:
            say(f"  messages      BATCH: jsonl.gz files in {batches.relative_to(ROOT)}/, read by the target")
        say()
        creds = http_json(f"{servers.sandbox_url}/_control/credentials")
        say("Run 1: full load")
        run_all(servers, creds, system_db, "run1", batches)
        before = snapshot(servers.pg_url)
        api_counts = http_json(f"{servers.sandbox_url}/_control/stats")["records"]
        say()
        say(format_table(
            ["table", "rows", "records in API", "duplicate ids"],
            [[t, rows, api_counts[t.replace(".", "/")], rows - distinct]
             for t, (rows, distinct) in before.items()],
        ))  # fmt: skip

        bookmarked = {
            table: at_bookmark(servers.pg_url, table, cursor)
            for table in before
            if (cursor := catalog_streams(table.split(".")[0]).get(table.split(".")[1]))
        }
        say()
        say(f"Changing the sandbox's data: +{args.add} new and {args.update} updated records per resource")
        changes: dict[str, dict[str, list[str]]] = {}
        for key in api_counts:
            changes[key.replace("/", ".")] = http_json(
                f"{servers.sandbox_url}/_control/mutate",
                {"resource": key, "add": args.add, "update": args.update},
            )
        updated_before = {t: row_contents(servers.pg_url, t, c["updated"]) for t, c in changes.items()}
        say()
        say("Run 2: incremental (same Meltano state)")
        emitted = run_all(servers, creds, system_db, "run2", batches)
        after = snapshot(servers.pg_url)

        rows: list[list[Any]] = []
        problems: list[str] = []
        for table, (rows_after, distinct) in after.items():
            api, stream = table.split(".")
            mode = "incremental" if catalog_streams(api).get(stream) else "full table"
            change = changes[table]
            sent = emitted[api].get(stream, 0)
            updated_after = row_contents(servers.pg_url, table, change["updated"])
            updated_in_place = sum(
                1 for i in change["updated"]
                if i in updated_after and updated_after[i] != updated_before[table].get(i)
            )
            again = [i for i in bookmarked.get(table, []) if i not in change["updated"]]
            rows.append([table, mode, before[table][0], rows_after, len(change["added"]),
                         len(change["updated"]), len(again) if mode == "incremental" else "-", sent,
                         f"{updated_in_place}/{len(change['updated'])}", rows_after - distinct])  # fmt: skip
            if rows_after != before[table][0] + len(change["added"]) or rows_after != distinct:
                problems.append(f"{table}: {rows_after} rows, {distinct} distinct ids")
            if mode == "incremental" and sent != len(change["added"]) + len(change["updated"]) + len(again):
                problems.append(f"{table}: incremental stream sent {sent} records")
            if updated_in_place != len(change["updated"]):
                problems.append(f"{table}: only {updated_in_place} updated rows rewritten")
        say()
        say(format_table(
            ["table", "mode", "rows before", "rows after", "added", "updated", "at bookmark",
             "sent by tap", "updated rows merged", "duplicate ids"],
            rows,
        ))  # fmt: skip
        say()
        say("Incremental streams sent only the new and changed records, plus the records at their bookmark")
        say("(bookmarks are inclusive, kept in Meltano's state); full-table streams re-sent everything.")
        say("target-postgres merged on `id` either way: new rows were inserted, updated rows rewritten in")
        say("place, no id appears twice.")
        if problems:
            say("\nUNEXPECTED:\n  " + "\n  ".join(problems))
            return 1
        return 0
    except (RuntimeError, OSError) as exc:
        say(f"\ndemo failed: {exc}")
        return 1
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())

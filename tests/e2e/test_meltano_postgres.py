"""`meltano run tap-analytics-<api> target-postgres` into a real PostgreSQL, twice, for every seed API.

Run 1 must load exactly the sandbox's records with sensible column types. Then the sandbox adds and
updates records; run 2, resuming from the state Meltano kept, must insert the new rows, rewrite the
updated ones in place and, for incremental streams, send nothing else.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox import SandboxServer
from tap_analytics.instants import cursor_order

from .helpers import APIS, Stream, expected_sql_types, mp, project, streams_of

ADD, UPDATE = 7, 5
LOADER = "target-postgres"


def run(
    api: str,
    sandbox: SandboxServer,
    credentials: dict[str, str],
    postgres_url: str,
    schema: str,
    tmp: Path,
    log: str,
) -> mp.RunResult:
    """One `meltano run` with the credentials as first configured: helpdesk's refresh token rotates,
    so its second run relies on the tap's token cache (kept under .meltano/ between runs)."""
    env = mp.meltano_env(
        system_db=tmp / "meltano.db",  # Meltano's state for this test only
        extra={
            **mp.extractor_env(api, sandbox.api_url(api), credentials),
            "TARGET_POSTGRES_SQLALCHEMY_URL": postgres_url,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        },
    )
    return mp.meltano_run(mp.extractor(api), LOADER, env, log_file=tmp / log).check()


def rows_by_id(pg: Any, schema: str, stream: Stream) -> dict[str, dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in stream.properties)
    cur = pg.execute(f'select {cols} from "{schema}"."{stream.name}"')
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return {row["id"]: row for row in rows}


def assert_table_matches_api(pg: Any, schema: str, stream: Stream, sandbox: SandboxServer) -> None:
    """Every served record is a row, once, with the served values (schema fields only)."""
    total, distinct = pg.execute(
        f'select count(*), count(distinct id) from "{schema}"."{stream.name}"'
    ).fetchone()
    served = sandbox.records(stream.resource_key)
    assert total == len(served), f"{stream.name}: {total} rows, the API serves {len(served)}"
    assert distinct == total, f"{stream.name}: duplicate ids ({total} rows, {distinct} distinct)"
    rows = rows_by_id(pg, schema, stream)
    diffs = [
        {k: (v, stored.get(k)) for k, v in expected.items() if stored.get(k) != v} | {"id": rec["id"]}
        for rec in served
        if (stored := project(rows.get(rec["id"], {}), stream)) != (expected := project(rec, stream))
    ]
    assert not diffs, f"{stream.name}: {len(diffs)} rows differ, (API, PostgreSQL): {diffs[:3]}"


def assert_column_types(pg: Any, schema: str, stream: Stream) -> None:
    actual = dict(
        pg.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s",
            (schema, stream.name),
        ).fetchall()
    )
    wrong = {
        name: actual.get(name)
        for name, prop in stream.properties.items()
        if actual.get(name) not in expected_sql_types(prop)
    }
    assert not wrong, f"{stream.name}: unexpected column types {wrong}"
    pk = pg.execute(
        "select a.attname from pg_index i join pg_attribute a "
        "on a.attrelid = i.indrelid and a.attnum = any(i.indkey) "
        "where i.indrelid = %s::regclass and i.indisprimary",
        (f'"{schema}"."{stream.name}"',),
    ).fetchall()
    assert [r[0] for r in pk] == ["id"], f"{stream.name}: primary key {pk}"


def meltano_state(api: str, system_db: Path) -> dict[str, Any]:
    env = mp.meltano_env(system_db=system_db)
    state_id = f"dev:{mp.extractor(api)}-to-{LOADER}"
    out = subprocess.run(
        [str(mp.MELTANO), "state", "get", state_id],
        cwd=mp.ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    state: dict[str, Any] = json.loads(out.stdout)
    return state


def assert_bookmarks(api: str, system_db: Path, sandbox: SandboxServer) -> None:
    """Meltano kept a bookmark per incremental stream: the newest cursor the API served."""
    bookmarks = meltano_state(api, system_db)["singer_state"]["bookmarks"]
    for stream in streams_of(api):
        if stream.replication_key is None:
            continue
        newest = max(r[stream.replication_key] for r in sandbox.records(stream.resource_key))
        kept = bookmarks[stream.name]["replication_key_value"]
        assert mp_ts(kept) == mp_ts(newest), f"{stream.name}: bookmark {kept}, newest record {newest}"


def mp_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("api", APIS)
def test_meltano_run_full_then_incremental(
    api: str,
    meltano_ready: Path,
    sandbox: SandboxServer,
    postgres_url: str,
    pg: Any,
    schema: str,
    tmp_path: Path,
) -> None:
    system_db = tmp_path / "meltano.db"
    streams = streams_of(api)
    credentials = sandbox.credentials[api]  # configured once, like a user's env vars

    first = run(api, sandbox, credentials, postgres_url, schema, tmp_path, "run1.log")
    for stream in streams:
        assert first.emitted.get(stream.name) == len(sandbox.records(stream.resource_key)), first.emitted
        assert_table_matches_api(pg, schema, stream, sandbox)
        assert_column_types(pg, schema, stream)
    assert_bookmarks(api, system_db, sandbox)

    newest = {
        s.name: max(cursor_order(r[s.replication_key]) for r in sandbox.records(s.resource_key))
        for s in streams
        if s.replication_key
    }
    changes = {s.name: sandbox.mutate(s.resource_key, add=ADD, update=UPDATE) for s in streams}
    run2_started = datetime.now(UTC).replace(tzinfo=None)  # _sdc_* columns hold naive UTC
    second = run(api, sandbox, credentials, postgres_url, schema, tmp_path, "run2.log")

    for stream in streams:
        added, updated = changes[stream.name]["added"], changes[stream.name]["updated"]
        assert (len(added), len(updated)) == (ADD, UPDATE)
        assert_table_matches_api(pg, schema, stream, sandbox)  # new rows in, updated rows in place
        rewritten = {
            r[0]
            for r in pg.execute(
                f'select id from "{schema}"."{stream.name}" where _sdc_extracted_at >= %s', (run2_started,)
            )
        }
        sent = second.emitted.get(stream.name)
        if stream.replication_key:
            # Inclusive bookmarks: the records still at the first run's newest value come again.
            at_bookmark = {
                str(r["id"]) for r in sandbox.records(stream.resource_key)
                if cursor_order(r[stream.replication_key]) == newest[stream.name]
            }
            expected = set(added) | set(updated) | at_bookmark
            assert sent == len(expected), f"{stream.name}: incremental run 2 sent {sent} records"
            assert rewritten == expected, f"{stream.name}: untouched rows were re-sent"
        else:  # full table: everything again, merged on the key
            assert sent == len(sandbox.records(stream.resource_key)), f"{stream.name}: sent {sent}"
            assert rewritten >= set(added) | set(updated)
    assert_bookmarks(api, system_db, sandbox)

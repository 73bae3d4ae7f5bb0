"""dlt's own pipeline on the tap's config: ``rest_api_source`` -> dlt's postgres destination.

Run as a child process by ``pipeline.py`` (the reference the speed issue compares the tap's pipeline
with). The config is the one Meltano hands the tap (``meltano invoke --dump=config``), so both read
the same resource with the same paging; only what is the tap's own is translated or left out: its
``oauth2`` auth becomes dlt's ``oauth2_client_credentials``, its ``error_handler`` and run settings
(``max_concurrent_requests`` ...) are dropped, dlt's client keeps its own retry defaults. Prints one
JSON line: the seconds of dlt's extract, normalize and load steps.

    python benchmarks/dlt_pipeline.py --config tap.json --resource events \\
        --postgres 'postgresql://postgres@/postgres?host=/tmp/pg' --dataset bench_dlt --pipelines-dir /tmp/d
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Keys of the tap's config that dlt's rest_api language has too (the rest are the tap's own).
CLIENT_KEYS = ("base_url", "headers", "auth", "paginator")
ENDPOINT_KEYS = ("path", "method", "params", "json", "data_selector", "paginator")


def dlt_auth(auth: dict[str, Any]) -> dict[str, Any]:
    """The tap's auth block in dlt's words (bearer and api_key are spelt alike)."""
    kind = auth.get("type")
    if kind == "oauth2":
        if auth.get("refresh_token"):
            raise SystemExit("dlt_pipeline: dlt's rest_api has no refresh-token grant (helpdesk)")
        return {"type": "oauth2_client_credentials",
                "access_token_url": auth.get("token_url") or auth.get("token_refresh_endpoint"),
                "client_id": auth["client_id"], "client_secret": auth["client_secret"]}
    return dict(auth)


def dlt_config(tap_config: dict[str, Any], resource: str) -> dict[str, Any]:
    """dlt's ``rest_api_source`` config reading `resource` exactly as the tap's config does."""
    client = {k: v for k, v in tap_config["client"].items() if k in CLIENT_KEYS}
    if "auth" in client:
        client["auth"] = dlt_auth(client["auth"])
    defaults = dict(tap_config.get("resource_defaults") or {})
    endpoint_defaults = {k: v for k, v in (defaults.pop("endpoint", None) or {}).items()
                         if k in ENDPOINT_KEYS}
    if endpoint_defaults:
        defaults["endpoint"] = endpoint_defaults
    chosen = [r for r in tap_config["resources"] if (r if isinstance(r, str) else r["name"]) == resource]
    if len(chosen) != 1 or isinstance(chosen[0], str):
        raise SystemExit(f"dlt_pipeline: no resource object named {resource!r} in the config")
    spec = {k: v for k, v in chosen[0].items() if k != "schema"}  # dlt infers its own schema
    spec["endpoint"] = {k: v for k, v in spec["endpoint"].items() if k in ENDPOINT_KEYS}
    return {"client": client, "resource_defaults": defaults, "resources": [spec]}


def dlt_credentials(libpq_url: str) -> str:
    """dlt's postgres credentials insist on a host and a password: a Unix-socket URL gets
    ``localhost`` (libpq's ``?host=`` still picks the socket) and a password trust auth ignores."""
    parts = urlsplit(libpq_url)
    if parts.hostname and parts.password:
        return libpq_url
    user = parts.username or "postgres"
    return urlunsplit((parts.scheme, f"{user}:unused@localhost", parts.path, parts.query, ""))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, required=True, help="the tap's config (JSON)")
    p.add_argument("--resource", required=True, help="the resource to load")
    p.add_argument("--postgres", required=True, help="libpq URL of the PostgreSQL to load into")
    p.add_argument("--dataset", required=True, help="schema to load into")
    p.add_argument("--pipelines-dir", type=Path, required=True, help="dlt's working directory")
    args = p.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

    import dlt  # noqa: PLC0415 - after the telemetry switch; dlt is a benchmark dependency only
    from dlt.sources.rest_api import rest_api_source  # noqa: PLC0415

    config = dlt_config(json.loads(args.config.read_text()), args.resource)
    pipeline = dlt.pipeline(
        pipeline_name="tap_analytics_bench", pipelines_dir=str(args.pipelines_dir),
        destination=dlt.destinations.postgres(credentials=dlt_credentials(args.postgres)),
        dataset_name=args.dataset,
    )  # fmt: skip
    pipeline.run(rest_api_source(config))
    steps = {s.step: (s.finished_at - s.started_at).total_seconds() for s in pipeline.last_trace.steps}
    print(json.dumps({k: steps.get(k) for k in ("extract", "normalize", "load")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

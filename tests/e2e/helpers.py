"""Helpers of the e2e tests: the committed catalogs, plain tap configs, value comparison."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

import catalogs  # noqa: E402 - scripts/ is put on the path just above
import meltano_pipeline as mp  # noqa: E402

from sandbox import SandboxServer  # noqa: E402

__all__ = ["APIS", "RECORDS", "ROOT", "Stream", "catalogs", "mp", "streams_of", "tap_config"]

RECORDS = 120  # per resource: more than one page everywhere (limits 50/100), still fast
APIS = mp.APIS


@dataclass(frozen=True)
class Stream:
    """One stream of a seed extractor, as the committed catalog describes it."""

    api: str
    name: str
    schema: dict[str, Any]
    replication_key: str | None

    @property
    def resource_key(self) -> str:
        return f"{self.api}/{self.name}"

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        return dict(self.schema["properties"])


def streams_of(api: str) -> list[Stream]:
    catalog = json.loads((ROOT / "catalog" / f"{api}.json").read_text())
    return [
        Stream(api, s["tap_stream_id"], s["schema"], s.get("replication_key")) for s in catalog["streams"]
    ]


def tap_config(api: str, sandbox: SandboxServer) -> dict[str, Any]:
    """A plain JSON config for the standalone tap: meltano.yml's seed config + sandbox credentials."""
    config = catalogs.inherited_extractors()[api]
    base_url = sandbox.api_url(api)
    auth = dict(sandbox.credentials[api])
    if "client_id" in auth:
        auth["token_url"] = f"{base_url}/oauth/token"
    return catalogs.deep_merge(config, {"client": {"base_url": base_url, "auth": auth}})


def _types(prop: dict[str, Any]) -> set[str]:
    types = prop.get("type", [])
    return {types} if isinstance(types, str) else set(types)


def expected_sql_types(prop: dict[str, Any]) -> set[str]:
    """PostgreSQL types (information_schema.columns.data_type) acceptable for a JSON schema property."""
    types = _types(prop) - {"null"}
    if prop.get("format") == "date-time":
        # target-postgres 0.8 creates `timestamp without time zone` (values in UTC, see meltano.yml's
        # PGOPTIONS); a column an operator turned into timestamptz is kept as it is.
        return {"timestamp without time zone", "timestamp with time zone"}
    if types == {"integer"}:
        return {"bigint", "integer", "smallint"}
    if types <= {"number", "integer"}:
        return {"numeric"}
    if types == {"boolean"}:
        return {"boolean"}
    if types == {"object"}:
        return {"jsonb"}
    if types == {"array"}:
        return {"ARRAY", "jsonb"}
    if types == {"string"}:
        return {"text", "character varying"}
    return {"jsonb", "text"}


def as_utc(value: Any) -> datetime | None:
    """A stored or served timestamp as an aware UTC datetime (naive values are UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    stamp: datetime = value
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def normalize(value: Any, prop: dict[str, Any]) -> Any:
    """One value, served by the sandbox or read from PostgreSQL, in a comparable form."""
    if value is None:
        return None
    if prop.get("format") == "date-time":
        return as_utc(value)
    types = _types(prop)
    if isinstance(value, Decimal | float) or (types & {"number"} and isinstance(value, int)):
        return round(float(value), 6)
    return value


def project(record: dict[str, Any], stream: Stream) -> dict[str, Any]:
    """The record as the tap emits it: schema properties only, normalized."""
    return {name: normalize(record.get(name), prop) for name, prop in stream.properties.items()}

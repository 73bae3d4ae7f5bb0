"""Reference: a minimal tap on the stock singer-sdk ``RESTStream`` (its request loop, paginator,
JSON parsing, type conformance and default writer), to put ``tap-analytics`` in context.

Run as a child process by ``bench.py``; config keys: url, path, headers, stream, paging (offset|page),
limit, schema_path, replication_key (optional).
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

import requests
from singer_sdk import Tap
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream


class TotalPaginator(BaseAPIPaginator[int]):
    """Offset (records) or page-number paging that stops at the response's ``total``."""

    def __init__(self, paging: str, limit: int) -> None:
        super().__init__(0 if paging == "offset" else 1)
        self.paging = paging
        self.limit = limit

    def get_next(self, response: requests.Response) -> int | None:
        return self.current_value + (self.limit if self.paging == "offset" else 1)

    def has_more(self, response: requests.Response) -> bool:
        body = response.json()
        got = len(body.get("data") or [])
        total = body.get("total")
        if not got:
            return False
        if total is None:
            return got >= self.limit
        if self.paging == "offset":
            return self.current_value + got < total
        return self.current_value < total


class BenchStream(RESTStream[int]):
    records_jsonpath = "$.data[*]"
    primary_keys = ("id",)

    @property
    def url_base(self) -> str:
        return str(self.config["url"])

    @property
    def http_headers(self) -> dict[str, str]:
        return dict(self.config.get("headers") or {})

    def get_new_paginator(self) -> TotalPaginator:
        return TotalPaginator(self.config["paging"], int(self.config["limit"]))

    def get_url_params(self, context: Any, next_page_token: int | None) -> dict[str, Any]:
        limit = int(self.config["limit"])
        if self.config["paging"] == "offset":
            return {"offset": next_page_token or 0, "limit": limit}
        return {"page": next_page_token or 1, "per_page": limit}


class SdkBenchTap(Tap):
    name = "tap-sdk-bench"
    config_jsonschema: dict[str, Any] = {"type": "object", "properties": {}}

    @cached_property
    def _schema(self) -> dict[str, Any]:
        with open(self.config["schema_path"], encoding="utf-8") as fh:
            return dict(json.load(fh))

    def discover_streams(self) -> list[BenchStream]:
        stream = BenchStream(
            tap=self, name=self.config["stream"], schema=self._schema, path=self.config["path"]
        )
        stream.replication_key = self.config.get("replication_key")
        return [stream]


if __name__ == "__main__":
    SdkBenchTap.cli()

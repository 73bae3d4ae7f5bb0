"""Seed 004: status pages (API key in a header); 420/429 retried after a constant 62 s."""

from __future__ import annotations

from tap_analytics.client import AnalyticsStream


class StatuspageStream(AnalyticsStream):
    """The statuspage API's defaults: offset paging and seed 004's error handling."""

    api = "statuspage"
    paging = {"type": "offset", "limit": 100}
    error_handler = {
        "retry_on_status_codes": [420, 429],
        "max_retries": 3,
        "backoff_factor": 62,
        "backoff": "constant",
    }


class PagesStream(StatuspageStream):
    """Status pages, incremental on `updated_at`."""

    name = "pages"
    path = "/v1/resource"
    schema_file = "statuspage/pages.json"
    replication_key = "updated_at"


class SubscribersStream(StatuspageStream):
    """Subscribers of the pages: full table (they carry no update time)."""

    name = "subscribers"
    path = "/v1/resource/subscribers"
    schema_file = "statuspage/subscribers.json"


STREAMS = (PagesStream, SubscribersStream)

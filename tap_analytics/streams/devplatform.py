"""Seed 000: a developer platform's analytics (OAuth2 client credentials, offset paging)."""

from __future__ import annotations

from tap_analytics.client import AnalyticsStream


class DevplatformStream(AnalyticsStream):
    """The devplatform API's defaults: offset paging, 100 records a page."""

    api = "devplatform"
    paging = {"type": "offset", "limit": 100}


class EventsStream(DevplatformStream):
    """Activity events, incremental on their own timestamp."""

    name = "events"
    path = "/v1/events"
    schema_file = "devplatform/events.json"
    replication_key = "timestamp"


class OrganizationsStream(DevplatformStream):
    """Organizations: full table (the seed leaves volatile fields such as updated_at out)."""

    name = "organizations"
    path = "/v1/organizations"
    schema_file = "devplatform/organizations.json"


class RepositoriesStream(DevplatformStream):
    """Repositories: full table, for the same reason."""

    name = "repositories"
    path = "/v1/repositories"
    schema_file = "devplatform/repositories.json"


STREAMS = (EventsStream, OrganizationsStream, RepositoriesStream)

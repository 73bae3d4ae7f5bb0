"""Seed 003: time tracking (bearer token); `events` page by number, the rest by offset."""

from __future__ import annotations

from tap_analytics.client import AnalyticsStream


class TimetrackingStream(AnalyticsStream):
    """The timetracking API's defaults: offset paging, incremental on `updated_at`."""

    api = "timetracking"
    paging = {"type": "offset", "limit": 100}
    replication_key = "updated_at"


class EventsStream(TimetrackingStream):
    """Time entries and timer events (same name as devplatform's: told apart by the path)."""

    name = "events"
    path = "/v1/resource/events"
    schema_file = "timetracking/events.json"
    paging = {"type": "page_number", "page_param": "page", "limit_param": "per_page", "limit": 100}


class ClientsStream(TimetrackingStream):
    """Clients billed for time."""

    name = "clients"
    path = "/v1/resource/clients"
    schema_file = "timetracking/clients.json"


class UsersStream(TimetrackingStream):
    """People who track time."""

    name = "users"
    path = "/v1/resource/users"
    schema_file = "timetracking/users.json"


class LabelsStream(TimetrackingStream):
    """Labels put on time entries."""

    name = "labels"
    path = "/v1/resource/labels"
    schema_file = "timetracking/labels.json"


class ProjectsStream(TimetrackingStream):
    """Projects, 1,000 a page as the seed asks."""

    name = "projects"
    path = "/v1/resource/projects"
    schema_file = "timetracking/projects.json"
    paging = {"type": "offset", "limit": 1000}


STREAMS = (EventsStream, ClientsStream, UsersStream, LabelsStream, ProjectsStream)

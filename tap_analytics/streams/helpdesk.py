"""Seed 002: a help desk (OAuth2 refresh-token grant, offset paging 50 a page)."""

from __future__ import annotations

from tap_analytics.client import AnalyticsStream


class HelpdeskStream(AnalyticsStream):
    """The helpdesk API's defaults. Every resource is full table: only creation times
    (`createdTime`) are known, and they would miss every later change."""

    api = "helpdesk"
    paging = {"type": "offset", "limit": 50}


class OrganizationsStream(HelpdeskStream):
    """Customer organizations (same name as devplatform's: told apart by the path)."""

    name = "organizations"
    path = "/organizations"
    schema_file = "helpdesk/organizations.json"


class AgentsStream(HelpdeskStream):
    """Support agents."""

    name = "agents"
    path = "/agents"
    schema_file = "helpdesk/agents.json"


class TicketsStream(HelpdeskStream):
    """Support tickets."""

    name = "tickets"
    path = "/tickets"
    schema_file = "helpdesk/tickets.json"


STREAMS = (OrganizationsStream, AgentsStream, TicketsStream)

"""Deterministic record generators for the sandbox's five fake APIs.

Record ``i`` of a resource is a pure function of ``i`` (no RNG state), so a
resource of a million records costs nothing until a page of it is requested,
and every run of the sandbox serves byte-identical data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

#: 2024-01-01T00:00:00Z — creation time of record 0 of every resource.
BASE_EPOCH = 1_704_067_200
#: Seconds between the creation times of consecutive generated records.
STEP = 60
#: A generated record's ``updated_at`` trails its ``created_at`` by this much.
UPDATE_LAG = 30


def iso(ts: int) -> str:
    """Format epoch seconds the way every sandbox API does: ISO-8601 UTC with Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _h(i: int, salt: int) -> int:
    """Cheap 32-bit integer hash: varied-looking but reproducible field values."""
    x = (i * 0x9E3779B1 + salt * 0x85EBCA77 + 0x165667B1) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    x = (x * 0x297A2D39) & 0xFFFFFFFF
    x ^= x >> 15
    return x


def _pick(seq: tuple[Any, ...], h: int) -> Any:
    return seq[h % len(seq)]


Builder = Callable[[int, int, str, str], Record]
Mutator = Callable[[Record, int], None]


@dataclass(frozen=True)
class ResourceSpec:
    """Static description of one resource: where it lives and how to fake it."""

    api: str
    name: str
    path: str  #: path below the API prefix, e.g. "/v1/events"
    build: Builder  #: (index, hash, created_iso, updated_iso) -> record
    mutate: Mutator  #: changes a business field of a record (revision n)
    paging: str = "offset"  #: "offset" (offset/limit) or "page" (page/per_page)
    default_limit: int = 100
    #: visible fields set to the creation time of records added by mutations
    created_fields: tuple[str, ...] = ("created_at",)
    #: visible fields bumped to the logical clock when a record is updated
    cursor_fields: tuple[str, ...] = ("updated_at",)
    #: True when the filter cursor is the creation time (events' ``timestamp``)
    cursor_is_created: bool = False
    salt: int = field(default=0)

    @property
    def key(self) -> str:
        return f"{self.api}/{self.name}"

    def base_cursor(self, i: int) -> int:
        """Cursor (epoch seconds) of unmodified generated record ``i``."""
        created = BASE_EPOCH + i * STEP
        return created if self.cursor_is_created else created + UPDATE_LAG

    def generate(self, i: int) -> Record:
        """Record ``i`` as generated, before any mutation."""
        created = BASE_EPOCH + i * STEP
        return self.build(i, _h(i, self.salt), iso(created), iso(created + UPDATE_LAG))


# ---------------------------------------------------------------- devplatform
_EVENT_TYPES = ("PushEvent", "PullRequestEvent", "IssuesEvent", "WatchEvent", "ForkEvent", "CreateEvent")
_LANGS = ("Python", "Go", "Rust", "TypeScript", "Java", None)


def _dp_event(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"evt_{n}",
        "event_id": f"e-{n:010d}",
        "timestamp": c,
        "event_type": _pick(_EVENT_TYPES, h),
        "organization_id": f"org_{h % 50 + 1}",
        "repository_id": f"repo_{(h >> 8) % 200 + 1}",
        "actor": f"user{(h >> 16) % 500}",
        "payload": {"ref": "refs/heads/main", "size": h % 10, "revision": 0},
        "updated_at": u,  # volatile, deliberately absent from the schema
    }


def _dp_event_mut(r: Record, rev: int) -> None:
    r["payload"] = {**(r["payload"] or {}), "revision": rev}


def _dp_org(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"org_{n}",
        "organization_id": str(1000 + n),
        "name": f"Organization {n}",
        "login": f"org-{n}",
        "description": None if h % 5 == 0 else f"Organization number {n}",
        "created_at": c,
        "followers": h % 1000,  # volatile, deliberately absent from the schema
    }


def _dp_org_mut(r: Record, rev: int) -> None:
    r["description"] = f"Organization description, revision {rev}"
    r["followers"] = int(r["followers"]) + 1


def _dp_repo(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    org = h % 50 + 1
    return {
        "id": f"repo_{n}",
        "repository_id": str(50_000 + n),
        "name": f"repo-{n}",
        "full_name": f"org-{org}/repo-{n}",
        "organization_id": f"org_{org}",
        "language": _pick(_LANGS, h >> 4),
        "private": h % 3 == 0,
        "description": None if h % 7 == 0 else f"Repository {n}",
        "created_at": c,
    }


def _dp_repo_mut(r: Record, rev: int) -> None:
    r["description"] = f"Repository description, revision {rev}"


# -------------------------------------------------------------------- generic
def _generic(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"res_{n}",
        "customer_id": f"cus_{h % 1000 + 1}",
        "name": f"Item {n}",
        "amount": round((h % 1_000_000) / 100, 2),
        "is_active": h % 4 != 0,
        "created_at": c,
        "updated_at": u,
    }


def _generic_mut(r: Record, rev: int) -> None:
    r["amount"] = round(float(r["amount"]) + 10.25, 2)


# ------------------------------------------------------------------- helpdesk
_COUNTRIES = ("US", "DE", "FR", "IN", "BR", "JP", None)
_CURRENCIES = ("USD", "EUR", "EUR", "INR", "BRL", "JPY", None)
_FIRST = ("Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis")
_LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie")
_STATUSES = ("Open", "On Hold", "Escalated", "Closed")
_PRIORITIES = ("Low", "Medium", "High", None)
_CHANNELS = ("Email", "Phone", "Web", "Chat")


def _hd_org(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"hdo_{n}",
        "companyName": f"Company {n}",
        "country": _pick(_COUNTRIES, h),
        "currencyCode": _pick(_CURRENCIES, h),
        "website": None if h % 6 == 0 else f"https://company{n}.example.com",
        "employeeCount": h % 5000,
        "isActive": h % 5 != 0,
    }


def _hd_org_mut(r: Record, rev: int) -> None:
    r["companyName"] = f"{str(r['companyName']).split(' (rev')[0]} (rev {rev})"


def _hd_agent(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"agt_{n}",
        "firstName": _pick(_FIRST, h),
        "lastName": _pick(_LAST, h >> 3),
        "emailId": f"agent{n}@helpdesk.example.com",
        "roleId": f"role_{h % 5 + 1}",
        "isConfirmed": h % 9 != 0,
    }


def _hd_agent_mut(r: Record, rev: int) -> None:
    r["roleId"] = f"role_rev{rev}"


def _hd_ticket(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"tkt_{n}",
        "subject": f"Ticket #{n}: cannot {_pick(('log in', 'export', 'pay', 'sync'), h >> 5)}",
        "status": _pick(_STATUSES, h),
        "priority": _pick(_PRIORITIES, h >> 2),
        "channel": _pick(_CHANNELS, h >> 7),
        "organizationId": f"hdo_{h % 100 + 1}",
        "assigneeId": None if h % 10 == 0 else f"agt_{(h >> 9) % 50 + 1}",
        "isSpam": h % 50 == 0,
        "createdTime": c,
    }


def _hd_ticket_mut(r: Record, rev: int) -> None:
    cur = r.get("status")
    r["status"] = _STATUSES[(_STATUSES.index(cur) + 1) % len(_STATUSES)] if cur in _STATUSES else "Open"


# --------------------------------------------------------------- timetracking
_EV_TYPES = ("time_entry", "timer_started", "timer_stopped", "expense")
_COLORS = ("#e11d48", "#2563eb", "#16a34a", "#ca8a04", "#9333ea")


def _tt_event(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"tte_{n}",
        "name": f"Event {n}",
        "type": _pick(_EV_TYPES, h),
        "project_id": f"prj_{h % 100 + 1}",
        "created_at": c,
        "updated_at": u,
    }


def _rename(r: Record, rev: int) -> None:
    r["name"] = f"{str(r['name']).split(' (rev')[0]} (rev {rev})"


def _tt_client(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"cli_{n}",
        "name": f"Client {n}",
        "currency": _pick(("USD", "EUR", "GBP", None), h),
        "archived": h % 8 == 0,
        "created_at": c,
        "updated_at": u,
    }


def _tt_user(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"usr_{n}",
        "name": f"{_pick(_FIRST, h)} {_pick(_LAST, h >> 3)}",
        "email": f"user{n}@timetracking.example.com",
        "active": h % 7 != 0,
        "created_at": c,
        "updated_at": u,
    }


def _tt_label(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"lbl_{n}",
        "name": f"label-{n}",
        "color": _pick(_COLORS, h),
        "created_at": c,
        "updated_at": u,
    }


def _tt_project(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"prj_{n}",
        "name": f"Project {n}",
        "client_id": f"cli_{h % 100 + 1}",
        "billable": h % 3 != 0,
        "budget": None if h % 4 == 0 else float(h % 100_000),
        "active": h % 6 != 0,
        "tags": [f"tag{h % 5}", f"tag{(h >> 4) % 5}"][: h % 3],
        "created_at": c,
        "updated_at": u,
    }


def _tt_project_mut(r: Record, rev: int) -> None:
    r["budget"] = float(rev * 1000)


# ----------------------------------------------------------------- statuspage
_TZS = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
_MODES = ("email", "sms", "webhook", "slack")


def _sp_page(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"page_{n}",
        "name": f"Status Page {n}",
        "activity_score": round((h % 10_000) / 100, 2),
        "allow_email_subscribers": None if h % 7 == 0 else h % 2 == 0,
        "subdomain": f"status-{n}",
        "time_zone": _pick(_TZS, h >> 3),
        "url": f"https://status-{n}.example.com",
        "created_at": c,
        "updated_at": u,
    }


def _sp_page_mut(r: Record, rev: int) -> None:
    r["activity_score"] = round(float(r["activity_score"] or 0) + 1.5, 2)


def _sp_sub(i: int, h: int, c: str, u: str) -> Record:
    n = i + 1
    return {
        "id": f"sub_{n}",
        "email": f"subscriber{n}@example.com",
        "mode": _pick(_MODES, h),
        "page_id": f"page_{h % 100 + 1}",
        "quarantined_at": c if h % 20 == 0 else None,
        "created_at": c,
    }


def _sp_sub_mut(r: Record, rev: int) -> None:
    r["mode"] = _MODES[(_MODES.index(r["mode"]) + 1) % len(_MODES)] if r.get("mode") in _MODES else "email"


SPECS: tuple[ResourceSpec, ...] = (
    ResourceSpec(
        "devplatform",
        "events",
        "/v1/events",
        _dp_event,
        _dp_event_mut,
        created_fields=("timestamp",),
        cursor_fields=("timestamp", "updated_at"),
        cursor_is_created=True,
        salt=1,
    ),
    ResourceSpec(
        "devplatform", "organizations", "/v1/organizations", _dp_org, _dp_org_mut, cursor_fields=(), salt=2
    ),
    ResourceSpec(
        "devplatform", "repositories", "/v1/repositories", _dp_repo, _dp_repo_mut, cursor_fields=(), salt=3
    ),
    ResourceSpec(
        "generic",
        "resource_name",
        "/v1/resource",
        _generic,
        _generic_mut,
        created_fields=("created_at", "updated_at"),
        salt=4,
    ),
    ResourceSpec(
        "helpdesk",
        "organizations",
        "/organizations",
        _hd_org,
        _hd_org_mut,
        default_limit=50,
        created_fields=(),
        cursor_fields=(),
        salt=5,
    ),
    ResourceSpec(
        "helpdesk",
        "agents",
        "/agents",
        _hd_agent,
        _hd_agent_mut,
        default_limit=50,
        created_fields=(),
        cursor_fields=(),
        salt=6,
    ),
    ResourceSpec(
        "helpdesk",
        "tickets",
        "/tickets",
        _hd_ticket,
        _hd_ticket_mut,
        default_limit=50,
        created_fields=("createdTime",),
        cursor_fields=(),
        salt=7,
    ),
    ResourceSpec(
        "timetracking",
        "events",
        "/v1/resource/events",
        _tt_event,
        _rename,
        paging="page",
        created_fields=("created_at", "updated_at"),
        salt=8,
    ),
    ResourceSpec(
        "timetracking",
        "clients",
        "/v1/resource/clients",
        _tt_client,
        _rename,
        created_fields=("created_at", "updated_at"),
        salt=9,
    ),
    ResourceSpec(
        "timetracking",
        "users",
        "/v1/resource/users",
        _tt_user,
        _rename,
        created_fields=("created_at", "updated_at"),
        salt=10,
    ),
    ResourceSpec(
        "timetracking",
        "labels",
        "/v1/resource/labels",
        _tt_label,
        _rename,
        created_fields=("created_at", "updated_at"),
        salt=11,
    ),
    ResourceSpec(
        "timetracking",
        "projects",
        "/v1/resource/projects",
        _tt_project,
        _tt_project_mut,
        default_limit=1000,
        created_fields=("created_at", "updated_at"),
        salt=12,
    ),
    ResourceSpec(
        "statuspage",
        "pages",
        "/v1/resource",
        _sp_page,
        _sp_page_mut,
        created_fields=("created_at", "updated_at"),
        salt=13,
    ),
    ResourceSpec(
        "statuspage",
        "subscribers",
        "/v1/resource/subscribers",
        _sp_sub,
        _sp_sub_mut,
        cursor_fields=(),
        salt=14,
    ),
)

SPECS_BY_KEY: dict[str, ResourceSpec] = {s.key: s for s in SPECS}
#: (api, path below prefix) -> spec, for request routing.
ROUTES: dict[tuple[str, str], ResourceSpec] = {(s.api, s.path): s for s in SPECS}
RESOURCE_KEYS: tuple[str, ...] = tuple(SPECS_BY_KEY)
APIS: tuple[str, ...] = ("devplatform", "generic", "helpdesk", "timetracking", "statuspage")

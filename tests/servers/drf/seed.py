"""Deterministic content of the DRF test API, and fresh credentials for its OAuth2 clients.

Pure data (no Django import), so tests may compute what to expect before any server runs.
Item ``k`` (its id after a reset) always has the same fields: two servers seeded alike
serve identical records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

#: ``created_at`` of item 0; item k is k minutes later (``updated_at`` too, until changed).
BASE_INSTANT = datetime(2024, 1, 1, tzinfo=UTC)


def item_fields(k: int, updated_at: datetime | None = None) -> dict[str, object]:
    """The model fields of the k-th item (ids count from 1)."""
    created = BASE_INSTANT + timedelta(minutes=k)
    return {
        "id": k,
        "name": f"Item {k:05d}",
        "score": (Decimal(k * 37 % 1000) / 4).quantize(Decimal("0.01")),
        "tags": [f"color-{k % 3}", f"size-{k % 5}"],
        "meta": {"rank": k, "group": {"key": f"g{k % 4}", "active": k % 2 == 0}, "weights": [k % 7, k % 11]},
        "created_at": created,
        "updated_at": updated_at or created,
    }


def comment_body(item_id: int, c: int) -> str:
    return f"Comment {c} on item {item_id}"


@dataclass(frozen=True)
class Credentials:
    """Credentials of the seeded clients; random per server start, so no server accepts another's."""

    #: A confidential client allowed the client_credentials grant.
    client_id: str
    client_secret: str
    #: A confidential authorization-code client (DOT allows refresh only for such grants)
    #: holding a user's access token and refresh token, as if after a consent.
    refresh_client_id: str
    refresh_client_secret: str
    access_token: str
    refresh_token: str

    @classmethod
    def fresh(cls) -> Credentials:
        def token() -> str:
            return secrets.token_urlsafe(24)

        return cls(
            client_id=f"cc-{token()}",
            client_secret=token(),
            refresh_client_id=f"ac-{token()}",
            refresh_client_secret=token(),
            access_token=token(),
            refresh_token=token(),
        )

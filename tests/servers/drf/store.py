"""Everything the DRF test API does to its database outside requests: reseeding and test controls.

Imported only once Django is set up (it imports models at the top); ``DRFServer`` is its
one caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken
from oauth2_provider.settings import oauth2_settings
from rest_framework.renderers import JSONRenderer

from .api import ItemSerializer
from .models import Comment, Item
from .seed import Credentials, comment_body, item_fields


def set_access_token_lifetime(seconds: int) -> None:
    """Make DOT issue access tokens valid for ``seconds`` (its settings object caches values)."""
    settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"] = seconds
    oauth2_settings.reload()


# ---------------------------------------------------------------------- items
def _next_id(table: str) -> int:
    """What SQLite's AUTOINCREMENT would hand out next (ids of deleted rows are never reused)."""
    with connection.cursor() as cur:
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cur.fetchone()
    return (row[0] if row else 0) + 1


def add_items(n: int, comments_per_item: int, updated_at: datetime | None = None) -> list[int]:
    """Append ``n`` items (and their comments) after the highest id ever used; returns their ids."""
    with transaction.atomic():
        first = _next_id(Item._meta.db_table)
        items = [Item(**item_fields(k, updated_at)) for k in range(first, first + n)]
        Item.objects.bulk_create(items)
        Comment.objects.bulk_create(
            Comment(
                item_id=item.pk,
                body=comment_body(item.pk, c),
                updated_at=item.updated_at + timedelta(seconds=c),
            )
            for item in items
            for c in range(1, comments_per_item + 1)
        )
    return [item.pk for item in items]


def reset_items(n: int, comments_per_item: int) -> None:
    """Empty both tables, restart their ids at 1, then seed ``n`` items."""
    with transaction.atomic():
        Comment.objects.all().delete()
        Item.objects.all().delete()
        with connection.cursor() as cur:
            cur.execute(
                "DELETE FROM sqlite_sequence WHERE name IN (%s, %s)",
                [Item._meta.db_table, Comment._meta.db_table],
            )
    add_items(n, comments_per_item)


def update_items(ids: Iterable[int], at: datetime | None) -> int:
    return Item.objects.filter(pk__in=list(ids)).update(updated_at=at or timezone.now())


def delete_items(ids: Iterable[int]) -> int:
    deleted = Item.objects.filter(pk__in=list(ids)).delete()[1]
    return deleted.get(Item._meta.label, 0)


def records(time_zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every item rendered by the API's own serializer and renderer, as a client decodes it."""
    with timezone.override(time_zone):
        data = ItemSerializer(Item.objects.order_by("id"), many=True).data
        rendered: list[dict[str, Any]] = json.loads(JSONRenderer().render(data))
    return rendered


# ---------------------------------------------------------------------- OAuth2
def reset_oauth(access_token_seconds: int) -> Credentials:
    """Delete every DOT row and user, then create the two applications and the user's tokens."""
    creds = Credentials.fresh()
    user_model = get_user_model()
    with transaction.atomic():
        for model in (RefreshToken, AccessToken, IDToken, Grant, Application, user_model):
            model.objects.all().delete()
        user = user_model.objects.create(username="drf-user")
        Application.objects.create(
            name="client-credentials",
            client_id=creds.client_id,
            client_secret=creds.client_secret,  # DOT stores it hashed
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            user=user,
        )
        app = Application.objects.create(
            name="authorization-code",
            client_id=creds.refresh_client_id,
            client_secret=creds.refresh_client_secret,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris="http://127.0.0.1/callback",
            user=user,
        )
        access = AccessToken.objects.create(
            user=user,
            application=app,
            token=creds.access_token,
            expires=timezone.now() + timedelta(seconds=access_token_seconds),
            scope="read",
        )
        RefreshToken.objects.create(
            user=user, application=app, token=creds.refresh_token, access_token=access
        )
    return creds


def revoke_access_tokens() -> int:
    tokens = list(AccessToken.objects.all())
    for token in tokens:
        token.revoke()  # DOT's own revocation, as /o/revoke_token/ does
    return len(tokens)


def revoke(token: str) -> bool:
    found = False
    for access in AccessToken.objects.filter(token=token):
        access.revoke()
        found = True
    for refresh in RefreshToken.objects.filter(token=token, revoked__isnull=True):
        refresh.revoke()
        found = True
    return found


def expire_access_tokens() -> int:
    return AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))

"""Serializers, filters and views of the DRF test API: stock DRF and DOT classes, configured.

Wire types of an item, as DRF renders them (``COERCE_DECIMAL_TO_STRING`` kept at its default):
``id`` int, ``name`` str, ``score`` **str** (a decimal with two places, e.g. ``"12.50"``),
``tags`` list of str, ``meta`` nested object, ``created_at``/``updated_at`` str, ISO 8601 in the
server's time zone (``2024-01-01T05:31:00+05:30`` for Asia/Kolkata, a ``Z`` suffix for UTC,
microseconds only when non-zero). A comment: ``id`` int, ``item`` int (the item's id),
``body`` str, ``updated_at`` as above.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import generics, mixins, pagination, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.permissions import AllowAny
from rest_framework.request import Request

from .middleware import context_of
from .models import Comment, Item


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ("id", "name", "score", "tags", "meta", "created_at", "updated_at")


class CommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comment
        fields = ("id", "item", "body", "updated_at")


class UpdatedWindowFilter(BaseFilterBackend):
    """``updated_since`` (>=) and ``updated_until`` (<), ISO 8601; a naive value is in the server's zone."""

    bounds = (("updated_since", "updated_at__gte"), ("updated_until", "updated_at__lt"))

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        for param, lookup in self.bounds:
            raw = request.query_params.get(param)
            if raw is None:
                continue
            try:
                value = parse_datetime(raw)
            except ValueError:
                value = None
            if value is None:
                raise ValidationError({param: [f"Not an ISO 8601 datetime: {raw!r}."]})
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            queryset = queryset.filter(**{lookup: value})
        return queryset


class _ConfiguredPaging:
    """Applies the server's page size to the stock paginator DRF instantiates for the view."""

    request: Request

    @property
    def paginator(self) -> pagination.BasePagination | None:
        if not hasattr(self, "_paginator"):
            paginator = super().paginator  # type: ignore[misc]
            ctx = context_of(self.request)
            if isinstance(paginator, pagination.LimitOffsetPagination):
                paginator.default_limit = ctx.page_size
                paginator.max_limit = ctx.max_page_size
            elif isinstance(paginator, pagination.PageNumberPagination | pagination.CursorPagination):
                paginator.page_size = ctx.page_size
                paginator.max_page_size = ctx.max_page_size
                paginator.page_size_query_param = "page_size"
        return self._paginator  # type: ignore[no-any-return]


class IdCursorPagination(pagination.CursorPagination):
    """CursorPagination needs a unique, unchanging ordering field: the id."""

    ordering = "id"


class UpdatedAtCursorPagination(pagination.CursorPagination):
    """Ordered by ``updated_at`` (the cursor position), ``id`` breaking ties."""

    ordering = ("updated_at", "id")


class _Protected:
    """The default auth: a valid DOT bearer token with the ``read`` scope."""

    required_scopes = ("read",)


class _ItemList(_ConfiguredPaging, _Protected, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Item.objects.order_by("id")
    serializer_class = ItemSerializer
    filter_backends = (UpdatedWindowFilter,)


class LimitOffsetItems(_ItemList):
    pagination_class = pagination.LimitOffsetPagination


class PageNumberItems(_ItemList):
    pagination_class = pagination.PageNumberPagination


class CursorItems(_ItemList):
    pagination_class = IdCursorPagination


class CursorUpdatedItems(_ItemList):
    queryset = Item.objects.order_by("updated_at", "id")
    pagination_class = UpdatedAtCursorPagination


class Items(_Protected, viewsets.ReadOnlyModelViewSet):
    """``items/`` is the whole table unpaginated (a bare JSON array); ``items/{id}/`` one item."""

    queryset = Item.objects.order_by("id")
    serializer_class = ItemSerializer
    filter_backends = (UpdatedWindowFilter,)
    pagination_class = None

    def get_object(self) -> Item:
        # The window filters the list only: a detail lookup ignores them.
        return get_object_or_404(Item, pk=self.kwargs["pk"])


class ItemComments(_ConfiguredPaging, _Protected, generics.ListAPIView):
    """``items/{id}/comments/``: page-number paged; 404 once the item is deleted."""

    serializer_class = CommentSerializer
    filter_backends = (UpdatedWindowFilter,)
    pagination_class = pagination.PageNumberPagination

    def get_queryset(self) -> QuerySet[Comment]:
        item = get_object_or_404(Item, pk=self.kwargs["item_id"])
        return item.comments.order_by("id")


def open_variant(view: type[Any]) -> type[Any]:
    """The same view with no authentication and no permission check (mounted under ``/open/``)."""
    return type(
        f"Open{view.__name__}", (view,), {"authentication_classes": (), "permission_classes": (AllowAny,)}
    )

"""The two tables the DRF test API serves: items and their comments."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Item(models.Model):
    """A record with every JSON shape a tap must carry: decimal, list, nested object, datetimes.

    ``updated_at`` is set explicitly (no ``auto_now``) so tests choose the instant it holds.
    """

    name = models.CharField(max_length=100)
    score = models.DecimalField(max_digits=9, decimal_places=2)
    tags = models.JSONField(default=list)
    meta = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class Comment(models.Model):
    """A child resource of an item, served under ``items/{id}/comments/``."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.body

"""The Django app config of the DRF test API (its own label, so it cannot clash with other apps)."""

from __future__ import annotations

from django.apps import AppConfig


class DRFTestAPIConfig(AppConfig):
    """Registers :mod:`tests.servers.drf.models` under the label ``drf_api``."""

    name = "tests.servers.drf"
    label = "drf_api"
    default_auto_field = "django.db.models.AutoField"

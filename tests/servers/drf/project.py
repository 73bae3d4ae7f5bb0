"""The Django project behind :class:`~tests.servers.drf.DRFServer`: settings, app loading and migrations.

Django can be configured only once per process, so :func:`ensure_ready` does it the first
time a server starts and is a no-op afterwards. Every server of the process shares one
file-based SQLite database in a temporary directory (in-memory SQLite would be private to
each server thread); servers therefore flush and reseed it on start and may not run at the
same instant (``DRFServer.start`` enforces that).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management import call_command

#: Time zone of the settings; each server activates its own per request (see middleware).
DEFAULT_TIME_ZONE = "Asia/Kolkata"
DEFAULT_PAGE_SIZE = 50
DEFAULT_ACCESS_TOKEN_EXPIRE_SECONDS = 3600

_lock = threading.Lock()
_ready = False


def _settings(db_path: Path) -> dict[str, Any]:
    return {
        "DEBUG": False,
        "SECRET_KEY": "drf-test-server-not-a-secret",
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "ROOT_URLCONF": "tests.servers.drf.urls",
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "oauth2_provider",
            "tests.servers.drf",
        ],
        # The request log first, so it sees the status every later layer settled on.
        "MIDDLEWARE": ["tests.servers.drf.middleware.RequestLogMiddleware"],
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path),
                # Server threads write concurrently (token endpoint, test controls): WAL lets
                # readers go on, IMMEDIATE takes the write lock up front instead of failing
                # with "database is locked" on upgrade, the timeout waits for it.
                "OPTIONS": {
                    "timeout": 30,
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;",
                },
            }
        },
        "USE_TZ": True,
        "TIME_ZONE": DEFAULT_TIME_ZONE,
        # DOT hashes client secrets with Django's hasher; PBKDF2 would cost ~0.3 s per token request.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "oauth2_provider.contrib.rest_framework.OAuth2Authentication",
            ],
            "DEFAULT_PERMISSION_CLASSES": [
                "oauth2_provider.contrib.rest_framework.TokenHasScope",
            ],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": [
                "rest_framework.parsers.JSONParser",
                "rest_framework.parsers.FormParser",
            ],
            "PAGE_SIZE": DEFAULT_PAGE_SIZE,
            # DRF's defaults, spelled out because the wire types depend on them.
            "COERCE_DECIMAL_TO_STRING": True,
            "DATETIME_FORMAT": "iso-8601",
        },
        "OAUTH2_PROVIDER": {
            "SCOPES": {"read": "Read items and comments"},
            "DEFAULT_SCOPES": ["read"],
            "ACCESS_TOKEN_EXPIRE_SECONDS": DEFAULT_ACCESS_TOKEN_EXPIRE_SECONDS,
            "ROTATE_REFRESH_TOKEN": True,
            "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
            # DOT's views cache their oauthlib server (and its expires_in) per class; each
            # server may set its own token lifetime, so they must rebuild it per request.
            "ALWAYS_RELOAD_OAUTHLIB_CORE": True,
        },
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"stderr": {"class": "logging.StreamHandler"}},
            # 4xx are the point of many tests; 500s must still show their traceback.
            "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
        },
    }


def ensure_ready() -> None:
    """Configure Django, load the apps and migrate the shared database, once per process."""
    global _ready
    with _lock:
        if _ready:
            return
        if settings.configured:
            raise RuntimeError("Django is configured by someone else; DRFServer needs its own settings")
        tmp = Path(tempfile.mkdtemp(prefix="drf-server-"))
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
        settings.configure(**_settings(tmp / "db.sqlite3"))
        django.setup()
        # Our app has no migration files: run_syncdb creates its tables from the models.
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
        _ready = True

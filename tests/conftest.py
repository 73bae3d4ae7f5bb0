"""Hypothesis profiles.

`make test` (and CI) runs the property tests on a fixed, derandomized set of examples so
a run's verdict depends on the code, not on the luck of the draw. `make fuzz` explores:
fresh random examples, many more of them; a failure it finds prints the example, which
then belongs in the test as an `@example` so every later `make test` checks it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "repeatable",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    database=None,
    deadline=None,
    max_examples=3000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

#: The real DRF + django-oauth-toolkit API (tests/servers/drf) is available to every suite.
pytest_plugins = ["tests.servers.drf.fixtures"]

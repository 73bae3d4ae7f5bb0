"""dlt's own rest_api configuration examples as data: every one that needs no Python callable.

Gathered from `configs_basic` (basic.md), `configs_advanced` (advanced.md) and `configs_tests`
(dlt's source_configs.py and test_rest_api_source.py); `example_model` says what an `Example`
holds and how it departs from dlt's text (secrets as "<secret:x>", built-in instances as their
dict form). `SKIPPED` lists, with the reason, every example that needs a callable or a custom class.
"""

from __future__ import annotations

from .configs_advanced import ADVANCED_EXAMPLES, ADVANCED_SKIPPED
from .configs_basic import BASIC_EXAMPLES, BASIC_SKIPPED
from .configs_tests import TEST_EXAMPLES, TEST_SKIPPED
from .example_model import Example, Skipped, as_source

__all__ = ["BY_NAME", "EXAMPLES", "SKIPPED", "Example", "Skipped", "as_source"]

EXAMPLES: list[Example] = [*BASIC_EXAMPLES, *ADVANCED_EXAMPLES, *TEST_EXAMPLES]
SKIPPED: list[Skipped] = [*BASIC_SKIPPED, *ADVANCED_SKIPPED, *TEST_SKIPPED]
BY_NAME: dict[str, Example] = {e.name: e for e in EXAMPLES}
assert len(BY_NAME) == len(EXAMPLES), "example names must be unique"

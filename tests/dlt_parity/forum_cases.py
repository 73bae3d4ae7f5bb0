"""dlt's examples (`configs`) mapped onto the sandbox's `forum` API, to run through dlt and the tap.

Contract: /work/briefs/forum_contract.md. Gathered from `forum_cases_basic`, `forum_cases_advanced`
and `forum_cases_tests`; `forum_model` says what a case holds and the rules of a mapping (keep
dlt's structure and keys, change paths, field names and values only, declare any other change).
`NOT_MAPPED` gives, per example, why the forum cannot serve it.
"""

from __future__ import annotations

from .forum_cases_advanced import ADVANCED_CASES, ADVANCED_NOT_MAPPED
from .forum_cases_basic import BASIC_CASES
from .forum_cases_tests import TEST_CASES, TEST_NOT_MAPPED
from .forum_model import DEFAULT_POSTS, ForumCase, materialize, shape

__all__ = ["DEFAULT_POSTS", "FORUM_CASES", "NOT_MAPPED", "ForumCase", "materialize", "shape"]

FORUM_CASES: list[ForumCase] = [*BASIC_CASES, *ADVANCED_CASES, *TEST_CASES]
NOT_MAPPED: dict[str, str] = {**ADVANCED_NOT_MAPPED, **TEST_NOT_MAPPED}
assert len({c.name for c in FORUM_CASES}) == len(FORUM_CASES), "case names must be unique"

"""Singer stream names from resource names: the table name dlt's default naming gives.

A resource's `name` (or its `table_name`) may be anything dlt accepts -- `user-events`,
`userEvents`, `2fa log` -- but a Singer stream name becomes a SQL table name, so it is
mapped the way dlt's `snake_case` naming convention maps it: the target gets the table
a dlt pipeline of the same config would have created. Names that already are lower-case
snake_case (every seed's) stay as they are.
"""

from __future__ import annotations

import re

_NON_ALPHANUMERIC = re.compile(r"[^a-zA-Z\d_]+")
_UNDERSCORES = re.compile("__+")
_LEADING_DIGITS = re.compile(r"^\d+")
_BREAK_1 = re.compile("([^_])([A-Z][a-z]+)")
_BREAK_2 = re.compile("([a-z0-9])([A-Z])")
_REDUCE = str.maketrans("+-*@|", "x_xal")


def stream_name(name: str) -> str:
    """dlt's snake_case of `name` (dlt 1.x `snake_case.NamingConvention`, without the
    destination's length limit): `-` and other symbols become `_`, camelCase breaks
    into words, lower case, a leading digit gets a `_`, trailing `_` become `x`."""
    text = _NON_ALPHANUMERIC.sub("_", name.strip().translate(_REDUCE))
    text = _BREAK_2.sub(r"\1_\2", _BREAK_1.sub(r"\1_\2", text)).lower()
    if _LEADING_DIGITS.match(text):
        text = "_" + text
    stripped = text.rstrip("_")
    text = stripped + "x" * (len(text) - len(stripped))
    return _UNDERSCORES.sub("_", text)

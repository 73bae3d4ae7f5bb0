"""Validation of `client.auth` and `endpoint.auth` against the authenticator registry.

What each type requires, accepts, aliases and restricts is declared by its class in
`tap_analytics.auth`; this module only reads those declarations, so a new type is
validated by being registered. Every problem is one line naming the setting.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from tap_analytics.auth import AUTH_TYPES, DEFAULT_TYPE, AuthType, auth_type
from tap_analytics.config.urls import validate_base_url

#: RFC 9110 token characters: what a header or cookie name may hold.
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: RFC 6265 cookie-octets: what a cookie value may hold unquoted.
COOKIE_VALUE = re.compile(r"^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$")


def _known_types() -> str:
    return ", ".join(sorted(AUTH_TYPES))


def _closest(name: str, candidates: list[str]) -> str | None:
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return found[0] if found else None


def validate_auth(auth: Any, where: str = "client.auth", *, allow_insecure: bool = False) -> list[str]:
    """Problems in one auth setting (`client.auth` or a resource's `endpoint.auth`)."""
    if auth is None:
        return []
    if isinstance(auth, str):
        if auth in AUTH_TYPES and auth != "none":
            required = ", ".join(f'"{name}": ...' for name in AUTH_TYPES[auth].REQUIRED)
            return [
                f"{where}: {auth!r} alone is dlt's shorthand for credentials read from its "
                f'secrets store, which the tap has none of: write {{"type": "{auth}", {required}}}'
            ]
        return [f"{where}: must be an object with a type (one of {_known_types()}), got {auth!r}"]
    if not isinstance(auth, Mapping):
        return [f"{where}: must be an object with a type (one of {_known_types()})"]
    kind = auth_type(auth)
    if not isinstance(kind, str) or kind not in AUTH_TYPES:
        close = _closest(str(kind), list(AUTH_TYPES))
        hint = f"did you mean {close!r}? " if close else ""
        return [f"{where}.type: unknown auth type {kind!r}; {hint}use one of {_known_types()}"]
    cls = AUTH_TYPES[kind]
    shorthand = (
        " (an auth without a type is dlt's bearer shorthand)"
        if kind == DEFAULT_TYPE and auth.get("type") is None else ""
    )
    errors = [
        f"{where}.{name}: required for auth type {kind!r}{shorthand}"
        for name in cls.REQUIRED
        if not _present(auth, name, cls)
    ]
    errors += _unknown_keys(auth, where, kind, cls)
    errors += _values(auth, where, cls, allow_insecure=allow_insecure)
    return errors


def _present(auth: Mapping[str, Any], name: str, cls: type[AuthType]) -> bool:
    names = [name, *(alias for alias, target in cls.ALIASES.items() if target == name)]
    for key in names:
        value = auth.get(key)
        if not isinstance(value, str):
            if value is not None:
                return True  # there, but of the wrong type: `_values` says so
        elif value.strip() or key in cls.MAY_BE_EMPTY:
            return True
    return False


def _unknown_keys(auth: Mapping[str, Any], where: str, kind: str, cls: type[AuthType]) -> list[str]:
    known = ["type", *cls.REQUIRED, *cls.OPTIONAL]
    errors = []
    for name in auth:
        if name in known:
            continue
        owners = sorted(t for t, other in AUTH_TYPES.items() if name in (*other.REQUIRED, *other.OPTIONAL))
        if owners and auth[name] in (None, ""):
            continue  # an unset setting of another type (Meltano passes empty ones on)
        close = _closest(str(name), known)
        if close:
            hint = f"did you mean {close!r}?"
        elif owners:
            hint = f"it is a setting of {', '.join(owners)}, not of {kind!r}"
        else:
            hint = f"known: {', '.join(sorted(known))}"
        errors.append(f"{where}.{name}: not a setting of auth type {kind!r}; {hint}")
    return errors


def _values(
    auth: Mapping[str, Any], where: str, cls: type[AuthType], *, allow_insecure: bool
) -> list[str]:
    errors = []
    for name in (*cls.REQUIRED, *cls.OPTIONAL):
        value = auth.get(name)
        if value is None or name in SHAPED:
            continue
        if not isinstance(value, str):
            errors.append(f"{where}.{name}: must be a string")
        elif name in cls.CHOICES and value not in cls.CHOICES[name]:
            errors.append(f"{where}.{name}: must be one of {', '.join(cls.CHOICES[name])}, "
                          f"got {value!r}")
        elif name in cls.URLS and (
            e := validate_base_url(value, f"{where}.{name}", allow_insecure=allow_insecure)
        ) is not None:
            errors.append(e)
    for name, check in SHAPED.items():
        if name in (*cls.REQUIRED, *cls.OPTIONAL) and auth.get(name) is not None:
            errors += check(auth[name], f"{where}.{name}")
    if cls.type_name == "api_key":
        errors += _api_key(auth, where)
    return errors


def _api_key(auth: Mapping[str, Any], where: str) -> list[str]:
    """A key name the header or cookie can carry, a value that needs no quoting (a
    value is never echoed: it is a secret)."""
    name, key, location = auth.get("name"), auth.get("api_key"), auth.get("location") or "header"
    errors = []
    if isinstance(name, str) and location in ("header", "cookie") and not TOKEN.match(name):
        errors.append(f"{where}.name: {name!r} cannot be a {location} name (letters, digits, "
                      "and !#$%&'*+.^_`|~- only)")
    if isinstance(key, str) and (
        (location == "cookie" and not COOKIE_VALUE.match(key))
        or (location == "header" and ("\r" in key or "\n" in key))
    ):
        errors.append(f"{where}.api_key: holds characters a {location} cannot carry "
                      "(quotes, spaces, commas, semicolons, backslashes or line breaks)")
    return errors


def _form_data(value: Any, where: str) -> list[str]:
    scalar = str | int | float | bool
    if not isinstance(value, Mapping) or not all(
        isinstance(v, scalar) or (isinstance(v, list) and all(isinstance(x, scalar) for x in v))
        for v in value.values()
    ):
        return [f"{where}: must be an object of form fields (strings, numbers, or lists of them)"]
    return []


def _positive_int(value: Any, where: str) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return [f"{where}: must be a whole number of seconds > 0, got {json.dumps(value)}"]
    return []


#: Settings whose value is not a string, and their checks.
SHAPED = {"access_token_request_data": _form_data, "default_token_expiration": _positive_int}


def endpoint_auth(
    endpoint: Mapping[str, Any], where: str, *, allow_insecure: bool = False
) -> tuple[bool, Mapping[str, Any] | None, list[str]]:
    """A resource's own `endpoint.auth`: (overrides client.auth?, the auth, errors).

    As in dlt, its presence overrides `client.auth`, and `null` means no credentials."""
    if "auth" not in endpoint:
        return False, None, []
    auth = endpoint["auth"]
    errors = validate_auth(auth, f"{where}.endpoint.auth", allow_insecure=allow_insecure)
    if errors:
        return False, None, errors
    return True, (dict(auth) if isinstance(auth, Mapping) else None), []

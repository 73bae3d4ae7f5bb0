"""The five seed configs exactly as the seeds write them, and the nearest form dlt 1.31 accepts.

`as_written` starts from the integration suite's builders (tests/integration/seeds.py) and takes
out what those add from the seeds' prose, so the dict is the seed's `rest_api_source({...})`
dict itself (checked against ../shared/seeds/*.txt by `parse_seed_text`).

dlt 1.31 rejects all five as written (tests/dlt_parity/test_seed_parity.py shows where):
seeds 000-002 use an auth type dlt does not have, 003 gives a page_number paginator a page size
dlt's has no key for, 004 puts an `error_handler` on its endpoints. `dlt_form` makes the smallest
edit that lets dlt run each one (listed in `DLT_EDITS`), so the tap's records for the seed as
written can be compared with dlt's records for the same API.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path
from typing import Any

from sandbox import SandboxServer
from tests.integration.seeds import APIS, seed_config

#: api -> the seed file's number.
SEED_NUMBERS = dict(zip(APIS, ("000", "001", "002", "003", "004"), strict=True))
#: Where the seed texts live: ../shared/seeds beside the worktree.
SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"

#: What tests/integration/seeds.py adds that the seed's dict does not contain: the retry policy
#: the seeds state in prose (000, 001, 003) or in a separate snippet (002, on the endpoints).
PROSE_ONLY: dict[str, tuple[str, ...]] = {
    "devplatform": ("client.error_handler",),
    "generic": ("client.error_handler",),
    "helpdesk": ("resources[*].endpoint.error_handler",),
    "timetracking": ("client.error_handler",),
    "statuspage": (),
}

#: The edit dlt needs, per seed, and why.
DLT_EDITS: dict[str, str] = {
    "devplatform": "auth type oauth2 -> oauth2_client_credentials, token_url -> access_token_url "
    "(dlt has no `oauth2` type and no `token_url` key)",
    "generic": "as devplatform",
    "helpdesk": "as devplatform, and the refresh-token grant as access_token_request_data "
    "{grant_type: refresh_token, refresh_token} (dlt's body is client_id, client_secret, "
    "grant_type=client_credentials updated with that dict)",
    "timetracking": "events' page_number paginator: drop limit/limit_param (not keys of dlt's "
    "page_number), send per_page=100 as an endpoint param, and base_page 1 (dlt's default is 0; "
    "the sandbox's pages are 1-based)",
    "statuspage": "drop the endpoints' error_handler (not a dlt key; dlt retries 429/5xx through "
    "its session, configured by RUNTIME__REQUEST_* settings)",
}


def as_written(api: str, srv: SandboxServer) -> dict[str, Any]:
    """Seed `api`'s dict as the seed writes it, pointed at `srv` with its current credentials."""
    return as_written_at(api, srv.api_url(api), srv.credentials[api])


def as_written_at(api: str, base_url: str, creds: dict[str, str]) -> dict[str, Any]:
    """Seed `api`'s dict as the seed writes it, with `base_url` and the secrets `creds`."""
    config = seed_config(api, base_url, creds)
    for where in PROSE_ONLY[api]:
        if where == "client.error_handler":
            del config["client"]["error_handler"]
        else:
            for resource in config["resources"]:
                del resource["endpoint"]["error_handler"]
    return config


def to_dlt_form(api: str, seed: dict[str, Any]) -> dict[str, Any]:
    """The seed config `seed` (of `api`) with the smallest edit dlt 1.31 accepts (`DLT_EDITS`)."""
    config = copy.deepcopy(seed)
    auth = config["client"]["auth"]
    if auth.get("type") == "oauth2":
        new: dict[str, Any] = {
            "type": "oauth2_client_credentials",
            "client_id": auth["client_id"],
            "client_secret": auth["client_secret"],
            "access_token_url": auth["token_url"],
        }
        if "refresh_token" in auth:
            new["access_token_request_data"] = {
                "grant_type": "refresh_token",
                "refresh_token": auth["refresh_token"],
            }
        config["client"]["auth"] = new
    for resource in config["resources"]:
        endpoint = resource["endpoint"]
        endpoint.pop("error_handler", None)
        paginator = endpoint.get("paginator")
        if isinstance(paginator, dict) and paginator.get("type") == "page_number":
            limit = paginator.pop("limit", None)
            limit_param = paginator.pop("limit_param", None)
            if limit is not None:
                endpoint.setdefault("params", {})[limit_param or "per_page"] = limit
            paginator["base_page"] = 1
    return config


def dlt_form(api: str, srv: SandboxServer) -> dict[str, Any]:
    """`to_dlt_form` of the seed as written, against `srv` with its current credentials."""
    return to_dlt_form(api, as_written(api, srv))


# ------------------------------------------------------------------------- the seed texts
_SECRET = re.compile(r"""dlt\.secrets\[\s*["']([^"']+)["']\s*\]""")


def seed_text_path(api: str) -> Path | None:
    """The seed file of `api` in ../shared/seeds, or None when the texts are not beside the repo."""
    found = sorted(SEEDS_DIR.glob(f"{SEED_NUMBERS[api]}_*.txt")) if SEEDS_DIR.is_dir() else []
    return found[0] if found else None


def parse_seed_text(text: str) -> dict[str, Any]:
    """The dict a seed passes to `rest_api_source(...)`, with `dlt.secrets["x"]` as "<secret:x>".

    The seeds' blocks are Python with JavaScript-style `//` comment lines, which are dropped."""
    start = text.index("rest_api_source(") + len("rest_api_source(")
    end = text.index("\n})", start) + 2
    body = "\n".join(line for line in text[start:end].splitlines() if not line.strip().startswith("//"))
    return ast.literal_eval(_SECRET.sub(lambda m: repr(f"<secret:{m.group(1)}>"), body))

"""Local fake of the five analytics APIs and the ``forum`` API, for tap-analytics' tests, demo and benchmarks.

Never imported by the tap itself. Standard library only, deterministic data::

    from sandbox import SandboxServer

    with SandboxServer(records=100) as srv:
        base_url = srv.api_url("helpdesk")       # http://127.0.0.1:PORT/helpdesk
        creds = srv.credentials["helpdesk"]      # client_id, client_secret, refresh_token
        srv.inject("/tickets", [503, "drop"])    # next two ticket requests fail
        srv.mutate("helpdesk/tickets", add=5, update=3)
        srv.configure(forum_auth="basic")        # the forum (srv.api_url("forum")): every dlt paginator
        srv.mutate("forum/posts", delete=2)

Run standalone with ``python -m sandbox --port 8765``.
"""

from .data import APIS, RESOURCE_KEYS
from .forum import FORUM_AUTH_MODES
from .forum_paging import STYLES as FORUM_STYLES
from .server import ALL_APIS, DEFAULT_FAIL_STATUSES, DEFAULT_RECORDS, FAULT_KINDS, SandboxServer

__all__ = [
    "ALL_APIS",
    "APIS",
    "DEFAULT_FAIL_STATUSES",
    "DEFAULT_RECORDS",
    "FAULT_KINDS",
    "FORUM_AUTH_MODES",
    "FORUM_STYLES",
    "RESOURCE_KEYS",
    "SandboxServer",
]

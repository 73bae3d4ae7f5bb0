"""Raw sequential baseline: one ``requests.Session`` + ``orjson`` loop over an endpoint's pages.

Run as a child process by ``bench.py``. It is the floor any sequential client pays: one request at
a time, the body decoded with orjson, each record written to stdout as one JSON line. Paging stops
at an empty page, at the announced total, or (without a total) at a page shorter than the limit.
With ``--token-url`` it first fetches one OAuth2 client-credentials access token (form body), as
any client of such an API must, and sends it as a bearer token on every page. With ``--children``
(a URL with ``{id}``, run by ``fanout.py``) it then reads each record's children, one request per
record, one after another, writing each child with its parent's id as ``_<name>_id``.

    python benchmarks/raw_client.py URL --paging offset --limit 100 --header "Authorization: Bearer T"
    python benchmarks/raw_client.py URL --token-url URL/oauth/token --client-id ID --client-secret S
    python benchmarks/raw_client.py URL/offset/posts --children "URL/posts/{id}/comments?limit=100"
"""

from __future__ import annotations

import argparse
import sys

import orjson
import requests


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--paging", choices=("offset", "page"), default="offset")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--header", action="append", default=[], metavar="NAME: VALUE")
    p.add_argument("--data-key", default="data")
    p.add_argument("--token-url", help="OAuth2 token endpoint: fetch one client-credentials token first")
    p.add_argument("--client-id", default="")
    p.add_argument("--client-secret", default="")
    p.add_argument(
        "--no-trust-env",
        action="store_true",
        help="skip requests' per-request environment lookups (proxies, CA bundle): a leaner floor",
    )
    p.add_argument("--children", metavar="URL", help="each record's children: a URL with {id}")
    p.add_argument("--parent-name", default="posts", help="the parent's name in _<name>_id")
    args = p.parse_args(argv)

    session = requests.Session()
    session.trust_env = not args.no_trust_env
    session.headers["Accept"] = "application/json"
    for header in args.header:
        name, _, value = header.partition(":")
        session.headers[name.strip()] = value.strip()
    if args.token_url:
        grant = {"grant_type": "client_credentials", "client_id": args.client_id,
                 "client_secret": args.client_secret}
        token = session.post(args.token_url, data=grant, timeout=60)
        token.raise_for_status()
        session.headers["Authorization"] = f"Bearer {orjson.loads(token.content)['access_token']}"

    out = sys.stdout.buffer
    dumps = orjson.dumps
    limit = args.limit
    position = 0 if args.paging == "offset" else 1
    fetched = 0
    parent_ids: list[object] = []
    while True:
        if args.paging == "offset":
            params = {"offset": position, "limit": limit}
        else:
            params = {"page": position, "per_page": limit}
        response = session.get(args.url, params=params, timeout=60)
        response.raise_for_status()
        body = orjson.loads(response.content)
        records = body[args.data_key]
        for record in records:
            out.write(dumps(record))
            out.write(b"\n")
        if args.children:
            parent_ids += [record["id"] for record in records]
        count = len(records)
        fetched += count
        position += count if args.paging == "offset" else 1
        total = body.get("total")
        if count == 0:
            break
        if total is not None:
            # offset paging announces records, page paging (as dlt reads it) pages
            if (fetched if args.paging == "offset" else position - 1) >= total:
                break
        elif count < limit:
            break
    parent_key = f"_{args.parent_name}_id"
    for parent_id in parent_ids:
        response = session.get(args.children.format(id=parent_id), timeout=60)
        response.raise_for_status()
        for record in orjson.loads(response.content)[args.data_key]:
            record[parent_key] = parent_id
            out.write(dumps(record))
            out.write(b"\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How fast the sandbox serves 500-row pages: the first page of a query (computing the result) and the
following pages (sliced from the cached result). Times are measured in-process through the WSGI app
(what the server spends: routing, slicing, JSON, ETag) and over real HTTP on loopback (adding the
socket and the client's JSON parsing).

    python benchmarks/sandbox_bench.py                 # scale 30
    python benchmarks/sandbox_bench.py --scale 7 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from urllib.parse import urlsplit

import requests
from werkzeug.test import Client

from sheetsync.sandbox.server import SandboxOptions, start_sandbox

QUERIES = (
    ("products", {}),
    ("invoices", {"Statuses": "1,2,3,4,5,7"}),
    ("customerPricing", {"CustomerIDs": ",".join(str(c) for c in range(1, 61))}),
    ("arAging", {}),
)


def http_ms(session: requests.Session, url: str, headers: dict, params: dict) -> float:
    started = time.perf_counter()
    response = session.get(url, params=params, headers=headers, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def wsgi_ms(client: Client, path: str, headers: dict, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(path, query_string=params, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.data[:200]
    return elapsed


def bench_query(sb, session: requests.Session, endpoint: str, params: dict, repeats: int) -> str:
    url, headers = f"{sb.info.kss}/{endpoint}", {"x-api-key": sb.info.keys["employee"]}
    client, path = Client(sb.app), urlsplit(url).path
    firsts, wsgi, http = [], [], []
    for _ in range(repeats):
        sb.advance(0)  # clears the result cache without changing the data
        firsts.append(wsgi_ms(client, path, headers, {**params, "Page": 1, "PageSize": 500}))
        wsgi += [wsgi_ms(client, path, headers, {**params, "Page": p, "PageSize": 500}) for p in (2, 1, 2)]
        http += [http_ms(session, url, headers, {**params, "Page": p, "PageSize": 500}) for p in (2, 1, 2)]
    size = len(client.get(path, query_string={**params, "PageSize": 500}, headers=headers).data)
    cells = (statistics.median(firsts), statistics.median(wsgi), statistics.median(http))
    return f"| {endpoint} | {size / 1000:.0f} | " + " | ".join(f"{c:.1f}" for c in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"command: python benchmarks/sandbox_bench.py --scale {args.scale} --repeats {args.repeats}")
    started = time.perf_counter()
    with start_sandbox(options=SandboxOptions(scale=args.scale)) as sb:
        print(f"sandbox scale {args.scale} started in {time.perf_counter() - started:.2f}s")
        print("| query (500-row pages) | page KB | first page ms (computes) | later pages ms | over HTTP ms |")
        print("|---|---|---|---|---|")
        with requests.Session() as session:
            for endpoint, params in QUERIES:
                print(bench_query(sb, session, endpoint, params, args.repeats))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Client CPU per page: parsing a KSS answer and typing its records (apis/records.py).

Fetches one 500-row page of a few endpoints from a `sheetsync sandbox serve` process, then parses and
types each body again and again in this process, and prints the medians.

    python benchmarks/typing_bench.py                 # scale 7, 7 repeats
    python benchmarks/typing_bench.py --scale 30 --repeats 15
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests
from common import cores_note, sandbox

from sheetsync.apis.records import loads, type_record

QUERIES = {
    "customerPricing": "customerPricing?CustomerIDs=" + ",".join(map(str, range(1, 31))),
    "invoices": "invoices",
    "arAging": "arAging",
    "products": "products",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"command: python benchmarks/typing_bench.py --scale {args.scale} --repeats {args.repeats}")
    print(cores_note())
    print("| endpoint | rows | KB | parse ms | typing ms |")
    print("|---|---|---|---|---|")
    with sandbox(args.scale) as sb:
        for endpoint, query in QUERIES.items():
            separator = "&" if "?" in query else "?"
            url = f"{sb.kss}/{query}{separator}PageSize=500&Page=1"
            body = requests.get(url, headers={"x-api-key": sb.keys["employee"]}, timeout=60).content
            parse, typing = [], []
            for _ in range(args.repeats):
                started = time.perf_counter()
                rows = loads(body)["Data"]
                parsed = time.perf_counter()
                [type_record(row, endpoint) for row in rows]
                parse.append(parsed - started)
                typing.append(time.perf_counter() - parsed)
            print(
                f"| {endpoint} | {len(rows)} | {len(body) // 1024} | {statistics.median(parse) * 1000:.1f} | "
                f"{statistics.median(typing) * 1000:.1f} |"
            )


if __name__ == "__main__":
    main()

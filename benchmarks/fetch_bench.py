"""The fetch phase against a sandbox with added latency: wall time / critical path, and requests / minimum.

For each built-in report (demo parameters) and a price list of N customers, at one scale and latency:

- wall: first request sent to last needed answer received (the fetcher's own clock);
- critical path = latency x sum over dependency levels of max(R, P): R is the most requests in a row
  any query of the level needs (a query over an ID list: page 1, then all its other pages at once, so
  min(pages, 2); any other query: each page waits for the one before, so its pages), and
  P = ceil(pages of the level / concurrency limit);
- requests: what the sandbox received, against the minimum (one per 500 rows, at least one per query).

    python benchmarks/fetch_bench.py                      # scale 7, 150 ms, 60-customer price list
    python benchmarks/fetch_bench.py --scale 15 --latency-ms 50 --concurrency 4

The last column is the same fetch one request at a time (concurrency 1), for the speed-up.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

from common import BUILT_IN, connections, cores_note, report_params, sandbox

from sheetsync.fetch import Fetcher, FetchResult, client_caller


def critical_path(result: FetchResult, concurrency: int) -> tuple[int, list[str]]:
    """Rounds of latency on the critical path, and one line of terms per dependency level."""
    by_level = defaultdict(list)
    for trace in result.traces:
        by_level[trace.level].append(trace)
    total, terms = 0, []
    for level in sorted(by_level):
        traces = by_level[level]
        sequential = max(t.rounds for t in traces)
        pages = sum(t.pages for t in traces)
        spread = math.ceil(pages / concurrency)
        total += max(sequential, spread)
        longest = max(traces, key=lambda t: t.rounds)
        terms.append(
            f"level {level}: max(R={sequential} [{longest.endpoint}: {longest.pages} pages, "
            f"predicted {longest.predicted}], P=ceil({pages}/{concurrency})={spread}) = {max(sequential, spread)}"
        )
    return total, terms


def measure(sb, name: str, customers: int | None, concurrency: int, latency_ms: int) -> dict:
    definition, params = report_params(name, sb, customers)
    conn = connections(sb)
    assert conn.kss is not None  # the client and its ETag store are built before the first request
    before = sb.requests_received()
    result = Fetcher(client_caller(conn), concurrency=concurrency, progress=False).run(definition, params)
    received = sb.requests_received() - before
    wall = max(t.finished for t in result.traces) - min(t.started for t in result.traces)
    rounds, terms = critical_path(result, concurrency)
    critical = rounds * latency_ms / 1000
    label = f"{name} ({customers} customers)" if customers else name
    return {
        "label": label,
        "wall": wall,
        "critical": critical,
        "rounds": rounds,
        "terms": terms,
        "received": received,
        "minimum": result.minimum_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=7)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--customers", type=int, default=60, help="customers in the extra price list")
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-request-at-a-time comparison")
    args = parser.parse_args()
    print(
        f"command: python benchmarks/fetch_bench.py --scale {args.scale} --latency-ms {args.latency_ms} "
        f"--concurrency {args.concurrency} --customers {args.customers}"
    )
    print(cores_note())
    print(f"concurrency limit: {args.concurrency} requests in flight; latency {args.latency_ms} ms per request")
    print(
        "critical path = latency x sum over levels of max(R, P); R = fewest requests in a row, P = ceil(pages / limit)"
    )
    rows = []
    with sandbox(args.scale, args.latency_ms) as sb:
        cases = [(name, None) for name in BUILT_IN] + [("price-list", args.customers)]
        for name, customers in cases:
            row = measure(sb, name, customers, args.concurrency, args.latency_ms)
            if not args.no_sequential:
                row["sequential"] = measure(sb, name, customers, 1, args.latency_ms)["wall"]
            rows.append(row)
            print(f"{row['label']}: " + "; ".join(row["terms"]))
    print(
        "| report | wall s | critical path s (rounds) | wall / critical | requests | minimum | ratio | 1 at a time s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['label']} | {r['wall']:.2f} | {r['critical']:.2f} ({r['rounds']}) | "
            f"{r['wall'] / r['critical'] if r['critical'] else float('nan'):.2f} | {r['received']} | {r['minimum']} | "
            f"{r['received'] / r['minimum']:.2f} | {r.get('sequential', float('nan')):.2f} |"
        )


if __name__ == "__main__":
    main()

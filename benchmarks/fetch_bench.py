"""The fetch phase against a sandbox with added latency: wall time / critical path, and requests / minimum.

For each built-in report (demo parameters) and a price list of N customers, at one scale and latency:

- wall: first request sent to last needed answer received (the fetcher's own clock);
- critical path = latency x sum over dependency levels of max(R, P): R is the most requests in a row
  any query of the level needs (a query over an ID list: page 1, then all its other pages at once, so
  min(pages, 2); any other query: each page waits for the one before, so its pages), and
  P = ceil(pages of the level / concurrency limit);
- requests: what the sandbox received, against the minimum (one per 500 rows, at least one per query).

    python benchmarks/fetch_bench.py                      # scale 7, 150 ms, 60-customer price list
    python benchmarks/fetch_bench.py --repeats 5 --no-sequential   # median and spread of 5 fetches
    python benchmarks/fetch_bench.py --scale 15 --latency-ms 50 --concurrency 4

The last column is the same fetch one request at a time (concurrency 1), for the speed-up.
"""

from __future__ import annotations

import argparse
import math
import statistics
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
    parser.add_argument("--repeats", type=int, default=1, help="fetches per case: median and spread")
    args = parser.parse_args()
    print(
        f"command: python benchmarks/fetch_bench.py --scale {args.scale} --latency-ms {args.latency_ms} "
        f"--concurrency {args.concurrency} --customers {args.customers} --repeats {args.repeats}"
        + (" --no-sequential" if args.no_sequential else "")
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
            runs = [measure(sb, name, customers, args.concurrency, args.latency_ms) for _ in range(args.repeats)]
            row = dict(runs[0])
            row["walls"] = [r["wall"] for r in runs]
            row["received"] = max(r["received"] for r in runs)
            if not args.no_sequential:
                row["sequential"] = measure(sb, name, customers, 1, args.latency_ms)["wall"]
            rows.append(row)
            print(f"{row['label']}: " + "; ".join(row["terms"]))
    print(f"wall: median of {args.repeats} (min-max); requests: the most any of them sent")
    print(
        "| report | wall s | critical path s (rounds) | wall / critical | requests | minimum | ratio | 1 at a time s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        walls, critical = r["walls"], r["critical"]
        ratios = [w / critical if critical else float("nan") for w in walls]
        print(
            f"| {r['label']} | {_spread(walls)} | {critical:.2f} ({r['rounds']}) | {_spread(ratios)} | "
            f"{r['received']} | {r['minimum']} | {r['received'] / r['minimum']:.2f} | "
            f"{r.get('sequential', float('nan')):.2f} |"
        )


def _spread(values: list[float]) -> str:
    """ "1.23" for one value, "1.23 (1.10-1.40)" for several: median (min-max)."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()

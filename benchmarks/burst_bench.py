"""Bursting: ar-aging with burst=true (one workbook per customer), records -> workbooks (`report.render`).

Fetches once from a `sheetsync sandbox serve` process, then times `render` on those records, with
each frame grouped by the burst value once (what sheetsync does) and, with `--scan`, beside the
earlier way that scanned every row of every frame once per customer.

    python benchmarks/burst_bench.py                  # scale 15, 2 repeats
    python benchmarks/burst_bench.py --scale 7 --repeats 3 --scan
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from common import connections, cores_note, sandbox

from sheetsync import report
from sheetsync.definition import find_definition, resolve_params
from sheetsync.fetch import Fetcher, client_caller
from sheetsync.transform import match_key


def scan_per_value(frame: pd.DataFrame, column: str) -> Callable[[Any], pd.DataFrame]:
    """The earlier lookup: every row compared with the value, once per burst value."""

    def rows_of(key: Any) -> pd.DataFrame:
        mask = [match_key(v) == key for v in frame[column]]
        return frame[pd.Series(mask, index=frame.index, dtype=bool)].reset_index(drop=True)

    return rows_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scan", action="store_true", help="also time the earlier per-customer scan")
    args = parser.parse_args()
    command = f"python benchmarks/burst_bench.py --scale {args.scale} --repeats {args.repeats}"
    print(f"command: {command}" + (" --scan" if args.scan else ""))
    print(cores_note())
    definition = find_definition("ar-aging")
    params = resolve_params(definition, {"burst": "true"})
    with sandbox(args.scale) as sb:
        records = Fetcher(client_caller(connections(sb)), progress=False).run(definition, params).records
    lookups = {"grouped once": report._by_value}
    if args.scan:
        lookups["scan per customer"] = scan_per_value
    for label, lookup in lookups.items():
        report._by_value = lookup
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            workbooks, _ = report.render(definition, params, records, report.documented_fields(definition))
            seconds.append(time.perf_counter() - started)
        each = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{label}: {len(workbooks)} workbooks, render median {statistics.median(seconds):.2f} s ({each})")


if __name__ == "__main__":
    main()

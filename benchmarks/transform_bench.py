"""The transform stage alone: a report's fetched records through its steps to frames (median of repeats).

The records are fetched once from `sheetsync sandbox serve` (price list of N customers, or a built-in
report's demo parameters); only `build_frames` is timed, with the garbage collector's share.

    python benchmarks/transform_bench.py                       # price list of 100 customers, scale 15
    python benchmarks/transform_bench.py --report ar-aging --scale 30
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from common import connections, cores_note, report_params, sandbox

from sheetsync.fetch import Fetcher, client_caller
from sheetsync.report import documented_fields
from sheetsync.transform import build_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", default="price-list")
    parser.add_argument("--customers", type=int, default=100, help="price-list only")
    parser.add_argument("--scale", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() the fetched records first")
    args = parser.parse_args()
    customers = args.customers if args.report == "price-list" else None
    print(
        f"command: python benchmarks/transform_bench.py --report {args.report} --customers {args.customers} "
        f"--scale {args.scale} --repeats {args.repeats}{' --freeze' if args.freeze else ''}"
    )
    print(cores_note())
    with sandbox(args.scale) as sb:
        definition, params = report_params(args.report, sb, customers)
        records = Fetcher(client_caller(connections(sb)), progress=False).run(definition, params).records
    documented = documented_fields(definition)
    if args.freeze:
        gc.collect()
        gc.freeze()  # the records live as long as the run: the collector need not walk them
    print(f"records: {', '.join(f'{name} {len(rows):,}' for name, rows in records.items())}")
    seconds, gc_seconds = [], []
    for _ in range(args.repeats):
        gc.collect()
        spent = [0.0]
        started_gc = [0.0]

        def on_gc(phase: str, info: dict, spent: list[float] = spent, started_gc: list[float] = started_gc) -> None:
            if phase == "start":
                started_gc[0] = time.perf_counter()
            else:
                spent[0] += time.perf_counter() - started_gc[0]

        gc.callbacks.append(on_gc)
        started = time.perf_counter()
        frames = build_frames(definition, records, documented, [], context={"params": params})
        seconds.append(time.perf_counter() - started)
        gc.callbacks.remove(on_gc)
        gc_seconds.append(spent[0])
    rows = sum(len(frame) for frame in frames.values())
    median = statistics.median(seconds)
    print(f"build_frames: median {median:.2f} s ({', '.join(f'{s:.2f}' for s in seconds)}), {rows:,} frame rows")
    collecting = statistics.median(gc_seconds)
    print(f"garbage collection: median {collecting:.2f} s ({collecting / median:.0%} of build_frames)")


if __name__ == "__main__":
    main()

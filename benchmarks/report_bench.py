"""Each built-in report, end to end (fetch, transform, layout, xlsx file), at several sandbox scales.

Each run is a fresh process against `sheetsync sandbox serve --scale N` (its own process), with the
report's demo parameters resolved beforehand. Printed per run: wall seconds, peak resident memory of
the run's process (and what it added over the imports), requests the sandbox received against the
minimum (one per 500 rows, at least one per query), rows written, and milliseconds per 1,000 rows.

    python benchmarks/report_bench.py                         # scales 1, 7, 15, 30
    python benchmarks/report_bench.py --scales 1,7 --reports price-list
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BUILT_IN, ServedSandbox, connections, cores_note, peak_rss_mb, report_params, sandbox


def child(name: str, params_json: str, served_json: str) -> None:
    from sheetsync.definition import find_definition
    from sheetsync.fetch import Fetcher, client_caller
    from sheetsync.report import run_report
    from sheetsync.sinks.xlsx import write_workbook

    sb = ServedSandbox(**json.loads(served_json))
    definition = find_definition(name)
    params = _decode(json.loads(params_json))
    conn = connections(sb)
    imported = peak_rss_mb()
    started = time.perf_counter()
    fetcher = Fetcher(client_caller(conn), progress=False)
    result = run_report(definition, params, conn, fetcher=fetcher)
    with tempfile.TemporaryDirectory() as tmp:
        for number, workbook in enumerate(result.workbooks):
            write_workbook(workbook, Path(tmp) / f"{number}.xlsx")
    wall = time.perf_counter() - started
    minimum = sum(max(1, -(-t.rows // 500)) for t in fetcher.traces())
    peak = peak_rss_mb()
    rows = result.summary["rows"]
    print(json.dumps({"wall": wall, "peak": peak, "added": peak - imported, "minimum": minimum, "rows": rows}))


def _encode(params: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}


def _decode(params: dict) -> dict:
    from datetime import date

    out = {}
    for key, value in params.items():
        try:
            out[key] = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else value
        except ValueError:
            out[key] = value
    return out


def run_one(sb: ServedSandbox, name: str) -> dict:
    _, params = report_params(name, sb)
    before = sb.requests_received()
    served = json.dumps(
        {"kss": sb.kss, "kotis": sb.kotis, "kotis_stores": sb.kotis_stores, "keys": sb.keys, "latency_ms": 0}
    )
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, json.dumps(_encode(params), default=str), served],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["received"] = sb.requests_received() - before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,7,15,30")
    parser.add_argument("--reports", default=",".join(BUILT_IN))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"command: python benchmarks/report_bench.py --scales {args.scales} --reports {args.reports}")
    print(cores_note())
    print("| report | scale | rows | wall s | ms / 1k rows | peak RSS MB | MB over imports | requests | minimum |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in [int(s) for s in args.scales.split(",")]:
        with sandbox(scale) as sb:
            for name in args.reports.split(","):
                r = run_one(sb, name)
                per_k = 1000 * r["wall"] / max(1, r["rows"]) * 1000
                print(
                    f"| {name} | {scale} | {r['rows']:,} | {r['wall']:.2f} | {per_k:.1f} | {r['peak']:.0f} | "
                    f"{r['added']:.0f} | {r['received']} | {r['minimum']} ({r['received'] / r['minimum']:.2f}) |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

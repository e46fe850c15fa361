"""Benchmark the ar-aging report end to end at two sandbox scales: is a statement row as cheap at scale 30 as at 1?

Each scale runs in a fresh Python process: it starts the sandbox at that scale (not timed), fetches
every query of reports/ar-aging.yaml (all customers), renders the workbook (transforms and layout)
and writes it as one xlsx file. It reports the seconds of each stage and the cost per statement row
of rendering and of writing; the last lines compare the largest scale with the smallest.

    python benchmarks/ar_aging_bench.py                    # scales 1 and 30, 1 repeat
    python benchmarks/ar_aging_bench.py --scales 1,15,30 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def run_one(scale: int) -> dict[str, Any]:
    """One measurement, in this process."""
    from sheetsync.config import load_settings
    from sheetsync.connect import open_connections
    from sheetsync.definition import find_definition, resolve_params
    from sheetsync.fetch import Fetcher, client_caller
    from sheetsync.report import company_of, documented_fields, render
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox
    from sheetsync.sinks.xlsx import write_workbook

    definition = find_definition("ar-aging")
    params = resolve_params(definition, {})
    with start_sandbox(options=SandboxOptions(scale=scale, rate_limit=10**9)) as sandbox:
        environ = {"KSS_BASE_URL": sandbox.info.kss, "KSS_API_KEY": sandbox.info.keys["employee"]}
        with tempfile.TemporaryDirectory() as cache:
            settings = load_settings({**environ, "SHEETSYNC_CACHE_DIR": cache})
            with open_connections(settings) as connections:
                started = time.perf_counter()
                fetched = Fetcher(client_caller(connections), progress=False).run(definition, params)
                fetched_at = time.perf_counter()
                workbooks, _ = render(
                    definition,
                    params,
                    fetched.records,
                    documented_fields(definition),
                    environment="sandbox",
                    company=company_of(connections) or _placeholder(),
                )
                rendered_at = time.perf_counter()
                with tempfile.TemporaryDirectory() as out:
                    write_workbook(workbooks[0], Path(out) / "ar-aging.xlsx")
                written_at = time.perf_counter()
    tabs = [tab for tab in workbooks[0].tabs if tab.statement is not None]
    rows = sum(len(tab.rows) for tab in tabs)
    return {
        "scale": scale,
        "statements": len(tabs),
        "statement_rows": rows,
        "fetch_s": fetched_at - started,
        "render_s": rendered_at - fetched_at,
        "write_s": written_at - rendered_at,
    }


def _placeholder() -> Any:
    from sheetsync.config import PLACEHOLDER_COMPANY

    return PLACEHOLDER_COMPANY


def measure(scale: int) -> dict[str, Any]:
    """One measurement in a fresh process (no warm caches or grown heaps from an earlier scale)."""
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import ar_aging_bench as b; "
    code += f"print(json.dumps(b.run_one({scale})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,30", help="sandbox scales, comma-separated (default 1,30)")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per scale; medians are shown")
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    print(f"command: python benchmarks/ar_aging_bench.py --scales {args.scales} --repeats {args.repeats}")
    results: dict[int, list[dict[str, Any]]] = {scale: [] for scale in scales}
    for _ in range(args.repeats):
        for scale in scales:  # round-robin, so a busy moment hits every scale
            results[scale].append(measure(scale))
    print("| scale | statements | statement rows | fetch s | render s | write s | render us/row | write us/row |")
    print("|---|---|---|---|---|---|---|---|")
    per_row: dict[int, tuple[float, float]] = {}
    for scale in scales:
        runs = results[scale]
        rows = runs[0]["statement_rows"]
        med = {key: statistics.median(r[key] for r in runs) for key in ("fetch_s", "render_s", "write_s")}
        per_row[scale] = (med["render_s"] / rows * 1e6, med["write_s"] / rows * 1e6)
        print(
            f"| {scale} | {runs[0]['statements']:,} | {rows:,} | {med['fetch_s']:.2f} | {med['render_s']:.2f} "
            f"| {med['write_s']:.2f} | {per_row[scale][0]:.0f} | {per_row[scale][1]:.0f} |"
        )
    low, high = min(scales), max(scales)
    if low != high:
        render_ratio = per_row[high][0] / per_row[low][0]
        write_ratio = per_row[high][1] / per_row[low][1]
        both = sum(per_row[high]) / sum(per_row[low])
        print(f"cost per statement row, scale {high} / scale {low}: write {write_ratio:.2f}x, ", end="")
        print(f"render {render_ratio:.2f}x, render+write {both:.2f}x")


if __name__ == "__main__":
    main()

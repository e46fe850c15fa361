"""Benchmark the xlsx writer against openpyxl write-only mode, XlsxWriter constant_memory and pandas.

Each case runs in a fresh Python process that builds the same rows in memory, notes its peak
resident memory, writes the workbook, and reports the seconds taken and the extra peak memory.
Repeats run the cases round-robin (so a busy moment of a shared machine hits every case) and the
table shows medians, with ratios to openpyxl write-only.

    python benchmarks/xlsx_bench.py                       # 100,000 rows x 20 columns, 3 repeats
    python benchmarks/xlsx_bench.py --rows 20000 --repeats 1 --cases sheetsync,write-only,pandas
    python benchmarks/xlsx_bench.py --cases sheetsync,sheetsync-cells   # streamed rows vs openpyxl's cell writer
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

CASES = ("sheetsync", "sheetsync-cells", "write-only", "xlsxwriter", "pandas")
DEFAULT_CASES = ("sheetsync", "write-only", "xlsxwriter")
LIBRARIES = {
    "sheetsync": "sheetsync.sinks.xlsx_document",  # imports the writer and what it imports lazily (the About sheet)
    "sheetsync-cells": "sheetsync.sinks.xlsx_document",
    "write-only": "openpyxl",
    "xlsxwriter": "xlsxwriter",
    "pandas": "pandas",
}


def build_rows(n: int, seed: int = 7) -> tuple[list[Any], list[list[Any]]]:
    """20 columns of mixed typed values: text, ints, money, decimals, percent, dates, bools."""
    from sheetsync.model import Column, Format, Total

    rng = random.Random(seed)
    columns = [
        Column("Customer"),
        Column("Sales rep"),
        Column("Product"),
        Column("Brand"),
        Column("Category"),
        Column("SKU"),
        Column("Qty", Format.INTEGER, total=Total.SUM),
        Column("Cases", Format.INTEGER),
        Column("Units per case", Format.INTEGER),
        Column("Invoice ID", Format.INTEGER),
        Column("Price", Format.CURRENCY, total=Total.SUM),
        Column("Amount", Format.CURRENCY, total=Total.SUM),
        Column("Weight", Format.DECIMAL),
        Column("Volume", Format.DECIMAL),
        Column("Discount", Format.PERCENT),
        Column("Invoice date", Format.DATE),
        Column("Due date", Format.DATE),
        Column("Updated", Format.DATETIME),
        Column("Promo", Format.TEXT),
        Column("Days past due", Format.INTEGER, total=Total.AVERAGE),
    ]
    names = [f"Customer {i}" for i in range(500)]
    reps = [f"Rep {i}" for i in range(20)]
    products = [f"Product name number {i}" for i in range(2000)]
    day0 = date(2024, 1, 1)
    rows = []
    for i in range(n):
        invoice_day = day0 + timedelta(days=rng.randrange(365))
        rows.append(
            [
                rng.choice(names),
                rng.choice(reps),
                rng.choice(products),
                f"Brand {rng.randrange(80)}",
                f"Category {rng.randrange(30)}",
                f"SKU-{rng.randrange(10**6):06d}",
                rng.randrange(1, 500),
                rng.randrange(1, 40),
                rng.choice((6, 12, 24)),
                100000 + i,
                Decimal(rng.randrange(100, 100000)) / 100,
                Decimal(rng.randrange(100, 10**7)) / 100,
                Decimal(rng.randrange(1, 10**5)) / 1000,
                Decimal(rng.randrange(1, 10**5)) / 1000,
                Decimal(rng.randrange(0, 50)) / 100,
                invoice_day,
                invoice_day + timedelta(days=30),
                datetime(2024, 6, 1, rng.randrange(24), rng.randrange(60)),
                rng.choice(("", "Summer sale", "Clearance")),
                rng.randrange(0, 120),
            ]
        )
    return columns, rows


def run_sheetsync(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    from sheetsync.model import ConditionalRule, Tab, Validation, Workbook
    from sheetsync.sinks.xlsx import write_workbook

    tab = Tab(
        "Data",
        "data",
        "Benchmark",
        columns,
        rows,
        info=[("Rows", str(len(rows)))],
        rules=[ConditionalRule("Days past due", ">", 90, ("Days past due", "Amount"))],
        validations=[Validation("Amount", "positive_decimal")],
        note="benchmark",
    )
    write_workbook(Workbook("bench", [tab]), path)


def run_sheetsync_cells(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    """sheetsync with its data rows through openpyxl's cell writer (xlsx_stream.py switched off)."""
    from sheetsync.sinks import xlsx_stream

    xlsx_stream.installed = lambda ws: False  # type: ignore[assignment]
    run_sheetsync(columns, rows, path)


def run_write_only(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("Data")
    ws.append([c.header for c in columns])
    for row in rows:
        ws.append(row)
    book.save(path)


def run_xlsxwriter(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_formulas": False}
    )
    ws = book.add_worksheet("Data")
    ws.write_row(0, 0, [c.header for c in columns])
    for number, row in enumerate(rows, start=1):
        ws.write_row(number, 0, row)
    book.close()


def run_pandas(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[c.header for c in columns])
    frame.to_excel(path, index=False, engine="openpyxl")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> float:
    """Reset the peak resident memory (Linux: VmHWM) and return the current resident MB."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return _status_mb("VmRSS")


def peak_mb() -> float:
    return _status_mb("VmHWM")


def child(case: str, n_rows: int) -> None:
    columns, rows = build_rows(n_rows)
    runners = {
        "sheetsync": run_sheetsync,
        "sheetsync-cells": run_sheetsync_cells,
        "write-only": run_write_only,
        "xlsxwriter": run_xlsxwriter,
        "pandas": run_pandas,
    }
    runner = runners[case]
    importlib.import_module(LIBRARIES[case])  # imported before the baseline: memory counts the writing only
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case}.xlsx"
        base = reset_peak()  # the rows are built: measure what writing them adds
        start = time.perf_counter()
        runner(columns, rows, path)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {"case": case, "seconds": seconds, "peak_mb": peak_mb() - base, "file_mb": path.stat().st_size / 2**20}
            )
        )


def run_case(case: str, n_rows: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, "--rows", str(n_rows)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES), help=f"any of {', '.join(CASES)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    cases = args.cases.split(",")
    print(f"command: python benchmarks/xlsx_bench.py --rows {args.rows} --repeats {args.repeats} --cases {args.cases}")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (shared: compare ratios)")
    runs: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    for _ in range(args.repeats):
        for case in cases:
            runs[case].append(run_case(case, args.rows))
    print(f"{args.rows:,} rows x 20 columns, median of {args.repeats}")
    print("| case | seconds (each run) | peak MB added | file MB | time vs write-only | memory vs write-only |")
    print("|---|---|---|---|---|---|")
    base = _medians(runs["write-only"]) if "write-only" in runs else None
    for case, results in runs.items():
        m = _medians(results)
        each = ", ".join(f"{r['seconds']:.1f}" for r in results)
        ratio_t = f"{m['seconds'] / base['seconds']:.2f}" if base else "-"
        ratio_m = f"{m['peak_mb'] / base['peak_mb']:.2f}" if base and base["peak_mb"] > 0 else "-"
        cells = f"{m['seconds']:.2f} ({each}) | {m['peak_mb']:.1f} | {m['file_mb']:.1f} | {ratio_t} | {ratio_m}"
        print(f"| {case} | {cells} |")
    if "sheetsync" in runs and "xlsxwriter" in runs:
        ratio = _medians(runs["sheetsync"])["seconds"] / _medians(runs["xlsxwriter"])["seconds"]
        print(f"sheetsync time vs XlsxWriter constant_memory: {ratio:.2f}")


def _medians(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


if __name__ == "__main__":
    main()

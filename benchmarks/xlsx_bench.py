"""Benchmark the xlsx writer against plain openpyxl write-only mode and pandas.

Each case runs in a fresh Python process that builds the same rows in memory, notes its peak
resident memory, writes the workbook, and reports the seconds taken and the extra peak memory.

    .venv/bin/python benchmarks/xlsx_bench.py            # 100,000 rows x 20 columns
    .venv/bin/python benchmarks/xlsx_bench.py --rows 20000 --cases sheetsync,write-only
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

CASES = ("sheetsync", "write-only", "pandas")


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


def run_write_only(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("Data")
    ws.append([c.header for c in columns])
    for row in rows:
        ws.append(row)
    book.save(path)


def run_pandas(columns: list[Any], rows: list[list[Any]], path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[c.header for c in columns])
    frame.to_excel(path, index=False, engine="openpyxl")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(case: str, n_rows: int) -> None:
    columns, rows = build_rows(n_rows)
    runner = {"sheetsync": run_sheetsync, "write-only": run_write_only, "pandas": run_pandas}[case]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{case}.xlsx"
        base = peak_mb()
        start = time.perf_counter()
        runner(columns, rows, path)
        seconds = time.perf_counter() - start
        print(
            json.dumps(
                {"case": case, "seconds": seconds, "peak_mb": peak_mb() - base, "file_mb": path.stat().st_size / 2**20}
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows)
        return
    results = {}
    for case in args.cases.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, "--rows", str(args.rows)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[case] = json.loads(out.strip().splitlines()[-1])
    base = results.get("write-only")
    print(f"{args.rows:,} rows x 20 columns")
    print(f"{'case':<12} {'seconds':>9} {'peak MB':>9} {'file MB':>8} {'time x':>7} {'memory x':>9}")
    for case, r in results.items():
        ratio_t = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
        ratio_m = f"{r['peak_mb'] / base['peak_mb']:.2f}" if base and base["peak_mb"] > 0 else "-"
        print(f"{case:<12} {r['seconds']:>9.2f} {r['peak_mb']:>9.1f} {r['file_mb']:>8.1f} {ratio_t:>7} {ratio_m:>9}")


if __name__ == "__main__":
    main()

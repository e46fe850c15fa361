"""Benchmark the text sanitiser (sinks/text.py) against the xlsx write it precedes.

Builds one tab of N rows x 6 mixed columns (text, ID, money, date, invoice number, link), times
`sanitize_workbook` for the xlsx and Google limits (median of repeats) and one xlsx write of the same tab.

    python benchmarks/sanitize_bench.py               # 100,000 rows, 3 repeats
    python benchmarks/sanitize_bench.py --rows 20000 --repeats 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from sheetsync.model import Column, Format, Link, Tab, Workbook
from sheetsync.sinks.text import GOOGLE, XLSX, sanitize_workbook
from sheetsync.sinks.xlsx import write_workbook


def workbook(rows: int) -> Workbook:
    data = [
        [f"Customer {i}", i, Decimal("1234.560000") + i, date(2026, 1, 1), f"INV-{i}", Link(f"https://x/{i}", "pdf")]
        for i in range(rows)
    ]
    columns = [
        Column("Name"),
        Column("ID", Format.ID),
        Column("Amount", Format.CURRENCY),
        Column("Date", Format.DATE),
        Column("Invoice"),
        Column("PDF"),
    ]
    return Workbook("bench", [Tab("T", "t", "t", columns, data)])


def seconds(action, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    book = workbook(args.rows)
    cells = args.rows * 6
    for limits in (XLSX, GOOGLE):
        took = seconds(lambda limits=limits: sanitize_workbook(book, limits), args.repeats)
        print(f"sanitise for {limits.sink:<14} {took:6.2f} s  ({cells / took / 1e6:.1f} M cells/s)")
    with tempfile.TemporaryDirectory() as folder:
        took = seconds(lambda: write_workbook(book, Path(folder) / "bench.xlsx"), 1)
    print(f"xlsx write (for scale)       {took:6.2f} s")


if __name__ == "__main__":
    main()

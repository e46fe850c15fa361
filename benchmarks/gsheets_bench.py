"""A Google Sheets refresh of ar-aging against the Sheets v4 double (tests/sheets_double.py): calls, bytes,
payload build time.

The report is fetched and laid out once (sandbox at the given scale, demo parameters); then the same
workbooks are written twice to one spreadsheet of the double: the first write creates the tabs, the
second is the refresh a schedule repeats (forced, as when the data changed), the third a refresh of
unchanged data, skipped after one read. The double validates every request against Google's
discovery document, so its own time is not Google's and is printed apart from the payload build
(rendering the tabs to RowData and requests, and encoding them as JSON, as the sink does).

    python benchmarks/gsheets_bench.py                 # ar-aging, scale 15
    python benchmarks/gsheets_bench.py --scale 7 --report price-list
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common import connections, cores_note, report_params, sandbox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.report import run_report
from sheetsync.sinks.gsheets import write_workbooks
from sheetsync.sinks.gsheets_render import format_requests, tab_rows

SHEET = "BENCH-SHEET"


def payload_build_seconds(workbooks: list) -> tuple[float, int]:
    """Seconds to render every tab's RowData and format requests and encode them; the encoded bytes."""
    started = time.perf_counter()
    tabs = [tab for workbook in workbooks for tab in workbook.tabs]
    by_name = {tab.name: tab for tab in tabs}
    payload = [{"rows": tab_rows(tab), "formats": format_requests(tab, n, by_name)} for n, tab in enumerate(tabs)]
    encoded = json.dumps(payload)
    return time.perf_counter() - started, len(encoded)


def refresh(double: SheetsDouble, workbooks: list, *, force: bool) -> dict:
    creds = FakeServiceAccountCredentials()
    double.calls.clear()
    started = time.perf_counter()
    session = double.session(creds)
    stats = write_workbooks(SHEET, workbooks, credentials=creds, session=session, sleep=lambda s: None, force=force)
    stats["seconds"] = time.perf_counter() - started
    stats["sent_bytes"] = sum(len(json.dumps(call.body)) for call in double.calls if call.body is not None)
    stats["counts"] = double.counts()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=15)
    parser.add_argument("--report", default="ar-aging")
    args = parser.parse_args()
    print(f"command: python benchmarks/gsheets_bench.py --scale {args.scale} --report {args.report}")
    print(cores_note())
    with sandbox(args.scale) as sb:
        definition, params = report_params(args.report, sb)
        result = run_report(definition, params, connections(sb), progress=False)
    workbooks = result.workbooks
    tabs = sum(len(w.tabs) for w in workbooks)
    rows = sum(len(t.rows) for w in workbooks for t in w.tabs)
    build, encoded = payload_build_seconds(workbooks)
    print(f"{args.report} at scale {args.scale}: {len(workbooks)} workbook(s), {tabs} tabs, {rows:,} rows")
    print(f"payload build (RowData + format requests + JSON): {build:.2f} s, {encoded / 1e6:.1f} MB")
    double = SheetsDouble()
    double.add_spreadsheet(SHEET)
    print(
        "| write | API calls | reads | batchUpdates | staging batches | payload MB | MB sent | seconds (double incl.) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    # a refresh of changed data rewrites what sheetsync owns (forced here: the data is the same); one of
    # unchanged data is skipped after its read
    for label, force in (("first write", False), ("refresh", True), ("refresh, data unchanged", False)):
        s = refresh(double, workbooks, force=force)
        print(
            f"| {label} | {s['api_calls']} | {s['reads']} | {s.get('batch_updates', 0)} | "
            f"{s.get('staging_batches', 0)} | {s.get('payload_bytes', 0) / 1e6:.1f} | {s['sent_bytes'] / 1e6:.1f} | "
            f"{s['seconds']:.2f} |"
        )


if __name__ == "__main__":
    main()

"""Snapshots of a scheduled job: dated copies of a tab, plain values, kept across refreshes, pruned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from test_schedule_runner import SHEET_ID, TUESDAY, Clock, _books, scheduler

from sheetsync.sandbox.server import SandboxOptions, start_sandbox
from sheetsync.schedule.history import MemoryState
from sheetsync.sinks.gsheets import GoogleSheetSource, load_credentials, set_session_factory
from sheetsync.sinks.snapshot import SNAPSHOT_KEY, snapshot_title


@pytest.fixture
def books(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with start_sandbox(options=SandboxOptions(rate_limit=10_000)) as sandbox:
        yield _books(tmp_path, monkeypatch, sandbox)
    set_session_factory(None)


def schedule(snapshot: str) -> str:
    return f"""\
timezone: America/New_York
jobs:
  - name: prices-xlsx
    report: price-list
    params: {{customer_ids: [3]}}
    outputs: out/prices.xlsx
    cron: "0 6 * * *"
    profile: sandbox{snapshot}
  - name: prices-sheet
    report: price-list
    params: {{customer_ids: [3]}}
    outputs: gsheet://{SHEET_ID}
    cron: "0 6 * * *"
    profile: sandbox{snapshot}
"""


def tab_name(books: Any) -> str:
    """The one tab price-list writes for customer 3 (named after the customer)."""
    clock = Clock(TUESDAY)
    run = scheduler(schedule(""), clock).run_job("prices-xlsx")
    [key] = run.rows
    (books.dir / "out" / "prices.xlsx").unlink()
    return key.split("/", 1)[1]


def test_snapshots_are_dated_plain_values_survive_refreshes_and_are_pruned(books) -> None:
    tab = tab_name(books)
    clock = Clock(TUESDAY)  # 00:00 in New York
    sched = scheduler(schedule(f"\n    snapshot: {{tab: {tab!r}, keep: 2}}"), clock, MemoryState(clock))
    sched.run_due()  # first seen: due from 06:00
    stranger = books.dir / "out" / f"prices - {tab} 2020-01-01 0600.xlsx"  # a user's file named like one
    openpyxl.Workbook().save(stranger)
    days = []
    for day in range(3):
        clock.now = TUESDAY + timedelta(days=day, hours=6)
        runs = sched.run_due()
        assert [r.outcome for r in runs] in (["ok", "ok"], ["unchanged", "unchanged"], ["ok", "unchanged"]), runs
        days.append(clock.now.astimezone(sched.schedule.jobs[0].schedule.tz))
        if day == 1:  # after a refresh the first snapshots are still there
            assert (books.dir / "out" / f"prices - {snapshot_title(tab, days[0], for_file=True)}.xlsx").exists()
            assert snapshot_title(tab, days[0]) in sheet_tabs()

    out = sorted(p.name for p in (books.dir / "out").iterdir())
    expected = [f"prices - {snapshot_title(tab, d, for_file=True)}.xlsx" for d in days[1:]]
    assert out == sorted(["prices.xlsx", stranger.name, *expected])  # keep 2; the unmarked file stays
    title = snapshot_title(tab, days[1])  # the tab name cut so the title fits Excel's 31 characters
    assert title.endswith(" 2026-06-03 06:00") and len(title) <= 31 and title.startswith(tab[:10])

    live = openpyxl.load_workbook(books.dir / "out" / "prices.xlsx")[tab]
    header_row = next(r for r in live.iter_rows(values_only=True) if r and r[0] == "Category")
    live_rows = list(live.iter_rows(values_only=True))
    data = live_rows[live_rows.index(header_row) + 1 :]
    snap_book = openpyxl.load_workbook(books.dir / "out" / expected[-1])
    [snap] = snap_book.worksheets
    assert snap.title == snapshot_title(tab, days[2], for_file=True) and not snap.tables
    snap_rows = list(snap.iter_rows(values_only=True))
    assert snap_rows[0] == header_row and snap_rows[1:] == data[: len(snap_rows) - 1] and len(snap_rows) > 2
    assert all(cell.data_type != "f" for row in snap.iter_rows() for cell in row)
    assert SNAPSHOT_KEY in [p.name for p in snap_book.custom_doc_props.props]

    tabs = sheet_tabs()
    assert [t for t in tabs if t.endswith(" 06:00")] == [snapshot_title(tab, d) for d in days[1:]]
    assert tab in tabs and "Notes" in tabs  # the live tab and the user's tab
    sheet = GoogleSheetSource(SHEET_ID, credentials=load_credentials(None))
    assert len(sheet.read_rows(snapshot_title(tab, days[2]), required=("Category", "Product ID"))) == len(snap_rows) - 1


def sheet_tabs() -> list[str]:
    return GoogleSheetSource(SHEET_ID, credentials=load_credentials(None)).tab_names()


def test_a_snapshot_of_a_tab_the_report_lacks_is_a_warning_not_a_failure(books) -> None:
    clock = Clock(TUESDAY)
    run = scheduler(schedule("\n    snapshot: {tab: Nope}"), clock).run_job("prices-xlsx")
    assert run.outcome == "partial" and (books.dir / "out" / "prices.xlsx").exists()
    assert any(w["code"] == "snapshot" and "no tab 'Nope'" in w["message"] for w in run.warnings)


@pytest.mark.parametrize(
    ("snapshot", "message"),
    [("{keep: 3}", "tab"), ("{tab: Summary, keep: 0}", "keep"), ("{tab: Summary, every: 2}", "every")],
)
def test_bad_snapshot_keys_are_refused_with_the_line(books, snapshot: str, message: str) -> None:
    from sheetsync.errors import DefinitionError
    from sheetsync.schedule.spec import parse_schedule

    with pytest.raises(DefinitionError, match=message) as error:
        parse_schedule(schedule(f"\n    snapshot: {snapshot}"), "schedule.yaml")
    assert "schedule.yaml" in str(error.value.args[0]) or error.value.line

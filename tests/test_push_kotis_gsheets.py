"""Kotis orders pushed from one Google Sheet (the Sheets double) by two machines, each with its own ledger:
the `sending <run>` claims in the sheet keep every order to one POST."""

from __future__ import annotations

import pytest
from helpers_kotis_push import HEADERS, creates, kotis_client, line, stocked
from sheets_double import FakeServiceAccountCredentials, SheetsDouble

from sheetsync.errors import ExitCode
from sheetsync.push.kotis import CLAIMED, CREATE, push_orders
from sheetsync.push.kotis_ledger import KotisLedger
from sheetsync.push.target import SheetTarget
from sheetsync.sinks.gsheets import GoogleSheetSource

SHEET_ID = "KOTIS-PUSH-1"
OTHER_RUN = "20990101000000-abcdef"


def _cell(value):
    if value is None:
        return None
    kind = "numberValue" if isinstance(value, int | float) else "stringValue"
    return {"userEnteredValue": {kind: value}}


@pytest.fixture
def sheet(fresh_sandbox):
    client = kotis_client(fresh_sandbox)
    a, b = (s["sku"] for s in stocked(client, minimum=10)[:2])
    lines = [line("G-1", a, 1), line("G-2", b, 1), line("G-2", a, 1), line("G-3", b, 2)]
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("Orders",))
    cells = double.spreadsheets[SHEET_ID].sheet("Orders").cells
    for r, row in enumerate([HEADERS, *[[item.get(h) for h in HEADERS] for item in lines]]):
        for c, value in enumerate(row):
            if _cell(value):
                cells[(r, c)] = _cell(value)
    creds = FakeServiceAccountCredentials()
    session = double.session(creds)

    def target() -> SheetTarget:
        source = GoogleSheetSource(SHEET_ID, credentials=creds, session=session, sleep=lambda s: None)
        return SheetTarget(source, "Orders", f"gsheet://{SHEET_ID}#Orders", row_by_row=True)

    return fresh_sandbox, client, target, cells


def _orders(sandbox) -> list[str]:
    return sorted(o.order_id for o in sandbox.app.kotis_kwf.data.orders.values() if o.order_id)


def test_lines_another_run_claimed_are_not_sent(sheet, store_location) -> None:
    sandbox, client, target, cells = sheet
    status = HEADERS.index("Status")
    cells[(2, status)] = _cell(f"sending {OTHER_RUN}")  # G-2's first line, marked by another machine's push
    ledger = KotisLedger.open(store_location)
    try:
        result = push_orders(client, target(), ledger, apply=True)
        assert result.exit_code == ExitCode.PARTIAL
        assert [d.order.ref for d in result.plan.of(CLAIMED)] == ["G-2"]
        assert OTHER_RUN in result.plan.of(CLAIMED)[0].reasons[0]
        assert _orders(sandbox) == ["G-1", "G-3"]
        assert cells[(2, status)]["userEnteredValue"]["stringValue"] == f"sending {OTHER_RUN}"  # theirs to write
        again = push_orders(client, target(), ledger, apply=True)
        assert again.plan.of(CLAIMED) and len(creates(sandbox)) == 2
    finally:
        ledger.close()


def test_two_machines_pushing_one_google_sheet_create_each_order_once(sheet, store_location, tmp_path) -> None:
    """Machine B plans while machine A is between two POSTs: A's claims already mark every line it will send."""
    sandbox, client, target, _cells = sheet
    first, second = KotisLedger.open(store_location), KotisLedger.open(str(tmp_path / "machine-b.sqlite3"))
    real = client.create_order
    during: list = []

    def a_posts(order):
        if not during:
            during.append(push_orders(kotis_client(sandbox), target(), second, apply=True))  # machine B
        return real(order)

    client.create_order = a_posts
    try:
        a = push_orders(client, target(), first, apply=True)
    finally:
        first.close()
        second.close()
    b = during[0]
    assert [d.action for d in a.plan.decisions] == [CREATE, CREATE, CREATE] and a.exit_code == ExitCode.OK
    assert {d.order.ref for d in b.plan.of(CLAIMED)} == {"G-1", "G-2", "G-3"}
    assert _orders(sandbox) == ["G-1", "G-2", "G-3"] and len(creates(sandbox)) == 3

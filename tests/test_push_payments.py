"""Payments push against the sandbox and real xlsx files: validation, plan, apply, balances."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from helpers_push import accounts, client_for, posts, push, sheet_rows, write_sheet

from sheetsync.errors import ExitCode
from sheetsync.push.plan import HELD, POST, REJECTED, REQUESTED


@pytest.fixture
def setup(fresh_sandbox, tmp_path, store_location):
    client = client_for(fresh_sandbox)
    found = accounts(client, payments=1, invoices=3, minimum=Decimal("60"))
    return fresh_sandbox, client, found[0], found[1], tmp_path, store_location


def _bad_sheet(path: Path, a, b) -> dict[str, int]:
    """Every kind of bad row beside good ones; returns name -> row number."""
    pay, pay_b = a.payments[0], b.payments[0]
    inv1, inv2, inv3 = (i["InvoiceNum"] for i in a.invoices[:3])
    avail = pay["AvailableBalance"]
    headers = [
        "Note",
        "PaymentInvoiceNum",
        "AllocationID",
        "TargetInvoiceNum",
        "ARAccountID",
        "Amount",
        "Status",
        "RequestID",
        "Message",
        "Updated",
        "Extra",
    ]
    rows = {
        "good": ["ok", pay["PaymentInvoiceNum"], "G-1", inv1, a.ar, 10.1, None, None, None, None, "x"],
        "text": ["", pay["PaymentInvoiceNum"], "T-1", inv1, a.ar, "ten dollars", None],
        "negative": ["", pay["PaymentInvoiceNum"], "N-1", inv1, a.ar, -5, None],
        "three_decimals": ["", pay["PaymentInvoiceNum"], "D-1", inv1, a.ar, 1.234, None],
        "decimal_comma": ["", pay["PaymentInvoiceNum"], "C-1", inv1, a.ar, "2,50", None],
        "dot_thousands": ["", pay["PaymentInvoiceNum"], "C-2", inv1, a.ar, "1.234,56", None],
        "unknown_invoice": ["", pay["PaymentInvoiceNum"], "U-1", "INV-NOPE-1", a.ar, 5, None],
        "other_account": ["", pay["PaymentInvoiceNum"], "O-1", b.invoices[0]["InvoiceNum"], a.ar, 5, None],
        "good_b": ["", pay_b["PaymentInvoiceNum"], "B-1", b.invoices[0]["InvoiceNum"], b.ar, 1, None],
        "fill": ["", pay["PaymentInvoiceNum"], "F-1", inv2, a.ar, float(avail - Decimal("10.10") - 2), None],
        "overdrawn": ["", pay["PaymentInvoiceNum"], "X-1", inv3, a.ar, 5, None],
        "dup1": ["", pay["PaymentInvoiceNum"], "DUP", inv3, a.ar, 1, None],
        "dup2": ["", pay["PaymentInvoiceNum"], "DUP", inv3, a.ar, 1, None],
        "formula": ["", pay["PaymentInvoiceNum"], "FX-1", inv3, a.ar, "=2*3", None],
        "same1": ["", pay["PaymentInvoiceNum"], None, inv3, a.ar, 0.5, None],
        "same2": ["", pay["PaymentInvoiceNum"], None, inv3, a.ar, 0.5, None],
    }
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Allocations"
    ws.append(["Allocations for this month"])
    ws.merge_cells("A1:E1")  # a merged title above the header
    ws.append(headers)
    ws.merge_cells("K2:L2")  # a merged header cell over an extra column
    numbers = {}
    for name, row in rows.items():
        if name in ("text", "fill"):
            ws.append([])  # blank lines are ignored
        ws.append(row)
        numbers[name] = ws.max_row
    book.save(path)
    return numbers


def test_every_kind_of_bad_row_is_named_and_nothing_is_posted_for_it(setup) -> None:
    sandbox, client, a, b, tmp, db = setup
    path = tmp / "bad.xlsx"
    n = _bad_sheet(path, a, b)
    plan_result = push(client, path, db, apply=False)
    decisions = {d.row.row_number: d for d in plan_result.plan.decisions}
    reasons = {name: "; ".join(decisions[n[name]].reasons) for name in n}
    assert reasons["text"] == f"F{n['text']}: Amount 'ten dollars' is not a number"
    assert reasons["negative"] == f"F{n['negative']}: Amount -5 must be greater than 0"
    assert reasons["three_decimals"] == f"F{n['three_decimals']}: Amount 1.234 has more than two decimals"
    assert reasons["decimal_comma"].startswith(f"F{n['decimal_comma']}: Amount '2,50' uses a decimal comma")
    assert reasons["dot_thousands"].startswith(f"F{n['dot_thousands']}: Amount '1.234,56' uses '.' to group")
    unknown = f"D{n['unknown_invoice']}: INV-NOPE-1 is not an open invoice of AR account {a.ar}"
    assert reasons["unknown_invoice"] == unknown
    assert f"belongs to AR account {b.ar}, not {a.ar}" in reasons["other_account"]
    assert f"F{n['overdrawn']}: 5.00 overdraws payment" in reasons["overdrawn"]
    assert f"AllocationID DUP is also used in row {n['dup2']}" in reasons["dup1"]
    assert f"AllocationID DUP is also used in row {n['dup1']}" in reasons["dup2"]
    assert reasons["formula"].startswith(f"F{n['formula']}: Amount is a formula (=2*3) without a computed value")
    assert reasons["same2"].startswith(f"identical to row {n['same1']} (same account, payment, invoice and amount)")
    assert decisions[n["same2"]].action == HELD  # a second identical row waits for Repeat: yes
    good = {"good", "good_b", "fill", "same1"}
    assert {name for name in n if decisions[n[name]].action == POST} == good
    assert decisions[n["good"]].row.amount == Decimal("10.10")
    assert plan_result.exit_code == ExitCode.PARTIAL
    assert posts(sandbox) == []  # the plan sends nothing
    assert len(decisions) == len(n)  # blank lines are not rows
    totals = plan_result.plan.totals[a.payments[0]["PaymentInvoiceNum"]]
    assert totals.left == Decimal("1.50")  # the held identical row (0.50) takes nothing

    result = push(client, path, db)
    assert result.exit_code == ExitCode.PARTIAL
    sent = posts(sandbox)
    assert len(sent) == len(good)
    assert sorted(e["query"]["Amount"] for e in sent) == sorted(str(decisions[n[name]].row.amount) for name in good)
    listed = client.get_all("payments", {"ARAccountIDs": [a.ar]})
    after = {p["PaymentInvoiceNum"]: p["AvailableBalance"] for p in listed}
    assert after[a.payments[0]["PaymentInvoiceNum"]] == totals.left  # balances match the plan
    shown = sheet_rows(path)
    assert shown[n["good"]]["Status"] == "Pending" and isinstance(shown[n["good"]]["RequestID"], int)
    assert shown[n["text"]]["Status"] == "invalid" and "not a number" in shown[n["text"]]["Message"]
    assert shown[n["good"]]["Extra"] == "x" and shown[n["good"]]["Note"] == "ok"  # other cells kept
    assert shown[n["same2"]]["Status"] == "held" and shown[n["same2"]]["RequestID"] is None
    assert shown[n["same2"]]["Message"].startswith("not posted: identical to row")

    again = push(client, path, db)  # a re-run posts nothing more
    assert len(posts(sandbox)) == len(good)
    assert {d.action for d in again.plan.decisions if d.row.row_number in {n[g] for g in good}} == {REQUESTED}
    assert again.plan.decisions and all(d.action in (REQUESTED, REJECTED, HELD) for d in again.plan.decisions)


def test_plan_is_ok_when_every_row_is_valid_and_apply_posts_them(setup) -> None:
    sandbox, client, a, _, tmp, db = setup
    pay = a.payments[0]["PaymentInvoiceNum"]
    path = write_sheet(
        tmp / "ok.xlsx",
        [["A-1", a.ar, pay, a.invoices[0]["InvoiceNum"], 12.5], ["A-2", a.ar, pay, a.invoices[1]["InvoiceNum"], 7]],
    )
    assert push(client, path, db, apply=False).exit_code == ExitCode.OK
    result = push(client, path, db)
    assert result.exit_code == ExitCode.OK
    assert len(posts(sandbox)) == 2
    assert push(client, path, db).exit_code == ExitCode.OK  # all already requested


def test_supplier_key_may_not_push(setup) -> None:
    sandbox, _, a, _, tmp, db = setup
    path = write_sheet(
        tmp / "s.xlsx", [["A-1", a.ar, a.payments[0]["PaymentInvoiceNum"], a.invoices[0]["InvoiceNum"], 1]]
    )
    from sheetsync.errors import ForbiddenError

    with pytest.raises(ForbiddenError, match="Supplier key may not"):
        push(client_for(sandbox, "supplier"), path, db, key_type="supplier")
    assert posts(sandbox) == []


def test_the_plan_is_shown_before_the_first_allocation_is_posted(setup, monkeypatch) -> None:
    sandbox, client, a, _, tmp, db = setup
    pay = a.payments[0]["PaymentInvoiceNum"]
    path = write_sheet(
        tmp / "shown.xlsx",
        [["S-1", a.ar, pay, a.invoices[0]["InvoiceNum"], 2], ["S-2", a.ar, pay, a.invoices[1]["InvoiceNum"], 3]],
    )
    seen: list[str] = []
    at_first_post: list[list[str]] = []
    real = client.request_payment_application

    def watched(*args, **kwargs):
        at_first_post.append(list(seen))
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "request_payment_application", watched)
    result = push(client, path, db, show=seen.append)
    assert result.exit_code == ExitCode.OK and len(posts(sandbox)) == 2
    assert at_first_post[0] and at_first_post[0] == result.lines[: result.shown]  # the whole plan, then the POSTs

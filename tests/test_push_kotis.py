"""Kotis orders from a sheet against the sandbox: plan, apply, status, every bad row, split refusals, tracking."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from helpers_kotis_push import (
    ADDRESS,
    HEADERS,
    creates,
    kotis_client,
    line,
    push,
    read_sheet,
    status,
    stocked,
    write_orders,
)

from sheetsync.errors import ExitCode, SinkError
from sheetsync.push.kotis import CREATE, CREATED, HIDDEN, INVALID, split_detail
from sheetsync.push.kotis_rows import Order, OrderLine


@pytest.fixture
def env(fresh_sandbox, tmp_path, store_location):
    client = kotis_client(fresh_sandbox)
    return fresh_sandbox, client, stocked(client, minimum=10), tmp_path, store_location


def _orders_of(sandbox) -> dict[str, dict]:
    """order_id (our OrderRef) -> the sandbox's order, for orders created through the API by the tests."""
    orders = sandbox.app.kotis_kwf.data.orders.values()
    return {o.order_id: o for o in orders if o.order_id}


def test_plan_apply_status_fills_every_row_and_never_sends_twice(env) -> None:
    sandbox, client, skus, tmp, db = env
    a, b = skus[0]["sku"], skus[1]["sku"]
    path = tmp / "orders.xlsx"
    rows = write_orders(path, [line("M-1", a, 2), line("M-1", b, 1), line("M-2", a, 3, Name="Bo Chan")])

    plan = push(client, path, db, apply=False)
    assert [d.action for d in plan.plan.decisions] == [CREATE, CREATE]
    assert plan.exit_code == ExitCode.OK
    assert creates(sandbox) == []  # the plan sends nothing
    assert any("key sha256:" in line or "key (none)" in line for line in plan.lines)

    applied = push(client, path, db)
    assert applied.exit_code == ExitCode.OK
    assert len(creates(sandbox)) == 2
    made = _orders_of(sandbox)
    assert made["M-1"].lines == [(a, 2), (b, 1)]  # one order, two SKUs, the OrderRef in order_id
    assert made["M-2"].lines == [(a, 3)]
    shown = read_sheet(path)
    assert shown[rows["M-1#0"]]["OrderNum"] == shown[rows["M-1#1"]]["OrderNum"] == made["M-1"].order_number
    assert shown[rows["M-2#0"]]["Status"] == "created"

    again = push(client, path, db)
    assert [d.action for d in again.plan.decisions] == [CREATED, CREATED]
    assert len(creates(sandbox)) == 2

    sandbox.ship_kotis_orders(tracking_digits=22)
    result = status(client, path, db)
    assert result.exit_code == ExitCode.OK
    shown = read_sheet(path)
    for row in rows.values():
        tracking = shown[row]["Tracking"]
        assert isinstance(tracking, str) and len(tracking) == 22 and tracking.isdigit()
        assert shown[row]["Status"] == "shipped"
        assert shown[row]["Shipments"] == 1
        assert shown[row]["DeliveryStatus"] == "in_transit"
        assert shown[row]["ShippedOn"] is not None
    expected = {o.order_number: sandbox.app.kotis_kwf.data.shipments[o.shipment_ids[0]] for o in made.values()}
    assert shown[rows["M-2#0"]]["Tracking"] == expected[made["M-2"].order_number].tracking_numbers
    status_calls = [e for e in sandbox.requests_log() if e["path"].endswith("orders/status")]
    assert len(status_calls) == 1  # both orders in one batched request
    assert set(status_calls[0]["query"]["order_numbers"].split(",")) == {o.order_number for o in made.values()}


def test_every_kind_of_bad_row_is_named_and_its_order_not_sent(env) -> None:
    sandbox, client, skus, tmp, db = env
    a, b = skus[0]["sku"], skus[1]["sku"]
    avail_b = skus[1]["available_quantity"]
    path = tmp / "bad.xlsx"
    rows = write_orders(
        path,
        [
            line("OK-1", a, 1),
            line("NOADDR", a, 1, City=None),
            line("UNKNOWN", "NO-SUCH-SKU", 1),
            line("ZERO", a, 0),
            line("HALF", a, 1.5),
            line("COMMA", a, "1,5"),
            line("WORDS", a, "two"),
            line("OVER1", b, avail_b),  # the two lines of b together exceed what is available
            line("OVER2", b, 1),
            line("SPLIT", a, 1),
            line("SPLIT", a, 1, Address1="9 Other Road"),  # one order, two addresses
            line("STATE", a, 1, State="Washington"),
            line("ZIP", a, 1, Zip=2134),  # a ZIP typed as a number lost its leading zero
        ],
    )
    result = push(client, path, db)
    decisions = {d.order.ref: d for d in result.plan.decisions}
    assert decisions["OK-1"].action == CREATE
    assert all(d.action == INVALID for ref, d in decisions.items() if ref != "OK-1")
    assert len(creates(sandbox)) == 1
    shown = read_sheet(path)
    expect = {
        "NOADDR#0": "City is empty",
        "UNKNOWN#0": "'NO-SUCH-SKU' is not in Kotis",
        "ZERO#0": "Quantity 0 must be greater than 0",
        "HALF#0": "Quantity",
        "COMMA#0": "decimal comma",
        "WORDS#0": "Quantity 'two'",
        "OVER1#0": f"only {avail_b} available",
        "OVER2#0": f"only {avail_b} available",
        "SPLIT#1": "Address1 '9 Other Road' differs",
        "STATE#0": "'Washington' is not a US state",
        "ZIP#0": "leading zero",
    }
    for key, text in expect.items():
        row = rows[key]
        assert shown[row]["Status"] == "invalid", key
        assert text in shown[row]["Message"], (key, shown[row]["Message"])
        assert str(row) in shown[row]["Message"]  # the cell is named
    assert "another line of this order" in shown[rows["SPLIT#0"]]["Message"]
    assert result.exit_code == ExitCode.PARTIAL


def test_hidden_rows_are_skipped_and_duplicate_headers_refused(env) -> None:
    sandbox, client, skus, tmp, db = env
    path = tmp / "hidden.xlsx"
    sku = skus[0]["sku"]
    rows = write_orders(path, [line("SEEN", sku, 1), line("HID", sku, 1), line("HALF", sku, 1), line("HALF", sku, 2)])
    book = openpyxl.load_workbook(path)
    book["Orders"].row_dimensions[rows["HID#0"]].hidden = True
    book["Orders"].row_dimensions[rows["HALF#1"]].hidden = True
    book.save(path)
    result = push(client, path, db)
    decisions = {d.order.ref: d for d in result.plan.decisions}
    assert {ref: d.action for ref, d in decisions.items()} == {"SEEN": CREATE, "HID": HIDDEN, "HALF": INVALID}
    assert f"rows {rows['HALF#1']} (hidden)" in decisions["HALF"].reasons[0]  # never half an order
    assert set(_orders_of(sandbox)) == {"SEEN"}
    assert result.exit_code == ExitCode.PARTIAL  # the half-hidden order is invalid
    hidden = read_sheet(path)[rows["HID#0"]]  # every row gets its outcome, a hidden one too
    assert hidden["Status"] == "skipped" and "--include-hidden" in hidden["Message"]

    dup = tmp / "dup.xlsx"
    write_orders(dup, [line("D-1", skus[0]["sku"], 1)], title=None)
    book = openpyxl.load_workbook(dup)
    book["Orders"].cell(1, 30, "quantity")  # a second Quantity column, other case
    book.save(dup)
    with pytest.raises(SinkError, match="repeats"):
        push(client, dup, db)
    assert set(_orders_of(sandbox)) == {"SEEN"}


def test_an_edited_or_reused_order_ref_is_a_conflict_not_a_second_order(env) -> None:
    sandbox, client, skus, tmp, db = env
    path = tmp / "first.xlsx"
    rows = write_orders(path, [line("R-1", skus[0]["sku"], 1)])
    push(client, path, db)
    book = openpyxl.load_workbook(path)
    book["Orders"].cell(rows["R-1#0"], 5, 4)  # Quantity 1 -> 4 after the order was created
    book.save(path)
    edited = push(client, path, db)
    assert edited.plan.decisions[0].action == "conflict"
    other = tmp / "second.xlsx"
    write_orders(other, [line("R-1", skus[1]["sku"], 2)])
    reused = push(client, other, db)
    assert reused.plan.decisions[0].action == "conflict"
    assert "already used for order" in read_sheet(other)[3]["Message"]
    assert len(creates(sandbox)) == 1


def test_a_refusal_is_split_back_onto_the_rows_it_names(env, monkeypatch) -> None:
    """Stock taken between the plan and the POST: Kotis refuses the order with one detail for all lines."""
    sandbox, client, skus, tmp, db = env
    a, b, c = (s["sku"] for s in skus[:3])
    path = tmp / "race.xlsx"
    rows = write_orders(path, [line("X-1", a, 1), line("X-1", b, 2), line("X-1", c, 1)])
    real = client.sku_quantities

    def optimistic():  # the plan sees more stock than Kotis has by the time the order arrives
        return [{**s, "available_quantity": 10**6} for s in real()]

    monkeypatch.setattr(client, "sku_quantities", optimistic)
    data = sandbox.app.kotis_kwf.data
    data.sku(a)["available_quantity"] = 0
    data.sku(c)["available_quantity"] = 0
    result = push(client, path, db)
    assert result.exit_code == ExitCode.PARTIAL
    shown = read_sheet(path)
    assert all(shown[r]["Status"] == "refused" for r in rows.values())
    assert f"Sku {a} has only 0" in shown[rows["X-1#0"]]["Message"]
    assert f"Sku {c}" not in shown[rows["X-1#0"]]["Message"]
    assert f"Sku {c} has only 0" in shown[rows["X-1#2"]]["Message"]
    assert "another line of this order" in shown[rows["X-1#1"]]["Message"]


def test_split_detail_keeps_thousands_and_sends_address_parts_to_every_row() -> None:
    lines = [OrderLine(5, {}, ref="Q", sku="S-1", quantity=1), OrderLine(6, {}, ref="Q", sku="S-2", quantity=1)]
    order = Order("Q", lines)
    got = split_detail(order, "Sku S-2 has only 1,000 available (1,200 ordered), Address zip is missing")
    assert got[5] == "refused by Kotis: Address zip is missing"
    assert got[6] == "refused by Kotis: Sku S-2 has only 1,000 available (1,200 ordered); Address zip is missing"


def test_address_defaults_are_the_documented_body(env) -> None:
    _sandbox, client, skus, tmp, db = env
    path: Path = tmp / "body.xlsx"
    write_orders(path, [line("B-1", skus[0]["sku"], 1, ShippingMethod="Ground", AddressType="residential")])
    result = push(client, path, db, apply=False)
    body = result.plan.decisions[0].order.payload()
    assert body["order_id"] == "B-1" and body["shipping_method"] == "Ground"
    assert body["skus"] == [{"quantity": "1", "sku": skus[0]["sku"]}]
    assert body["address"]["address_type"] == "residential"
    assert {k: body["address"][k.lower()] for k in ADDRESS} == ADDRESS


def test_an_order_that_will_not_be_sent_takes_no_stock_from_the_others(env) -> None:
    """The stock check sums the lines this run would create, not lines of orders invalid for another reason."""
    sandbox, client, skus, tmp, db = env
    a, avail = skus[0]["sku"], skus[0]["available_quantity"]
    path = tmp / "stock.xlsx"
    rows = write_orders(
        path,
        [
            line("GOOD", a, 1),
            line("BADZIP", a, avail, Zip="123"),  # invalid anyway: it will not be sent
            line("HUGE", a, 10**20, City=None),  # absurd and invalid: named for its own quantity too
        ],
    )
    result = push(client, path, db)
    decisions = {d.order.ref: d.action for d in result.plan.decisions}
    assert decisions == {"GOOD": CREATE, "BADZIP": INVALID, "HUGE": INVALID}
    assert set(_orders_of(sandbox)) == {"GOOD"}
    shown = read_sheet(path)
    assert "Zip '123'" in shown[rows["BADZIP#0"]]["Message"]
    assert "available" not in shown[rows["BADZIP#0"]]["Message"]
    assert f"{10**20} ordered, only {avail} available" in shown[rows["HUGE#0"]]["Message"]


def test_a_merged_cell_is_named_once_without_follow_on_noise(env) -> None:
    _sandbox, client, skus, tmp, db = env
    path = tmp / "merged.xlsx"
    rows = write_orders(path, [line("MG-1", skus[0]["sku"], 1), line("MG-1", skus[1]["sku"], 1)])
    book = openpyxl.load_workbook(path)
    book["Orders"].merge_cells(f"F{rows['MG-1#0']}:F{rows['MG-1#1']}")  # Name over both lines of the order
    book.save(path)
    result = push(client, path, db, apply=False)
    problems = result.plan.decisions[0].reasons
    assert result.plan.decisions[0].action == INVALID
    assert [p for p in problems if "Name" in p] == [
        f"F{rows['MG-1#1']}: Name is inside the merged cell F{rows['MG-1#0']}:F{rows['MG-1#1']}, which holds one "
        "value for several rows; unmerge it and fill each row"
    ]


def test_the_plan_is_shown_before_the_first_order_is_sent(env, monkeypatch) -> None:
    sandbox, client, skus, tmp, db = env
    path = tmp / "shown.xlsx"
    write_orders(path, [line("P-1", skus[0]["sku"], 1), line("P-2", skus[1]["sku"], 1)])
    seen: list[str] = []
    at_first_post: list[list[str]] = []
    real = client.create_order

    def watched(order):
        at_first_post.append(list(seen))
        return real(order)

    monkeypatch.setattr(client, "create_order", watched)
    result = push(client, path, db, show=seen.append)
    assert result.exit_code == ExitCode.OK and len(creates(sandbox)) == 2
    before = at_first_post[0]
    assert before[0].startswith("Plan for") and any("create   P-2" in text for text in before)
    assert result.lines[: result.shown] == before  # the command prints the rest, never the plan twice


def test_quantities_are_read_as_a_spreadsheet_shows_them_or_refused_with_the_cell(env) -> None:
    """Saved by a spreadsheet application: formulas carry cached values, text numbers stay text."""
    from helpers_lo import recalculate_with_libreoffice, soffice

    if soffice() is None:
        pytest.skip("LibreOffice is not installed")
    _sandbox, client, skus, tmp, db = env
    sku = skus[0]["sku"]
    cases = {
        "TEXT-2.0": ("2.0", 2),
        "FLOAT": (2.0, 2),
        "SPACES": (" 3 ", 3),
        "FORMULA": ("=1+1", 2),
        "GROUPED": ("1,000", "is ambiguous"),
        "WORD": ("two", "is not a number"),
        "ERROR": ("=NA()", "is not a number"),
        "BOOL": (True, "true/false"),
    }
    draft = tmp / "draft" / "quantities.xlsx"
    draft.parent.mkdir()
    rows = write_orders(draft, [line(ref, sku, quantity) for ref, (quantity, _) in cases.items()])
    book = openpyxl.load_workbook(draft)
    book["Orders"].insert_rows(rows["FORMULA#0"])  # a blank line in the middle
    book.save(draft)
    path = recalculate_with_libreoffice(draft, tmp / "saved")
    result = push(client, path, db, apply=False)
    decisions = {d.order.ref: d for d in result.plan.decisions}
    assert set(decisions) == set(cases)
    for ref, (_, expected) in cases.items():
        d = decisions[ref]
        if isinstance(expected, int):
            assert (d.action, d.order.lines[0].quantity) == (CREATE, expected), (ref, d.reasons)
        else:
            assert d.action == INVALID and expected in d.reasons[0] and d.reasons[0].startswith("E"), (ref, d.reasons)


def test_a_line_added_to_an_order_the_sheet_says_exists_is_a_conflict_and_no_order_number_is_lost(env) -> None:
    """No ledger knows the order (another machine made it): its OrderNum in the sheet is trusted, a new line
    without one is not silently marked created, and nothing the user typed in OrderNum is erased."""
    sandbox, client, skus, tmp, db = env
    a, b = skus[0]["sku"], skus[1]["sku"]
    path = tmp / "typed.xlsx"
    rows = write_orders(
        path,
        [
            line("T-1", a, 1, OrderNum="5100001"),
            line("T-1", b, 1),  # added later, never part of order 5100001
            line("T-2", a, 1, OrderNum="5100002"),
        ],
    )
    result = push(client, path, db)
    assert {d.order.ref: d.action for d in result.plan.decisions} == {"T-1": "conflict", "T-2": CREATED}
    assert creates(sandbox) == []
    shown = read_sheet(path)
    assert [shown[rows[k]]["OrderNum"] for k in ("T-1#0", "T-1#1", "T-2#0")] == ["5100001", None, "5100002"]
    assert shown[rows["T-1#1"]]["Status"] == "conflict" and "own OrderRef" in shown[rows["T-1#1"]]["Message"]
    again = push(client, path, db)  # the conflict stays a conflict: the write-back did not paper over it
    assert again.plan.decisions[0].action == "conflict" and creates(sandbox) == []


def test_an_order_number_typed_into_a_blocked_order_is_kept(env) -> None:
    sandbox, client, skus, tmp, db = env
    path = tmp / "blocked.xlsx"
    rows = write_orders(path, [line("U-1", skus[0]["sku"], 1)])
    sandbox.set_faults(drop_after_create=1)
    assert push(client, path, db).exit_code == ExitCode.UNKNOWN_OUTCOME
    number = _orders_of(sandbox)["U-1"].order_number
    book = openpyxl.load_workbook(path)
    book["Orders"].cell(rows["U-1#0"], HEADERS.index("OrderNum") + 1, number)  # seen in the portal, typed in
    book.save(path)
    again = push(client, path, db)
    assert again.plan.decisions[0].action == "blocked"  # only `kotis resolve` settles the ledger
    assert again.exit_code == ExitCode.UNKNOWN_OUTCOME  # still unsettled: not a row to fix (exit 1)
    assert read_sheet(path)[rows["U-1#0"]]["OrderNum"] == number
    assert len(creates(sandbox)) == 1


def test_a_plan_line_with_address_fields_missing_reads_cleanly(env) -> None:
    _sandbox, client, skus, tmp, db = env
    path = tmp / "gaps.xlsx"
    write_orders(path, [line("G-1", skus[0]["sku"], 1, City=None), line("G-2", skus[0]["sku"], 1, Name=None)])
    shown = [text for text in push(client, path, db, apply=False).lines if text.startswith("  invalid")]
    assert shown[0].endswith(f"1 x {skus[0]['sku']} -> Ann Lee, WA"), shown
    assert shown[1].endswith(f"1 x {skus[0]['sku']} -> Seattle WA"), shown

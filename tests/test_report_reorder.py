"""reports/reorder.yaml end to end: suggested orders recomputed independently from the sandbox; demo."""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from helpers_lo import recalculate_with_libreoffice, soffice
from helpers_reports import kss_all, run_cli, table

TARGET_DAYS = 14
NEVER = "1999-12-31"


def suggested_cases(target: int, daily: Any, available: Any, per_case: int) -> int:
    need = max(Decimal(0), target * Decimal(str(daily)) - Decimal(str(available)))
    return math.ceil(need / per_case)


@pytest.fixture(scope="module")
def world(sandbox) -> dict[str, Any]:
    products = kss_all(sandbox, "products", Statuses="0,1,2,3,4,5")
    return {
        "inventory": kss_all(sandbox, "inventory"),
        "retail": kss_all(sandbox, "retailerInventory"),
        "products": {p["ProductID"]: p for p in products},
        "locations": {loc["Location"]: loc["LocationID"] for loc in kss_all(sandbox, "locations")},
    }


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("reorder-home")
    path = tmp_path_factory.mktemp("reorder") / "reorder.xlsx"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHEETSYNC_CACHE_DIR", str(home / "cache"))
        run_cli("run", "reorder", "--sandbox", "-o", str(path))
    yield path


@pytest.fixture(scope="module")
def book(workbook: Path) -> Any:
    return openpyxl.load_workbook(workbook)


def per_case(product: dict) -> int:
    return product.get("WholesaleUnitsPerCase") or 1


def test_warehouse_suggested_cases_recomputed_for_every_row(book, world) -> None:
    _, rows, _, _ = table(book["Warehouse"], "Location")
    inventory = {(r["LocationID"], r["ProductID"]): r for r in world["inventory"]}
    assert len(rows) == len(inventory)
    flagged = 0
    for row in rows:
        record = inventory[(world["locations"][row["Location"]], row["Product ID"])]
        product = world["products"][row["Product ID"]]
        units = per_case(product)
        cases = suggested_cases(TARGET_DAYS, record["AvgDailySales90d"], record["AvailableUnits"], units)
        assert (row["Suggested cases"], row["Suggested units"], row["Units/case"]) == (cases, cases * units, units)
        assert row["Available"] == record["AvailableUnits"]
        assert row["On floor"] == Decimal(record["OnFloorInventory"])
        assert row["Supplier"] == product["Supplier"] and row["Product"] == product["ProductName"]
        assert (row["Reserved"] == "reserved") == record["NotAuthorized"]
        missing = not product.get("WholesaleUnitsPerCase")
        assert (row["Case pack"] is not None) == missing
        flagged += missing
        sells = Decimal(record["AvgDailySales90d"]) > 0
        assert row["DOI"] == (pytest.approx(float(record["DOI"])) if sells else "no sales")
    assert flagged > 0, "the sandbox has products without a case pack"


def test_doi_alert_is_a_live_rule_on_the_doi_column(book, tmp_path: Path) -> None:
    ws = book["Warehouse"]
    headers, _, first, total = table(ws, "Location")
    letter = openpyxl.utils.get_column_letter(headers.index("DOI") + 1)
    rules = {str(cf.sqref): [r.formula for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules[f"A{first}:O{total - 1}"] == [[f"${letter}{first}<7"]]
    out = tmp_path / "alert5.xlsx"
    run_cli(
        "run",
        "reorder",
        "--sandbox",
        "-o",
        str(out),
        "-p",
        "doi_alert=5",
        "-p",
        "target_days=30",
        "-p",
        "location_ids=1",
    )
    ws = openpyxl.load_workbook(out)["Warehouse"]
    assert any(r.formula == [f"${letter}{first}<5"] for cf in ws.conditional_formatting for r in cf.rules)
    _, rows, _, _ = table(ws, "Location")
    assert rows and {r["Location"] for r in rows} == {"Alameda"}


def test_retailer_rows_cover_no_sales_and_never_counted(book, world) -> None:
    _, rows, _, _ = table(book["Retailers"], "Customer")
    retail = {(r["CustomerID"], r["ProductID"]): r for r in world["retail"]}
    assert len(rows) == len(retail)
    no_sales = never = 0
    for row in rows:
        record = retail[(row["Customer ID"], row["Product ID"])]
        product = world["products"][row["Product ID"]]
        daily, inventory = Decimal(record["DailySales"]), Decimal(record["Inventory"])
        assert row["Suggested cases"] == suggested_cases(TARGET_DAYS, daily, inventory, per_case(product))
        if daily == 0:
            no_sales += 1
            assert (row["Days of cover"], row["Cover note"]) == (None, "no sales")
        else:
            cover = (inventory / daily).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            assert row["Days of cover"] == pytest.approx(float(cover))
            assert row["Cover note"] is None
        if record["LastInventoryDate"].startswith(NEVER):
            never += 1
            assert row["Last count"] == "never counted"
        else:
            assert row["Last count"].date().isoformat() == record["LastInventoryDate"][:10]
    assert no_sales > 0 and never > 0


@pytest.mark.libreoffice
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_recalculates_reorder_totals(workbook: Path, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(recalculate_with_libreoffice(workbook, tmp_path / "lo"), data_only=True)
    for name, first, headers in (
        ("Warehouse", "Location", ("Available", "Suggested cases", "Suggested units")),
        ("Retailers", "Customer", ("Inventory", "Suggested cases")),
    ):
        ws = book[name]
        all_headers, rows, _, total = table(ws, first)
        for header in headers:
            value = ws.cell(total, all_headers.index(header) + 1).value
            assert value == sum(r[header] for r in rows), (name, header)


def test_demo_writes_the_ar_aging_and_reorder_workbooks(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run_cli("demo", "--out", str(out))
    written = {p.name for p in out.rglob("*.xlsx")}
    assert {"ar-aging.xlsx", "reorder.xlsx"} <= written
    aging = openpyxl.load_workbook(out / "ar-aging.xlsx")
    assert aging.sheetnames[0] == "Summary" and len(aging.sheetnames) > 2
    assert {"CA", "NY"} == {r["State"] for r in table(aging["Summary"])[1]}
    assert openpyxl.load_workbook(out / "reorder.xlsx").sheetnames == ["Warehouse", "Retailers"]

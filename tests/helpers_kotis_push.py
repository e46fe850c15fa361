"""Helpers for the Kotis push tests: order sheets as real xlsx files, the sandbox's SKUs, the POSTs seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from sheetsync.apis.kotis import KotisClient
from sheetsync.push.kotis import OrderPushResult, push_orders
from sheetsync.push.kotis_follow import OrderStatusResult, refresh_order_status
from sheetsync.push.kotis_ledger import KotisLedger
from sheetsync.push.kotis_rows import INPUT_COLUMNS, OUTCOME_COLUMNS
from sheetsync.push.target import xlsx_target
from sheetsync.sinks.xlsx_read import XlsxSource

TAB = "Orders"
HEADERS = [*INPUT_COLUMNS, *OUTCOME_COLUMNS]
ADDRESS = {"Name": "Ann Lee", "Address1": "123 First Street", "City": "Seattle", "State": "WA", "Zip": "98102"}


def kotis_client(sandbox: Any) -> KotisClient:
    info = sandbox.info
    return KotisClient(info.kotis, info.kotis_stores, info.keys["kotis"], sleep=lambda s: None)


def stocked(client: KotisClient, minimum: int = 5) -> list[dict]:
    """SKUs with at least `minimum` available, most first."""
    skus = [s for s in client.sku_quantities() if s["available_quantity"] >= minimum]
    return sorted(skus, key=lambda s: -s["available_quantity"])


def line(ref: str, sku: str, quantity: Any, **fields: Any) -> dict[str, Any]:
    return {"OrderRef": ref, "Email": "ann@example.com", "SKU": sku, "Quantity": quantity, **ADDRESS, **fields}


def write_orders(path: Path, lines: list[dict[str, Any]], *, title: str | None = "Merch orders") -> dict[str, int]:
    """A real xlsx with a title row, the header row and one row per line; returns ref#n -> row number."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = TAB
    if title:
        ws.append([title])
    ws.append(HEADERS)
    rows: dict[str, int] = {}
    for item in lines:
        ws.append([item.get(h) for h in HEADERS])
        n = sum(1 for k in rows if k.split("#")[0] == str(item.get("OrderRef")))
        rows[f"{item.get('OrderRef')}#{n}"] = ws.max_row
    book.save(path)
    return rows


def read_sheet(path: Path) -> dict[int, dict[str, Any]]:
    """row number -> {header: value} of the data rows, as a person would see them."""
    ws = openpyxl.load_workbook(path)[TAB]
    header_row = next(r for r in range(1, 10) if ws.cell(r, 1).value == "OrderRef")
    headers = [c.value for c in ws[header_row]]
    return {
        r: {h: ws.cell(r, i + 1).value for i, h in enumerate(headers) if h}
        for r in range(header_row + 1, ws.max_row + 1)
    }


def creates(sandbox: Any) -> list[dict]:
    return [e for e in sandbox.requests_log() if e["method"] == "POST" and e["path"].endswith("orders/create")]


def push(client: KotisClient, path: Path, store: str, *, apply: bool = True, **kw: Any) -> OrderPushResult:
    ledger = KotisLedger.open(store)
    try:
        return push_orders(client, xlsx_target(XlsxSource(path), path, TAB), ledger, apply=apply, **kw)
    finally:
        ledger.close()


def status(client: KotisClient, path: Path, store: str) -> OrderStatusResult:
    ledger = KotisLedger.open(store)
    try:
        return refresh_order_status(client, xlsx_target(XlsxSource(path), path, TAB), ledger)
    finally:
        ledger.close()

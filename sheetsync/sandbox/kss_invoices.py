"""KSS sandbox routes for invoices, their lines and COAs, and the AR aging report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sheetsync import aging
from sheetsync.sandbox.data import INVOICE_STATUSES, TODAY, Invoice, day_ts, money
from sheetsync.sandbox.params import ApiError, Ctx, keep
from sheetsync.sandbox.results import LazyRows


# ---- invoices ------------------------------------------------------------------------------------
def _invoice_visible(ctx: Ctx, inv: Invoice) -> bool:
    if ctx.key.type == "customer":
        return inv.customer_id in ctx.key.customers
    if ctx.key.type == "supplier":
        return any(inv.supplier_mask >> s & 1 for s in ctx.key.suppliers)
    return True


def invoices(ctx: Ctx) -> Sequence[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    ids, wanted = ctx.ids("InvoiceIDs"), ctx.strs("States")
    statuses = ctx.enum_ids("Statuses", INVOICE_STATUSES) or [1]
    start, end = ctx.day("StartDate"), ctx.day("EndDate")
    ids_set = set(ids) if ids is not None else None
    ds = ctx.ds
    pool = [ds.invoice_by_id[i] for i in sorted(ids_set) if i in ds.invoice_by_id] if ids_set else ds.invoices
    if ids_set is not None and not ids_set:
        pool = []
    matching = (
        inv
        for inv in pool
        if inv.status in statuses
        and keep(inv.customer_id, scope)
        and _invoice_visible(ctx, inv)
        and keep(ds.customer_by_id[inv.customer_id]["State"], wanted)
        and (start is None or inv.date >= start)
        and (end is None or inv.date <= end)
    )
    return LazyRows(matching, ds.render_invoice)  # rendered page by page


def invoice(ctx: Ctx) -> list[dict]:
    iid = ctx.int_path("invoiceID")
    inv = ctx.ds.invoice_by_id.get(iid)
    if inv is None:
        raise ApiError(404, f"Invoice {iid} not found")
    if not _invoice_visible(ctx, inv):
        raise ApiError(403, f"Your key does not have access to invoice {iid}")
    return [ctx.ds.render_invoice(inv)]


def _line_invoices(ctx: Ctx, ids: list[int]) -> list[Invoice]:
    out = []
    for iid in sorted(set(ids)):
        inv = ctx.ds.invoice_by_id.get(iid)
        if inv is None:
            continue
        if ctx.key.type == "customer" and inv.customer_id not in ctx.key.customers:
            raise ApiError(403, f"Your key does not have access to invoice {iid}")
        out.append(inv)
    return out


def _lines(ctx: Ctx, invs: list[Invoice]) -> list[dict]:
    ds, out = ctx.ds, []
    for inv in invs:
        for line in ds.lines(inv):
            row = ds.render_line(inv, line)
            if ctx.key.type != "supplier" or row["SupplierID"] in ctx.key.suppliers:
                out.append(row)
    return out


def invoice_transactions(ctx: Ctx) -> list[dict]:
    invs = _line_invoices(ctx, ctx.ids("InvoiceIDs", required=True) or [])
    statuses = ctx.enum_ids("Statuses", INVOICE_STATUSES)
    if statuses is not None and 7 not in statuses:  # as documented: only Verified invoices drop out
        invs = [i for i in invs if i.status != 7]
    return _lines(ctx, invs)


def invoice_transactions_one(ctx: Ctx) -> list[dict]:
    iid = ctx.int_path("invoiceID")
    invs = _line_invoices(ctx, [iid])
    if not invs:
        raise ApiError(404, f"Invoice {iid} not found")
    return _lines(ctx, invs)


def _coas(rows: list[dict]) -> list[dict]:
    return [
        {
            "InvoiceID": r["InvoiceID"],
            "ProductID": r["ProductID"],
            "InvoiceTransID": r["InvoiceTransID"],
            "BatchCode": r["BatchCode"],
            "COA_URL": r["COA_URL"],
            "TimeUpdated": r["TimeUpdated"],
        }
        for r in rows
        if r["COA_URL"]
    ]


def invoice_coas(ctx: Ctx) -> list[dict]:
    return _coas(_lines(ctx, _line_invoices(ctx, ctx.ids("InvoiceIDs", required=True) or [])))


def invoice_coas_one(ctx: Ctx) -> list[dict]:
    return _coas(invoice_transactions_one(ctx))


def ar_aging(ctx: Ctx) -> list[dict]:
    scope = ctx.customer_scope(ctx.ids("CustomerIDs"))
    wanted = ctx.strs("States")
    by_customer: dict[int, list[Invoice]] = {}
    for inv in ctx.ds.invoices:
        if inv.balance != 0:
            by_customer.setdefault(inv.customer_id, []).append(inv)
    return [
        _aging_row(ctx, c["CustomerID"], by_customer.get(c["CustomerID"], []))
        for c in ctx.ds.customers
        if keep(c["CustomerID"], scope) and keep(c["State"], wanted)
    ]


BUCKETS = (
    ("CurrentDue", "CurrentInvoices"),
    ("Due_1_30", "Invoices_1_30"),
    ("Due_31_60", "Invoices_31_60"),
    ("Due_61_90", "Invoices_61_90"),
    ("Due_91", "Invoices_91"),
)


def aging_close_date() -> date:
    """AR statements are recalculated at the end of each day: the aging is as of yesterday."""
    return TODAY - timedelta(days=1)


def _aging_row(ctx: Ctx, cid: int, open_invoices: list[Invoice]) -> dict:
    sums, lists = [0] * 5, [list[dict]() for _ in range(5)]
    credit, credits = 0, []
    close = aging_close_date()
    for inv in open_invoices:
        ref = {"InvoiceID": inv.id, "InvoiceNum": inv.num}
        if inv.balance < 0:
            credit += inv.balance
            credits.append(ref)
            continue
        b = aging.bucket_index(aging.days_past_due(inv.due, close))
        sums[b] += inv.balance
        lists[b].append(ref)
    row: dict = {"CustomerID": cid, "OpenCredit": money(credit, 6)}
    for (due, _), total in zip(BUCKETS, sums, strict=True):
        row[due] = money(total, 6)
    row.update(
        {
            "CloseDate": day_ts(close, 7),
            "TotalBalanceOutstanding": money(sum(sums) + credit, 6),
            "StatementLink": f"https://example.com/statement?Key={100000 + cid}",
        }
    )
    for (_, name), refs in zip(BUCKETS, lists, strict=True):
        row[name] = refs
    row.update(
        {
            "StatementDate": day_ts(TODAY.replace(day=1), 7),
            "TimeUpdated": day_ts(close, 7),
            "CreditInvoices": credits,
        }
    )
    return row

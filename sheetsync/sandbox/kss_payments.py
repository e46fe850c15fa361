"""KSS sandbox routes for payments, applications and payment requests, payment types, terms, vendors."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sheetsync.sandbox.data import PAYMENT_TYPES, day_ts, money
from sheetsync.sandbox.params import ApiError, Ctx, keep
from sheetsync.sandbox.payments import REQUEST_STATUSES, RequestError


# ---- payments ------------------------------------------------------------------------------------
def payments(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    types = ctx.ids("PaymentTypeIDs")
    return [ctx.book.render_payment(p) for p in ctx.book.payments if keep(p.ar, scope) and keep(p.type_id, types)]


def open_invoices(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    ds, out = ctx.ds, []
    for inv in ds.invoices:
        ar = ds.ar_account(inv.customer_id)
        bal = inv.balance
        if bal == 0 or not keep(ar, scope):
            continue
        out.append(
            {
                "InvoiceID": inv.id,
                "InvoiceNum": inv.num,
                "CustomerID": inv.customer_id,
                "ARAccountID": ar,
                "InvoiceTotal": money(inv.total),
                "OpenDebit": money(max(bal, 0)),
                "OpenCredit": money(min(bal, 0)),
                "OpenBalance": money(bal),
                "CreditTermID": inv.term_id,
                "TermID": inv.term_id,
                "DueDate": day_ts(inv.due, 0),
                "Date": day_ts(inv.date, 0),
                "PONum": inv.po_num,
            }
        )
    return out


def applications(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    pays, targets = ctx.strs("PaymentInvoiceNums"), ctx.strs("TargetInvoiceNums")
    if ctx.revision == "2026":
        statuses = ctx.strs("Statuses", REQUEST_STATUSES)
        rows = ctx.book.merged_rows()
    else:
        statuses = None
        rows = [ctx.book.render_application(a) for a in ctx.book.applications]
    return [
        r
        for r in rows
        if keep(r["ARAccountID"], scope)
        and keep(r["PaymentInvoiceNum"], pays)
        and keep(r["TargetInvoiceNum"], targets)
        and (statuses is None or r["Status"] in statuses)
    ]


def requested(ctx: Ctx) -> list[dict]:
    scope = ctx.ar_scope(ctx.ids("ARAccountIDs"))
    statuses = ctx.strs("Statuses", REQUEST_STATUSES)
    return [
        ctx.book.render_request(r) for r in ctx.book.requests if keep(r.payment.ar, scope) and keep(r.status, statuses)
    ]


def create_request(ctx: Ctx) -> list[dict]:
    payment_num = ctx.raw("PaymentInvoiceNum")
    target_num = ctx.raw("TargetInvoiceNum")
    for name, value in (("PaymentInvoiceNum", payment_num), ("TargetInvoiceNum", target_num)):
        if value is None:
            raise ApiError(400, f"{name} parameter is required")
    ar = ctx.number("ARAccountID") or 0
    ctx.ar_scope([ar])
    raw_amount = ctx.raw("Amount")
    if raw_amount is None:
        raise ApiError(400, "Amount parameter is required")
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation:
        raise ApiError(400, "Amount must be a number") from None
    if not amount.is_finite() or amount <= 0:
        raise ApiError(400, "Amount must be positive")
    if amount != amount.quantize(Decimal("0.01")):
        raise ApiError(400, "Amount must have at most 2 decimal places")
    user_id = _requesting_user(ctx)
    try:
        req = ctx.book.create_request(
            payment_num=payment_num or "", target_num=target_num or "", ar=ar, amount=int(amount * 100), user_id=user_id
        )
    except RequestError as exc:
        raise ApiError(400, str(exc)) from None
    return [ctx.book.render_request(req)]


def _requesting_user(ctx: Ctx) -> int:
    if ctx.key.type == "customer":
        for u in ctx.ds.users:
            if u["Role"] == "Customer" and set(u["CustomerIDs"] or ()) & ctx.key.customers:
                return u["UserID"]
    return ctx.ds.users[0]["UserID"]


def payment_types(ctx: Ctx) -> list[dict]:
    return [{"PaymentTypeID": i, "PaymentTypeName": n} for i, n in PAYMENT_TYPES]


def credit_terms(ctx: Ctx) -> list[dict]:
    return [
        {"CreditTermID": 1, "Name": "Due on receipt", "Days": 0},
        {"CreditTermID": 3, "Name": "Net 30", "Days": 30},
        {"CreditTermID": 5, "Name": "Net 15", "Days": 15},
    ]


def vendors(ctx: Ctx) -> list[dict]:
    scope = ctx.supplier_scope(None)
    return [
        {"VendorID": s["SupplierID"], "VendorName": s["Supplier"], "State": s["State"], "Active": s["Active"]}
        for s in ctx.ds.suppliers
        if keep(s["SupplierID"], scope)
    ]

"""Payments, payment applications and allocation requests, with the request lifecycle.

Balances always reconcile: a payment's available balance is its amount minus its confirmed applications
minus its pending (Pending or Exported) requests; an invoice's open balance is its total minus the
applications made to it (and any credits). Requests move on only when `advance()` is called.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sheetsync.sandbox.data import NOW, PAYMENT_TYPES, TODAY, Dataset, Invoice, money, stable_seed, ts

STEP = timedelta(minutes=15)
OPEN_STATUSES = ("Pending", "Exported")
REQUEST_STATUSES = ("Pending", "Exported", "Confirmed", "Rejected")


class RequestError(Exception):
    """A POST that fails validation (answered 400)."""


@dataclass(slots=True)
class Payment:
    id: int
    invoice_id: int
    ar: int
    type_id: int
    amount: int
    post: datetime
    applied: int = 0
    pending: int = 0

    @property
    def num(self) -> str:
        return f"PAY-{self.invoice_id:06d}"

    @property
    def available(self) -> int:
        return self.amount - self.applied - self.pending


@dataclass(slots=True)
class Application:
    id: int
    payment: Payment
    target: Invoice
    amount: int
    applied_by: str
    time: datetime
    request_id: int | None = None


@dataclass(slots=True)
class Request:
    id: int
    payment: Payment
    target: Invoice
    amount: int
    status: str
    user_id: int
    requested: datetime
    exported: datetime | None = None
    confirmed: datetime | None = None
    application: Application | None = None
    updated: datetime | None = None


class PaymentBook:
    """All payment state of the sandbox; mutated only under the server's lock."""

    def __init__(self, ds: Dataset) -> None:
        self.ds = ds
        self.clock = NOW
        self.payments: list[Payment] = []
        self.applications: list[Application] = []
        self.requests: list[Request] = []
        self.payment_by_num: dict[str, Payment] = {}
        self._generate(random.Random(stable_seed(ds.seed, "payments")))

    # ---- generation ------------------------------------------------------------------------------
    def _generate(self, rng: random.Random) -> None:
        by_customer: dict[int, list[Invoice]] = {}
        for inv in self.ds.invoices:
            if inv.status in (3, 5, 7) and (TODAY - inv.date).days > 10:
                by_customer.setdefault(inv.customer_id, []).append(inv)
        for c in self.ds.customers:
            cid = c["CustomerID"]
            paid = [inv for inv in sorted(by_customer.get(cid, []), key=lambda i: i.date) if self._pays(rng, inv)]
            before = len(self.payments)
            while paid:
                size = rng.randint(1, 4)
                chunk, paid = paid[:size], paid[size:]
                self._payment_for(rng, cid, chunk, leftover=not paid or rng.random() < 0.3)
            if c["AccountStatus"] == "Active" and len(self.payments) == before:
                self._payment_for(rng, cid, [], leftover=True)
        self._initial_requests(rng)
        self._showcase_balances()  # after the requests: a request on an invoice paid off here is rejected

    def _showcase_balances(self) -> None:
        """Two accounts every seed and scale has, so statements show what `include_credit` and
        `include_zero` add: New York's last customer that is not active paid everything and then
        returned goods (a credit balance, a refund owed); the one before it paid all but its newest
        open invoice, had its earlier credits refunded and has return credits of the same amount as
        that invoice (open items netting to zero). No return is larger than the invoice it credits."""
        closed = [c["CustomerID"] for c in self.ds.customers if c["State"] == "NY" and c["AccountStatus"] != "Active"]
        if len(closed) < 2:
            return
        in_credit, netting = closed[-1], closed[-2]
        mine = {
            cid: sorted((i for i in self.ds.invoices if i.customer_id == cid), key=lambda i: (i.date, i.id))
            for cid in (in_credit, netting)
        }
        if len(mine[in_credit]) >= 1:
            self._pay_off(in_credit, mine[in_credit])
            _credit_back(mine[in_credit][::-1], 12_500 + 100 * in_credit)  # returns credited after payment
        still_open = [i for i in mine[netting] if i.balance > 0]
        if still_open and len(mine[netting]) >= 2:
            kept = still_open[-1]
            others = [i for i in mine[netting] if i is not kept]
            payment = self._pay_off(netting, others)
            for inv in others:
                inv.adjust += min(inv.balance, 0)  # an earlier credit, refunded
            short = _credit_back(others[::-1], kept.balance)
            if short:  # returns cannot cover it all: the payment settles the rest of the kept invoice
                self._apply(payment, kept, short, "sync", payment.post)
                payment.amount = payment.applied

    def _pay_off(self, cid: int, invoices: list[Invoice]) -> Payment:
        """One payment (a check, the day before) applied to every open balance of `invoices`."""
        post = NOW - timedelta(days=1)
        payment = Payment(len(self.payments) + 1, 90001 + len(self.payments), self.ds.ar_account(cid), 1, 0, post)
        self.payments.append(payment)
        self.payment_by_num[payment.num] = payment
        for inv in invoices:
            if inv.balance > 0:
                self._apply(payment, inv, inv.balance, "sync", post)
        payment.amount = payment.applied
        return payment

    def _pays(self, rng: random.Random, inv: Invoice) -> bool:
        return rng.random() < (0.85 if inv.status == 7 else 0.5)

    def _payment_for(self, rng: random.Random, cid: int, invoices: list[Invoice], *, leftover: bool) -> None:
        ar = self.ds.ar_account(cid)
        last = max((inv.due for inv in invoices), default=TODAY - timedelta(days=rng.randint(1, 20)))
        post = datetime(last.year, last.month, last.day, 8, tzinfo=NOW.tzinfo) + timedelta(days=rng.randint(0, 5))
        post = min(post, NOW - timedelta(days=1))
        payment = Payment(len(self.payments) + 1, 90001 + len(self.payments), ar, rng.choice(PAYMENT_TYPES)[0], 0, post)
        self.payments.append(payment)
        self.payment_by_num[payment.num] = payment
        for index, inv in enumerate(invoices):
            share = inv.total if index < len(invoices) - 1 or rng.random() < 0.8 else inv.total // 2
            if share > 0:
                self._apply(payment, inv, share, "sync", post)
            if inv.status == 7 and share == inv.total and rng.random() < 0.05:
                _credit_back([inv], rng.randint(500, 5000))  # a return credited after payment: open credit
        payment.amount = payment.applied + (rng.randint(1000, 50000) if leftover else 0)

    def _apply(
        self, payment: Payment, inv: Invoice, amount: int, who: str, when: datetime, request_id: int | None = None
    ) -> Application:
        app = Application(5001 + len(self.applications), payment, inv, amount, who, when, request_id)
        self.applications.append(app)
        payment.applied += amount
        inv.paid += amount
        return app

    def _initial_requests(self, rng: random.Random) -> None:
        open_by_ar: dict[int, list[Invoice]] = {}
        for inv in self.ds.invoices:
            if inv.balance > 0:
                open_by_ar.setdefault(self.ds.ar_account(inv.customer_id), []).append(inv)
        staff = self.ds.users[0]["UserID"]
        for payment in list(self.payments):
            targets = open_by_ar.get(payment.ar)
            if payment.available < 300 or not targets or rng.random() > 0.25:
                continue
            target = targets[rng.randrange(len(targets))]
            amount = max(1, min(payment.available // 3, target.balance))
            status = REQUEST_STATUSES[len(self.requests) % len(REQUEST_STATUSES)]
            when = payment.post + timedelta(days=1)
            req = Request(len(self.requests) + 1, payment, target, amount, status, staff, when, updated=when)
            if status != "Pending":
                req.exported = when + timedelta(minutes=5)
            if status == "Confirmed":
                req.confirmed = when + timedelta(days=1)
                req.application = self._apply(payment, target, amount, "export", req.confirmed, req.id)
            elif status in OPEN_STATUSES:
                payment.pending += amount
            req.updated = req.confirmed or req.exported or when
            self.requests.append(req)

    # ---- the POST and the lifecycle --------------------------------------------------------------
    def create_request(self, *, payment_num: str, target_num: str, ar: int, amount: int, user_id: int) -> Request:
        payment = self.payment_by_num.get(payment_num)
        if payment is None:
            raise RequestError(f"Payment {payment_num} not found")
        if payment.ar != ar:
            raise RequestError(f"Payment {payment_num} does not belong to AR account {ar}")
        target = self.ds.invoice_by_num.get(target_num)
        if target is None:
            raise RequestError(f"Target invoice {target_num} not found")
        if self.ds.ar_account(target.customer_id) != ar:
            raise RequestError(f"Target invoice {target_num} does not belong to AR account {ar}")
        if amount <= 0:
            raise RequestError("Amount must be positive")
        if amount > payment.available:
            raise RequestError(
                f"Amount {money(amount)} exceeds the payment's available balance {money(payment.available)}"
            )
        self.clock += timedelta(seconds=1)
        req = Request(
            len(self.requests) + 1, payment, target, amount, "Pending", user_id, self.clock, updated=self.clock
        )
        payment.pending += amount
        self.requests.append(req)
        return req

    def advance(self, steps: int = 1) -> None:
        """Move the export clock on: Pending -> Exported, Exported -> Confirmed or Rejected."""
        for _ in range(max(0, steps)):
            self.clock += STEP
            for req in self.requests:
                if req.status == "Exported":
                    self._settle(req)
                elif req.status == "Pending":
                    req.status, req.exported, req.updated = "Exported", self.clock, self.clock

    def _settle(self, req: Request) -> None:
        req.payment.pending -= req.amount
        req.updated = self.clock
        if req.id % 5 == 0 or req.target.balance < req.amount:
            req.status = "Rejected"
            return
        req.status, req.confirmed = "Confirmed", self.clock
        req.application = self._apply(req.payment, req.target, req.amount, "export", self.clock, req.id)

    # ---- rendering -------------------------------------------------------------------------------
    def render_payment(self, p: Payment) -> dict:
        return {
            "PaymentID": p.id,
            "PaymentInvoiceID": p.invoice_id,
            "PaymentInvoiceNum": p.num,
            "ARAccountID": p.ar,
            "PaymentTypeID": p.type_id,
            "PaymentTypeName": dict(PAYMENT_TYPES)[p.type_id],
            "Amount": money(p.amount),
            "SupplierID": None,
            "LoadSheetStatusID": 7,
            "PostDate": ts(p.post),
            "TimeCreated": ts(p.post),
            "TimeUpdated": ts(p.post),
            "AvailableBalance": money(p.available),
        }

    def render_application(self, a: Application) -> dict:
        return {
            "PaymentApplicationID": a.id,
            "PaymentInvoiceID": a.payment.invoice_id,
            "PaymentInvoiceNum": a.payment.num,
            "TargetInvoiceID": a.target.id,
            "TargetInvoiceNum": a.target.num,
            "ARAccountID": a.payment.ar,
            "Amount": money(a.amount),
            "AppliedBy": a.applied_by,
            "TimeApplied": ts(a.time),
            "TimeCreated": ts(a.time),
            "TimeUpdated": ts(a.time),
        }

    def render_request(self, r: Request) -> dict:
        return {
            "RequestID": r.id,
            "PaymentInvoiceNum": r.payment.num,
            "TargetInvoiceNum": r.target.num,
            "ARAccountID": r.payment.ar,
            "Amount": money(r.amount),
            "Status": r.status,
            "RequestedByUserID": r.user_id,
            "TimeRequested": ts(r.requested),
            "TimeExported": ts(r.exported) if r.exported else None,
            "TimeConfirmed": ts(r.confirmed) if r.confirmed else None,
            "MatchedPaymentApplicationID": r.application.id if r.application else None,
            "TimeUpdated": ts(r.updated or r.requested),
        }

    def merged_rows(self) -> list[dict]:
        """The 2026 revision's GET /payments/applications: applications and requests in one list."""
        rows = []
        for a in self.applications:
            if a.request_id is None:
                rows.append(self._merged(a, None))
        for r in self.requests:
            rows.append(self._merged(r.application, r))
        return rows

    def _merged(self, a: Application | None, r: Request | None) -> dict:
        if a:
            base = self.render_application(a)
        else:
            assert r is not None, "a merged row is an application, a request or both"
            base = {
                "PaymentApplicationID": None,
                "PaymentInvoiceID": r.payment.invoice_id,
                "PaymentInvoiceNum": r.payment.num,
                "TargetInvoiceID": r.target.id,
                "TargetInvoiceNum": r.target.num,
                "ARAccountID": r.payment.ar,
                "Amount": money(r.amount),
                "AppliedBy": None,
                "TimeApplied": None,
                "TimeCreated": ts(r.requested),
                "TimeUpdated": ts(r.updated or r.requested),
            }
        base["Status"] = r.status if r else "Confirmed"
        base["RequestID"] = r.id if r else None
        base["RequestedByUserID"] = r.user_id if r else None
        base["TimeRequested"] = ts(r.requested) if r else None
        base["TimeExported"] = ts(r.exported) if r and r.exported else None
        return base


def _credit_back(invoices: list[Invoice], amount: int) -> int:
    """Credit returns worth `amount` cents to `invoices` in order, none beyond what its invoice was for
    (an open balance never exceeds the invoice total in magnitude); the cents left uncredited."""
    for inv in invoices:
        credit = min(amount, max(inv.balance + inv.total, 0))
        inv.adjust += credit
        amount -= credit
    return amount

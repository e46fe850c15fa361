"""The plan of a push: which rows to post, which are already requested, which are rejected and why.

The API state comes from three requests whatever the number of rows (payments, open invoices and
existing requests of every AR account in the sheet). A row is identified by its AllocationID (the ledger
key); it is matched to an existing request in this order, so that one request never answers for two rows:
  1. a RequestID in the sheet: that request, never posted again;
  2. a ledger entry with a request id (a crash before the write-back, or a RequestID the user cleared);
  3. a ledger entry whose outcome is unknown (a crash or an ambiguous POST): reconciled against requests
     of the same account, payment, target and amount created after its POST was prepared. This is the
     only place a request is matched by value: a row whose intent the ledger never recorded is new.
The rows left are new allocations. Hidden and filtered-out rows are skipped unless asked for. A new row
identical to an earlier row of the sheet, or resembling a live request of the API (same account,
payment, invoice and amount; Rejected requests do not count), is held as a possible repeat: it is posted
only when its Repeat column says yes. The rest are checked against balances in sheet order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sheetsync.push.ledger import NEEDS_RECONCILIATION, POSTED, Entry, Ledger
from sheetsync.push.rows import Allocation

POST = "post"
REQUESTED = "requested"
REJECTED = "rejected"
CLAIMED = "claimed"
HELD = "held"  # a possible repeat, posted only when marked Repeat: yes
HIDDEN = "hidden"  # hidden or filtered out in the sheet: skipped unless --include-hidden
LIVE_STATUSES = ("Pending", "Exported", "Confirmed")
PENDING_STATUSES = ("Pending", "Exported")
CLAIM_PREFIX = "sending "


@dataclass
class ApiState:
    """What the API says about the AR accounts of a sheet."""

    payments: dict[str, dict[str, Any]]
    invoices: dict[str, dict[str, Any]]
    requests: dict[int, dict[str, Any]]

    def watermark(self, ar_account: int) -> int:
        """The highest RequestID of the account: anything created later has a higher one."""
        return max((rid for rid, r in self.requests.items() if r.get("ARAccountID") == ar_account), default=0)


def fetch_state(client: Any, ar_accounts: Iterable[int]) -> ApiState:
    """Payments, open invoices and requests of these accounts: one listing each, never one per row."""
    ars = sorted(set(ar_accounts))
    if not ars:
        return ApiState({}, {}, {})
    payments = client.get_all("payments", {"ARAccountIDs": ars})
    invoices = client.get_all("payments/openInvoices", {"ARAccountIDs": ars})
    requests = client.payment_requests(ars)
    return ApiState(
        payments={str(p["PaymentInvoiceNum"]): p for p in payments if p.get("PaymentInvoiceNum")},
        invoices={str(i["InvoiceNum"]): i for i in invoices if i.get("InvoiceNum")},
        requests={int(r["RequestID"]): r for r in requests if r.get("RequestID") is not None},
    )


def request_fingerprint(request: dict[str, Any]) -> tuple[int, str, str, Decimal]:
    return (
        int(request["ARAccountID"]),
        str(request["PaymentInvoiceNum"]),
        str(request["TargetInvoiceNum"]),
        Decimal(str(request["Amount"])).quantize(Decimal("0.01")),
    )


@dataclass
class Decision:
    row: Allocation
    action: str  # POST, REQUESTED, REJECTED or CLAIMED
    reasons: list[str] = field(default_factory=list)
    request_id: int | None = None
    request_status: str | None = None
    note: str = ""  # why the row is already requested (sheet, ledger, reconciled, matched)
    recovered: bool = False  # an outcome from the ledger or the API the sheet does not show yet
    reconciled_absent: bool = False  # an unknown outcome the API shows was never created
    ledger: Entry | None = None


@dataclass
class PaymentTotal:
    payment: str
    ar_account: int
    available: Decimal
    to_post: Decimal = Decimal("0.00")
    rows: int = 0

    @property
    def left(self) -> Decimal:
        return self.available - self.to_post


@dataclass
class Plan:
    decisions: list[Decision]
    totals: dict[str, PaymentTotal]

    def of(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]


class _Pool:
    """Existing requests not yet matched to a row."""

    def __init__(self, requests: dict[int, dict[str, Any]]) -> None:
        self.requests = requests
        self.used: set[int] = set()

    def take(self, request_id: int) -> dict[str, Any] | None:
        self.used.add(request_id)
        return self.requests.get(request_id)

    def find(self, fp: tuple[int, str, str, Decimal], *, after: int | None, live_only: bool) -> int | None:
        for rid in sorted(self.requests):
            request = self.requests[rid]
            if rid in self.used or (after is not None and rid <= after):
                continue
            if live_only and request.get("Status") not in LIVE_STATUSES:
                continue
            if request_fingerprint(request) == fp:
                self.used.add(rid)
                return rid
        return None


def build_plan(
    rows: list[Allocation],
    state: ApiState,
    ledger: Ledger,
    *,
    source_id: str,
    own_runs: set[str] | None = None,
    claims: bool = False,
    include_hidden: bool = False,
) -> Plan:
    """Decide every row. `claims`: honour `sending <run>` marks of other runs (Google Sheets);
    `include_hidden`: plan hidden and filtered-out rows like visible ones."""
    pool = _Pool(state.requests)
    entries = ledger.entries([r.key for r in rows if r.key])
    decisions = [Decision(r, REJECTED, list(r.problems)) if r.problems else Decision(r, POST) for r in rows]
    for d in decisions:
        if d.row.request_id is not None:  # never posted again, whatever else the row says
            d.reasons = []
            _from_sheet(d, pool)
    open_ = [d for d in decisions if d.action == POST]
    if claims:
        runs = own_runs if own_runs is not None else ledger.run_ids()
        open_ = [d for d in open_ if not _claimed_elsewhere(d, runs)]
    for d in open_:
        d.ledger = entries.get(d.row.key)
    open_ = [d for d in open_ if not _conflicting_ledger(d)]
    open_ = [d for d in open_ if not _from_ledger(d, pool, source_id)]
    open_ = [d for d in open_ if not _reconciled(d, pool)]
    if not include_hidden:
        open_ = [d for d in open_ if not _hidden(d)]
    open_ = [d for d in open_ if not _identical_in_sheet(d, decisions)]
    open_ = [d for d in open_ if not _possible_repeat(d, state)]
    totals = _check_balances(open_, state)
    return Plan(decisions, totals)


def _claimed_elsewhere(d: Decision, own_runs: set[str]) -> bool:
    status = d.row.status
    if not status.lower().startswith(CLAIM_PREFIX):
        return False
    run = status[len(CLAIM_PREFIX) :].strip()
    if run in own_runs:
        return False  # a run of this machine that is over (we hold the lock): its claim is stale
    d.action = CLAIMED
    d.reasons.append(f"claimed by another push (run {run}); if that push is gone, clear the Status cell")
    return True


def _requested(
    d: Decision, request_id: int, request: dict[str, Any] | None, note: str, *, recovered: bool = False
) -> bool:
    d.action, d.request_id, d.note, d.recovered = REQUESTED, request_id, note, recovered
    d.request_status = request.get("Status") if request else None
    return True


def _from_sheet(d: Decision, pool: _Pool) -> bool:
    rid = d.row.request_id
    if rid is None:
        return False
    request = pool.take(rid)
    note = "RequestID in the sheet" if request else f"RequestID {rid} in the sheet (not found for this account)"
    return _requested(d, rid, request, note)


def _conflicting_ledger(d: Decision) -> bool:
    e = d.ledger
    if e is None or e.state not in (POSTED, *NEEDS_RECONCILIATION) or e.same_allocation(*d.row.fingerprint):
        return False
    d.action = REJECTED
    d.reasons.append(
        f"{d.row.cell('AllocationID')}: AllocationID {d.row.allocation_id} was already used by an "
        f"earlier push for {e.payment} -> {e.target}, {e.amount} (account {e.ar_account}); "
        "give this row a new AllocationID"
    )
    return True


def _from_ledger(d: Decision, pool: _Pool, source_id: str) -> bool:
    e = d.ledger
    if e is None or e.state != POSTED or e.request_id is None:
        return False
    request = pool.take(e.request_id)
    cleared_by_user = e.written_to == source_id
    if cleared_by_user and request is not None and request.get("Status") == "Rejected":
        return False  # the user cleared the RequestID of a rejected request: post it again
    note = f"posted by run {e.run_id}" + ("" if cleared_by_user else " (outcome recovered from the ledger)")
    return _requested(d, e.request_id, request, note, recovered=True)


def _reconciled(d: Decision, pool: _Pool) -> bool:
    e = d.ledger
    if e is None or e.state not in NEEDS_RECONCILIATION:
        return False
    rid = pool.find(d.row.fingerprint, after=e.watermark, live_only=False)
    if rid is None:
        d.reconciled_absent = True
        d.note = "an earlier POST's outcome was unknown; the API shows no such request, so it is posted again"
        return False
    return _requested(d, rid, pool.requests[rid], f"reconciled: run {e.run_id}'s POST created it", recovered=True)


def _hidden(d: Decision) -> bool:
    if not d.row.hidden:
        return False
    d.action = HIDDEN
    d.reasons.append(f"the row is {d.row.hidden} in the sheet; --include-hidden posts hidden rows")
    return True


def _identical_in_sheet(d: Decision, decisions: list[Decision]) -> bool:
    """A new row with the same account, payment, invoice and amount as an earlier row of the sheet."""
    if d.row.repeat:
        return False
    for earlier in decisions:
        if earlier.row.row_number >= d.row.row_number:
            return False
        if earlier.action in (REJECTED, HIDDEN) or earlier.row.problems:
            continue
        if earlier.row.fingerprint == d.row.fingerprint:
            d.action = HELD
            d.reasons.append(
                f"identical to row {earlier.row.row_number} (same account, payment, invoice and amount); "
                "if it is a second allocation, put yes in its Repeat column"
            )
            return True
    return False


def _possible_repeat(d: Decision, state: ApiState) -> bool:
    """A new row that looks like a live request the API already holds (never a Rejected one)."""
    for rid in sorted(state.requests):
        request = state.requests[rid]
        if request.get("Status") not in LIVE_STATUSES or request_fingerprint(request) != d.row.fingerprint:
            continue
        if d.row.repeat:
            d.note = f"marked Repeat: yes (like request {rid})"
            return False
        d.action = HELD
        d.request_id, d.request_status = rid, str(request.get("Status"))
        d.reasons.append(
            f"possible repeat of request {rid} ({request.get('Status')}, {_day_of(request)}) with the same "
            "payment, invoice and amount; if it is a new allocation, put yes in its Repeat column"
        )
        return True
    return False


def _day_of(request: dict[str, Any]) -> str:
    for name in ("TimeCreated", "TimeRequested", "TimeUpdated"):
        value = request.get(name)
        if value is not None:
            return str(value)[:10]
    return "date unknown"


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0")).quantize(Decimal("0.01"))


def _check_balances(open_: list[Decision], state: ApiState) -> dict[str, PaymentTotal]:
    totals: dict[str, PaymentTotal] = {}
    pending_on: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for request in state.requests.values():
        if request.get("Status") in PENDING_STATUSES:
            pending_on[str(request["TargetInvoiceNum"])] += _money(request.get("Amount"))
    drawn_target: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for d in open_:
        reasons = _check_row(d, state, totals, pending_on, drawn_target)
        if reasons:
            d.action = REJECTED
            d.reasons.extend(reasons)
    return totals


def _check_row(
    d: Decision,
    state: ApiState,
    totals: dict[str, PaymentTotal],
    pending_on: dict[str, Decimal],
    drawn_target: dict[str, Decimal],
) -> list[str]:
    row = d.row
    ar, pnum, tnum, amount = row.fingerprint
    reasons = []
    payment = state.payments.get(pnum)
    if payment is None:
        reasons.append(f"{row.cell('PaymentInvoiceNum')}: payment {pnum} not found for AR account {ar}")
    elif int(payment["ARAccountID"]) != ar:
        reasons.append(
            f"{row.cell('PaymentInvoiceNum')}: payment {pnum} belongs to AR account {payment['ARAccountID']}, not {ar}"
        )
    invoice = state.invoices.get(tnum)
    if invoice is None:
        reasons.append(f"{row.cell('TargetInvoiceNum')}: {tnum} is not an open invoice of AR account {ar}")
    elif int(invoice["ARAccountID"]) != ar:
        reasons.append(
            f"{row.cell('TargetInvoiceNum')}: invoice {tnum} belongs to AR account {invoice['ARAccountID']}, not {ar}"
        )
    if reasons or payment is None or invoice is None:
        return reasons
    total = totals.get(pnum) or PaymentTotal(pnum, ar, _money(payment.get("AvailableBalance")))
    if total.to_post + amount > total.available:
        reasons.append(
            f"{row.cell('Amount')}: {amount} overdraws payment {pnum}: available {total.available}, "
            f"earlier rows of this run take {total.to_post}"
        )
    open_balance = _money(invoice.get("OpenBalance")) - pending_on[tnum]
    if drawn_target[tnum] + amount > open_balance:
        reasons.append(
            f"{row.cell('Amount')}: {amount} exceeds what is open on invoice {tnum}: {open_balance} "
            f"(open balance less pending requests), earlier rows of this run take {drawn_target[tnum]}"
        )
    if not reasons:
        total.to_post += amount
        total.rows += 1
        totals[pnum] = total
        drawn_target[tnum] += amount
    return reasons


def render_plan(plan: Plan, where: str) -> list[str]:
    """The plan as lines of text for a person."""
    post, done, bad, claimed = (plan.of(a) for a in (POST, REQUESTED, REJECTED, CLAIMED))
    held, hidden = plan.of(HELD), plan.of(HIDDEN)
    lines = [
        f"Plan for {where}: {len(post)} to post, {len(done)} already requested, {len(bad)} rejected"
        + (f", {len(held)} held as possible repeats" if held else "")
        + (f", {len(hidden)} hidden (skipped)" if hidden else "")
        + (f", {len(claimed)} claimed by another push" if claimed else "")
    ]
    if post:
        lines.append("To post:")
        lines += [f"  {d.row.label()}: {_desc(d.row)}" + (f"  [{d.note}]" if d.note else "") for d in post]
    if done:
        lines.append("Already requested (skipped):")
        lines += [
            f"  {d.row.label()}: {_desc(d.row)} -> request {d.request_id} "
            f"({d.request_status or 'status unknown'}; {d.note})"
            for d in done
        ]
    if bad:
        lines.append("Rejected:")
        lines += [f"  {d.row.label()}: {'; '.join(d.reasons)}" for d in bad]
    if held:
        lines.append("Held, not posted (possible repeats):")
        lines += [f"  {d.row.label()}: {_desc(d.row)}: {'; '.join(d.reasons)}" for d in held]
    if hidden:
        lines.append("Hidden in the sheet (skipped; --include-hidden posts them):")
        lines += [f"  {d.row.label()}: {_desc(d.row)} ({d.row.hidden})" for d in hidden]
    if claimed:
        lines.append("Claimed by another push (skipped):")
        lines += [f"  {d.row.label()}: {'; '.join(d.reasons)}" for d in claimed]
    if plan.totals:
        lines.append("Totals per payment:")
        lines += [
            f"  {t.payment} (account {t.ar_account}): available {t.available}, to post {t.to_post} "
            f"in {t.rows} row{'s' if t.rows != 1 else ''}, left {t.left}"
            for t in plan.totals.values()
        ]
    return lines


def _desc(row: Allocation) -> str:
    if row.ar_account is None or not row.payment or not row.target or row.amount is None:
        return "(incomplete)"
    return f"{row.payment} -> {row.target}, {row.amount} (account {row.ar_account})"

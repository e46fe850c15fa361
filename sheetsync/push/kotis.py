"""Push merchandise orders from a sheet to Kotis (`POST orders/create`), once, and write every row's outcome.

`push_orders` reads and checks the order lines (`kotis_rows`), reads `skus/quantity`, builds the plan
and, with `apply`, creates each order in turn: the ledger's intent first (a durable commit), then the
POST (never retried once it may have been sent), then the order number in the ledger, then the sheet
(a Google Sheet order by order, an xlsx once at the end, through its surgical write-back). A crash
after the ledger knows the order number is repaired by the next run, which writes it into the rows; a
crash or an ambiguous answer before that blocks the order until `sheetsync kotis resolve`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sheetsync.errors import (
    ApiError,
    AuthError,
    ExitCode,
    ForbiddenError,
    OutcomeNotRecordedError,
    RateLimitedError,
    StoreError,
)
from sheetsync.push.failures import failure_state
from sheetsync.push.interrupt import StopSignals
from sheetsync.push.kotis_ledger import BLOCKED as BLOCKED_STATES
from sheetsync.push.kotis_ledger import CREATED as LEDGER_CREATED
from sheetsync.push.kotis_ledger import NOT_SENT, REFUSED, UNKNOWN, KotisLedger, OrderEntry
from sheetsync.push.kotis_rows import MESSAGE, ORDER_NUM, QUANTITY, SKU, STATUS, UPDATED, Order, read_orders
from sheetsync.push.payments import new_run_id
from sheetsync.push.plan import CLAIM_PREFIX
from sheetsync.push.target import SheetTarget, now_local

# plan actions
CREATE, CREATED, INVALID, BLOCKED, CONFLICT, HIDDEN = "create", "created", "invalid", "blocked", "conflict", "hidden"
CLAIMED = "claimed"  # a Google Sheet's lines marked `sending <run>` by a push of another machine
# Status values written into the sheet (Kotis' own order statuses come from `kotis status`)
CREATED_STATUS, INVALID_STATUS, REFUSED_STATUS = "created", "invalid", "refused"
UNKNOWN_STATUS, NOT_SENT_STATUS, BLOCKED_STATUS, CONFLICT_STATUS = "unknown", "not sent", "blocked", "conflict"
SKIPPED_STATUS = "skipped"  # hidden or filtered out in the sheet


@dataclass
class OrderDecision:
    order: Order
    action: str
    reasons: list[str] = field(default_factory=list)
    order_num: str = ""


@dataclass
class OrderPlan:
    decisions: list[OrderDecision]
    where: str
    account: str  # "Kotis <base URL>, key sha256:..."

    def of(self, action: str) -> list[OrderDecision]:
        return [d for d in self.decisions if d.action == action]


@dataclass
class OrderPushResult:
    plan: OrderPlan
    applied: bool
    run_id: str
    outcomes: dict[str, str] = field(default_factory=dict)  # OrderRef -> sheet status
    stop: ApiError | None = None
    interrupted: str | None = None
    lines: list[str] = field(default_factory=list)
    shown: int = 0  # how many of `lines` were already shown (the plan, before anything was sent)

    def count(self, status: str) -> int:
        return sum(1 for s in self.outcomes.values() if s == status)

    @property
    def exit_code(self) -> ExitCode:
        # an order blocked by an earlier unknown outcome needs `kotis resolve`, not a fixed row: exit 4
        # until it is settled, so a wrapper can tell the two apart
        attention = any(self.plan.of(a) for a in (INVALID, CONFLICT, CLAIMED))
        blocked = bool(self.plan.of(BLOCKED))
        if not self.applied:
            return ExitCode.UNKNOWN_OUTCOME if blocked else ExitCode.PARTIAL if attention else ExitCode.OK
        if self.count(UNKNOWN_STATUS):
            return ExitCode.UNKNOWN_OUTCOME
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.stop is not None:
            return ExitCode.API
        if blocked:
            return ExitCode.UNKNOWN_OUTCOME
        if attention or self.count(REFUSED_STATUS) or self.count(NOT_SENT_STATUS):
            return ExitCode.PARTIAL
        return ExitCode.OK


# ---- the plan ------------------------------------------------------------------------------------
def build_order_plan(
    orders: list[Order],
    available: dict[str, int],
    entries: dict[str, OrderEntry],
    *,
    where: str,
    source_id: str,
    account: str,
    include_hidden: bool = False,
    own_runs: set[str] | None = None,
) -> OrderPlan:
    """Decide every order: create, already created, invalid, blocked (unknown outcome), conflict, hidden,
    claimed. `available` is `skus/quantity`'s available_quantity by SKU; `entries` the ledger by OrderRef;
    `own_runs` (Google Sheets) the runs of this store, whose `sending <run>` marks are not another push's."""
    decisions = [_decide(o, entries.get(o.ref), source_id, include_hidden) for o in orders]
    if own_runs is not None:
        _claimed_elsewhere([d for d in decisions if d.action in (CREATE, INVALID)], own_runs)
    _check_each_line([d for d in decisions if d.action in (CREATE, INVALID)], available)
    _invalidate(decisions)
    _check_stock([d for d in decisions if d.action == CREATE], available)
    _invalidate(decisions)
    return OrderPlan(decisions, where, account)


def _invalidate(decisions: list[OrderDecision]) -> None:
    for d in decisions:
        if d.action in (CREATE, INVALID) and not d.order.valid:
            d.action, d.reasons = INVALID, d.order.all_problems()


def _decide(order: Order, entry: OrderEntry | None, source_id: str, include_hidden: bool) -> OrderDecision:
    if entry is not None and entry.state == LEDGER_CREATED:
        return _created(order, entry, source_id)
    if entry is not None and entry.state in BLOCKED_STATES:
        return OrderDecision(order, BLOCKED, [blocked_message(order.ref, entry)])
    if order.order_num:
        return _created_by_the_sheet(order)
    if order.hidden and not include_hidden:
        return OrderDecision(order, HIDDEN, [f"every line is {order.hidden} in the sheet"])
    unseen = [line for line in order.lines if line.hidden]
    if unseen and not include_hidden:
        rows = ", ".join(f"{line.row_number} ({line.hidden})" for line in unseen)
        reason = f"rows {rows} of order {order.ref} are not visible while others are; show them, or --include-hidden"
        return OrderDecision(order, INVALID, [reason, *order.all_problems()])
    if not order.valid:
        return OrderDecision(order, INVALID, order.all_problems())
    return OrderDecision(order, CREATE)


def _created(order: Order, entry: OrderEntry, source_id: str) -> OrderDecision:
    if entry.fingerprint == order.fingerprint():
        return OrderDecision(order, CREATED, [f"already created as order {entry.order_num}"], entry.order_num)
    if entry.source != source_id:
        reason = (
            f"OrderRef {order.ref} was already used for order {entry.order_num} (from {entry.source}); "
            "give this order its own OrderRef"
        )
    else:
        reason = (
            f"edited after order {entry.order_num} was created; not re-sent (undo the edit, or give a new "
            "order its own OrderRef)"
        )
    return OrderDecision(order, CONFLICT, [reason], entry.order_num)


def _claimed_elsewhere(decisions: list[OrderDecision], own_runs: set[str]) -> None:
    for d in decisions:
        runs = {line.status[len(CLAIM_PREFIX) :].strip() for line in d.order.lines if _is_claim(line.status)}
        others = sorted(runs - own_runs)
        if others:
            d.action = CLAIMED
            d.reasons = [f"claimed by another push (run {others[0]}); if that push is gone, clear the Status cells"]


def _is_claim(status: str) -> bool:
    return status.lower().startswith(CLAIM_PREFIX)


def _created_by_the_sheet(order: Order) -> OrderDecision:
    """An OrderNum typed or kept in the sheet that this ledger does not know: trusted, never re-sent, but
    only when every line of the order carries the same one (a line without it was never part of it)."""
    numbers = sorted({line.order_num for line in order.lines})
    if len(numbers) == 1:
        reason = f"the sheet says order {order.order_num} (not created by this ledger)"
        return OrderDecision(order, CREATED, [reason], order.order_num)
    shown = ", ".join(f"row {line.row_number}: {line.order_num or 'none'}" for line in order.lines)
    reason = (
        f"the lines of {order.ref} name different OrderNums ({shown}); a line added to an order that was "
        "already created is not sent: give it its own OrderRef"
    )
    return OrderDecision(order, CONFLICT, [reason], order.order_num)


def blocked_message(ref: str, entry: OrderEntry) -> str:
    return (
        f"the POST of {ref} at {(entry.sent_at or '?')[:19]}Z got no clear answer: it may have created an order. "
        f"Check the Kotis portal, then run `sheetsync kotis resolve {ref} --order-num N` or "
        f"`sheetsync kotis resolve {ref} --not-created` (`sheetsync kotis resolve {ref}` lists candidates)"
    )


def _check_each_line(decisions: list[OrderDecision], available: dict[str, int]) -> None:
    """Unknown SKUs, and a line asking for more than is available on its own."""
    for d in decisions:
        for line in d.order.lines:
            if line.sku is None:
                continue
            if line.sku not in available:
                line.problems.append(f"{line.cell(SKU)}: SKU {line.sku!r} is not in Kotis' skus/quantity")
            elif line.quantity is not None and line.quantity > available[line.sku]:
                line.problems.append(
                    f"{line.cell(QUANTITY)}: SKU {line.sku}: {line.quantity} ordered, "
                    f"only {available[line.sku]} available"
                )


def _check_stock(to_create: list[OrderDecision], available: dict[str, int]) -> None:
    """Quantities above what is available, summed over the lines this run would create: an order that
    is invalid, hidden or already created for another reason does not take stock from the others."""
    lines_by_sku = defaultdict(list)
    for d in to_create:
        for line in d.order.lines:
            if line.sku is not None and line.quantity is not None:
                lines_by_sku[line.sku].append(line)
    for sku, lines in lines_by_sku.items():
        wanted = sum(line.quantity or 0 for line in lines)
        if wanted <= available[sku]:
            continue
        rows = ", ".join(str(line.row_number) for line in lines)
        for line in lines:
            line.problems.append(
                f"{line.cell(QUANTITY)}: SKU {sku}: {wanted} ordered (rows {rows}), only {available[sku]} available"
            )


def render_order_plan(plan: OrderPlan) -> list[str]:
    """The plan as a person reads it: where, which account, then each order by action."""
    create = plan.of(CREATE)
    units = sum(line.quantity or 0 for d in create for line in d.order.lines)
    lines = [
        f"Plan for {plan.where}",
        f"  {plan.account}",
        f"  {len(create)} orders to create ({sum(len(d.order.lines) for d in create)} lines, {units} units), "
        f"{len(plan.of(CREATED))} already created, {len(plan.of(INVALID))} invalid, {len(plan.of(BLOCKED))} blocked, "
        f"{len(plan.of(CONFLICT))} conflicts, {len(plan.of(HIDDEN))} hidden"
        + (f", {len(plan.of(CLAIMED))} claimed by another push" if plan.of(CLAIMED) else ""),
    ]
    for d in plan.decisions:
        lines.append(f"  {d.action:<8} {d.order.label()}: {_describe(d)}")
        lines += [f"             - {reason}" for reason in d.reasons if d.action != CREATED]
    return lines


def _describe(d: OrderDecision) -> str:
    if d.action == CREATED:
        return d.reasons[0] if d.reasons else f"order {d.order_num}"
    first = d.order.lines[0].fields
    skus = ", ".join(f"{line.quantity or '?'} x {line.sku or '?'}" for line in d.order.lines)
    place = " ".join(str(first[f]) for f in ("City", "State") if first.get(f))  # a missing City leaves no gap
    return f"{skus} -> {', '.join(str(part) for part in (first.get('Name'), place) if part)}"


# ---- push ----------------------------------------------------------------------------------------
def push_orders(
    client: Any,
    target: SheetTarget,
    ledger: KotisLedger,
    *,
    apply: bool,
    key_fingerprint: str = "",
    include_hidden: bool = False,
    run_id: str | None = None,
    signals: StopSignals | None = None,
    show: Callable[[str], None] | None = None,
) -> OrderPushResult:
    """Plan (and with `apply`, create) the orders of the target sheet. With `apply`, the plan goes to
    `show` line by line before the first POST; SIGINT and SIGTERM stop after the order in flight;
    every outcome known so far is written."""
    run_id = run_id or new_run_id()
    account = f"Kotis {client.base_url}, key {key_fingerprint or '(none)'} (test or live: as the key was made)"
    if not apply:
        plan = plan_orders(client, target, ledger, account, include_hidden)
        return OrderPushResult(plan, False, run_id, lines=render_order_plan(plan))
    target.source.check_writable()
    with ledger.locked(), signals or StopSignals() as stop:
        ledger.record_run(run_id, target.source_id)
        plan = plan_orders(client, target, ledger, account, include_hidden)
        result = OrderPushResult(plan, True, run_id, lines=render_order_plan(plan))
        if show is not None:
            for text in result.lines:
                show(text)
            result.shown = len(result.lines)
        _OrderApplier(client, target, ledger, result, stop).run()
    result.lines += _summary(result)
    return result


def plan_orders(
    client: Any, target: SheetTarget, ledger: KotisLedger, account: str, include_hidden: bool = False
) -> OrderPlan:
    orders = read_orders(target.source, target.tab)
    available = {str(s["sku"]): int(s.get("available_quantity") or 0) for s in client.sku_quantities()}
    entries = ledger.entries([o.ref for o in orders])
    return build_order_plan(
        orders,
        available,
        entries,
        where=target.where(),
        source_id=target.source_id,
        account=account,
        include_hidden=include_hidden,
        own_runs=ledger.run_ids() if target.row_by_row else None,
    )


class _OrderApplier:
    """The --apply part of a push, one instance per run."""

    def __init__(
        self, client: Any, target: SheetTarget, ledger: KotisLedger, result: OrderPushResult, stop: StopSignals
    ) -> None:
        self.client, self.target, self.ledger, self.result, self.signals = client, target, ledger, result, stop
        self.pending: dict[int, dict[str, Any]] = {}

    def run(self) -> None:
        plan = self.result.plan
        self._record_non_creates(plan)
        to_create = plan.of(CREATE)
        if self.target.row_by_row:
            self._flush()
            to_create = self._claim(to_create)
        for index, d in enumerate(to_create):
            if self.signals.received:
                self.result.interrupted = self.signals.received
            if self.result.interrupted or self.result.stop is not None:
                for rest in to_create[index:]:
                    self._same(rest, NOT_SENT_STATUS, "", self._not_sent_message())
                break
            self._create(d)
        self._flush()

    def _claim(self, to_create: list[OrderDecision]) -> list[OrderDecision]:
        """Google Sheets: mark the lines `sending <run>`, read the sheet again, keep the orders still ours
        and unchanged (another machine's push, with its own ledger, skips them from now on)."""
        if not to_create:
            return to_create
        mark = f"{CLAIM_PREFIX}{self.result.run_id}"
        self.target.write({line.row_number: {STATUS: mark} for d in to_create for line in d.order.lines})
        now = {o.ref: o for o in read_orders(self.target.source, self.target.tab)}
        kept = []
        for d in to_create:
            again = now.get(d.order.ref)
            same = again is not None and again.rows == d.order.rows and again.fingerprint() == d.order.fingerprint()
            if same and again is not None and all(line.status == mark for line in again.lines):
                kept.append(d)
                continue
            d.action = CLAIMED
            d.reasons = ["claimed by another push, or changed while pushing; not sent by this run"]
            self.result.outcomes[d.order.ref] = CLAIMED
        return kept

    def _record_non_creates(self, plan: OrderPlan) -> None:
        for d in plan.decisions:
            if d.action == INVALID:
                self._invalid(d)
            elif d.action == BLOCKED:
                self._same(d, BLOCKED_STATUS, None, d.reasons[0])
            elif d.action == CONFLICT:
                self._same(d, CONFLICT_STATUS, None, d.reasons[0])
            elif d.action == CLAIMED:
                self.result.outcomes[d.order.ref] = CLAIMED  # the other push writes its outcome
            elif d.action == HIDDEN:
                self._same(d, SKIPPED_STATUS, None, f"not sent: {d.reasons[0]}; --include-hidden sends it")
            elif d.action == CREATED and any(line.order_num != d.order_num for line in d.order.lines):
                self._same(d, CREATED_STATUS, d.order_num, d.reasons[0] if d.reasons else "")

    def _invalid(self, d: OrderDecision) -> None:
        order = d.order
        for line in order.lines:
            own = line.problems or order.problems
            text = "; ".join(own) if own else "another line of this order is invalid: " + "; ".join(d.reasons)
            self._row(line.row_number, INVALID_STATUS, "", text)
        self.result.outcomes[order.ref] = INVALID_STATUS

    def _create(self, d: OrderDecision) -> None:
        order, run_id = d.order, self.result.run_id
        payload = order.payload()
        self.ledger.record_intent(
            order.ref,
            payload=payload,
            fingerprint=order.fingerprint(),
            source=self.target.source_id,
            rows=order.rows,
            run_id=run_id,
        )
        try:
            body = self.client.create_order(payload)
        except ApiError as exc:
            self._failed(d, exc)
            return
        number = str(body.get("order_num") or "") if isinstance(body, dict) else ""
        if not number:
            self._unknown(d, f"the API answered without an order number: {str(body)[:200]}")
            return
        try:
            self.ledger.record_outcome(order.ref, LEDGER_CREATED, order_num=number, message=f"run {run_id}")
        except StoreError as exc:
            raise OutcomeNotRecordedError(
                f"{order.label()}: order {number} was created, but the ledger could not record it ({exc.message}); "
                f"record it with `sheetsync kotis resolve {order.ref} --order-num {number}`"
            ) from None
        self._same(d, CREATED_STATUS, number, f"created by run {run_id}")

    def _failed(self, d: OrderDecision, exc: ApiError) -> None:
        ref, state = d.order.ref, failure_state(exc)
        if state == NOT_SENT:
            self.ledger.record_outcome(ref, NOT_SENT, message=exc.message)
            self.result.stop = exc
            self._same(d, NOT_SENT_STATUS, "", self._not_sent_message())
        elif state == REFUSED:
            detail = str(getattr(exc, "detail", "") or exc.api_message or exc.message)
            self.ledger.record_outcome(ref, REFUSED, message=detail)
            for row, text in split_detail(d.order, detail).items():
                self._row(row, REFUSED_STATUS, "", text)
            self.result.outcomes[ref] = REFUSED_STATUS
        else:
            self._unknown(d, exc.message)
            self.result.stop = exc

    def _unknown(self, d: OrderDecision, why: str) -> None:
        self.ledger.record_outcome(d.order.ref, UNKNOWN, message=why)
        entry = self.ledger.get(d.order.ref)
        assert entry is not None
        self._same(d, UNKNOWN_STATUS, "", f"outcome unknown ({why}); {blocked_message(d.order.ref, entry)}")

    def _not_sent_message(self) -> str:
        if self.result.interrupted:
            return f"not sent: the run was stopped ({self.result.interrupted}); run the push again to send it"
        stop = self.result.stop
        if isinstance(stop, (RateLimitedError, AuthError, ForbiddenError)):
            return f"not sent: {stop.message}"
        return "not sent: the run stopped after an unknown outcome; settle it, then run the push again"

    # ---- the sheet -------------------------------------------------------------------------------
    def _same(self, d: OrderDecision, status: str, order_num: str | None, message: str) -> None:
        """The same outcome on every line of the order; `order_num` None keeps each line's own OrderNum."""
        for line in d.order.lines:
            self._row(line.row_number, status, line.order_num if order_num is None else order_num, message)
        self.result.outcomes[d.order.ref] = status
        if self.target.row_by_row:
            self._flush()

    def _row(self, row: int, status: str, order_num: str, message: str) -> None:
        self.pending[row] = {STATUS: status, ORDER_NUM: order_num or None, MESSAGE: message, UPDATED: now_local()}

    def _flush(self) -> None:
        if self.pending:
            self.target.write(self.pending)
            self.pending = {}


_PARTS = re.compile(r",\s+(?=[A-Z])")  # "Sku 1 does not exist, Sku 2 does not exist" (not "1,000")
_SKU_IN_DETAIL = re.compile(r"\bSku\s+(\S+)", re.IGNORECASE)


def split_detail(order: Order, detail: str) -> dict[int, str]:
    """Kotis' one comma-separated error detail for a whole order, split back onto the rows it names:
    a part naming a SKU goes to that SKU's rows, any other part (the address, ...) to every row."""
    parts = [p.strip() for p in _PARTS.split(detail) if p.strip()] or ["(no detail given)"]
    own: dict[int, list[str]] = defaultdict(list)
    general: list[str] = []
    for part in parts:
        match = _SKU_IN_DETAIL.search(part)
        rows = [line.row_number for line in order.lines if match and line.sku == match.group(1)]
        if rows:
            for row in rows:
                own[row].append(part)
        else:
            general.append(part)
    messages = {}
    for line in order.lines:
        mine = own.get(line.row_number, []) + general
        if mine:
            messages[line.row_number] = "refused by Kotis: " + "; ".join(mine)
        else:
            others = "; ".join(p for p in parts)
            messages[line.row_number] = f"refused by Kotis (another line of this order): {others}"
    return messages


def _summary(result: OrderPushResult) -> list[str]:
    created = sum(1 for d in result.plan.of(CREATE) if result.outcomes.get(d.order.ref) == CREATED_STATUS)
    lines = [
        f"Run {result.run_id}: {created} created, "
        f"{len(result.plan.of(CREATED))} already created, {result.count(INVALID_STATUS)} invalid, "
        f"{result.count(REFUSED_STATUS)} refused by Kotis, {result.count(BLOCKED_STATUS)} blocked, "
        f"{result.count(CONFLICT_STATUS)} conflicts, {result.count(NOT_SENT_STATUS)} not sent, "
        f"{result.count(UNKNOWN_STATUS)} unknown, {result.count(SKIPPED_STATUS)} hidden (skipped)"
        + (f", {len(result.plan.of(CLAIMED))} claimed by another push" if result.plan.of(CLAIMED) else "")
    ]
    if result.interrupted:
        lines.append(
            f"Stopped by {result.interrupted} after the order in flight; every outcome so far is in the sheet. "
            "Run the same command again to send the rest."
        )
    if result.count(UNKNOWN_STATUS) or result.count(BLOCKED_STATUS):
        lines.append(
            "Some orders may or may not exist in Kotis: they are never re-sent automatically. Check the Kotis "
            "portal and settle each with `sheetsync kotis resolve REF --order-num N` or `--not-created`."
        )
    return lines

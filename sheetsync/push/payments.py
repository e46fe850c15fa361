"""Push payment allocations from a sheet to KSS, once, and write every row's outcome back.

`push_allocations` reads and checks the rows, fetches the API state, builds the plan and, with
`apply`, posts the rows one at a time: the ledger's intent first (a durable commit), then the POST, then
the ledger's result, then the sheet (a Google Sheet row by row, an xlsx once at the end). Anything the
sheet does not show yet (a crash between POST and write-back) is written from the ledger next time.
`refresh_status` copies each request's current status into the sheet.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sheetsync.errors import (
    ApiError,
    AuthError,
    ExitCode,
    ForbiddenError,
    OutcomeNotRecordedError,
    PushError,
    RateLimitedError,
    StoreError,
)
from sheetsync.push.failures import failure_state
from sheetsync.push.interrupt import StopSignals
from sheetsync.push.ledger import NEEDS_RECONCILIATION, NOT_SENT, POSTED, REFUSED, UNKNOWN, Ledger
from sheetsync.push.plan import (
    CLAIM_PREFIX,
    CLAIMED,
    HELD,
    HIDDEN,
    POST,
    REJECTED,
    REQUESTED,
    ApiState,
    Decision,
    Plan,
    build_plan,
    fetch_state,
    render_plan,
)
from sheetsync.push.rows import MESSAGE, REQUEST_ID, STATUS, UPDATED, Allocation, read_allocations
from sheetsync.push.target import SheetTarget, now_local, xlsx_target

__all__ = ["SheetTarget", "approve_allocations", "push_allocations", "refresh_status", "xlsx_target"]

# Status values sheetsync writes itself (the API's are Pending, Exported, Confirmed, Rejected)
INVALID, REFUSED_STATUS, UNKNOWN_STATUS, NOT_SENT_STATUS = "invalid", "refused", "unknown", "not sent"
HELD_STATUS = "held"


@dataclass(frozen=True)
class Outcome:
    status: str
    request_id: int | None
    message: str


@dataclass
class PushResult:
    plan: Plan
    applied: bool
    run_id: str
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # row number -> what the sheet now says
    stop: ApiError | None = None
    interrupted: str | None = None  # the signal that stopped --apply ("SIGINT", "SIGTERM")
    lines: list[str] = field(default_factory=list)
    shown: int = 0  # how many of `lines` were already shown (the plan, before anything was sent)

    @property
    def exit_code(self) -> ExitCode:
        needs_attention = self.plan.of(REJECTED) or self.plan.of(CLAIMED) or self.plan.of(HELD)
        if not self.applied:
            return ExitCode.PARTIAL if needs_attention else ExitCode.OK
        statuses = {o.status for o in self.outcomes.values()}
        if UNKNOWN_STATUS in statuses:
            return ExitCode.UNKNOWN_OUTCOME
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.stop is not None:
            return ExitCode.API
        if statuses & {INVALID, REFUSED_STATUS, NOT_SENT_STATUS} or needs_attention:
            return ExitCode.PARTIAL
        return ExitCode.OK

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.status == status)


def new_run_id() -> str:
    return f"{datetime.now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def check_key_type(key_type: str) -> None:
    if key_type == "supplier":
        raise ForbiddenError(
            "a Supplier key may not read payments or post allocation requests; use an employee or customer key"
        )


def push_allocations(
    client: Any,
    target: SheetTarget,
    ledger: Ledger,
    *,
    apply: bool,
    key_type: str = "employee",
    run_id: str | None = None,
    require_approval: bool = False,
    include_hidden: bool = False,
    signals: StopSignals | None = None,
    show: Callable[[str], None] | None = None,
) -> PushResult:
    """Plan (and with `apply`, post) the allocation rows of the target sheet. With `require_approval`,
    `apply` raises PushError before anything is sent unless `approve_allocations` recorded this plan.
    With `apply`, SIGINT and SIGTERM stop the run after the request in flight (`signals`, installed
    here when not given): every outcome known so far is written and `interrupted` names the signal.
    With `apply`, the plan goes to `show` line by line before the first POST."""
    check_key_type(key_type)
    run_id = run_id or new_run_id()
    if not apply:
        plan, _ = _plan(client, target, ledger, include_hidden)
        return PushResult(plan, False, run_id, lines=render_plan(plan, _where(target)))
    target.source.check_writable()
    with ledger.locked(), signals or StopSignals() as stop:
        ledger.record_run(run_id, target.source_id)
        plan, state = _plan(client, target, ledger, include_hidden)
        if require_approval:
            check_approval(ledger, target, plan)
        result = PushResult(plan, True, run_id, lines=render_plan(plan, _where(target)))
        if show is not None:
            for text in result.lines:
                show(text)
            result.shown = len(result.lines)
        _Applier(client, target, ledger, result, state, stop).run()
    result.lines += _summary(result)
    return result


def _plan(client: Any, target: SheetTarget, ledger: Ledger, include_hidden: bool = False) -> tuple[Plan, ApiState]:
    rows = read_allocations(target.source, target.tab)
    state = fetch_state(client, [r.ar_account for r in rows if r.ar_account is not None and not r.problems])
    plan = build_plan(
        rows, state, ledger, source_id=target.source_id, claims=target.row_by_row, include_hidden=include_hidden
    )
    return plan, state


def plan_hash(plan: Plan) -> str:
    """The hash of what the sheet asks for: every row's number, AllocationID, account, payment, target
    and amount (not its Status or RequestID, which a push writes). Any edit to a row changes it."""
    rows = [
        [d.row.row_number, d.row.allocation_id, d.row.ar_account, d.row.payment, d.row.target, str(d.row.amount)]
        for d in plan.decisions
    ]
    return "sha256:" + hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def approve_allocations(client: Any, target: SheetTarget, ledger: Ledger, *, key_type: str = "employee") -> PushResult:
    """Plan the sheet and record the OS user's approval of exactly this plan (its hash)."""
    check_key_type(key_type)
    plan, _ = _plan(client, target, ledger)
    digest = plan_hash(plan)
    ledger.approve(target.source_id, digest, len(plan.of(POST)))
    result = PushResult(plan, False, "", lines=render_plan(plan, _where(target)))
    result.lines.append(
        f"Approved by {ledger.store.actor.user}: plan {digest} of {_where(target)} "
        f"({len(plan.of(POST))} rows to post). `payments push --apply` now sends exactly this plan."
    )
    return result


def check_approval(ledger: Ledger, target: SheetTarget, plan: Plan) -> None:
    """Raise PushError unless exactly this plan was approved (from this sheet or a copy of it)."""
    if ledger.approval(plan_hash(plan)) is not None:
        return
    where = _where(target)
    last = ledger.last_approval_of(target.source_id)
    if last is None:
        raise PushError(
            f"{where}: payments need approval ([payments] require_approval) and this sheet has none; "
            "nothing was sent. Ask an approver to run `sheetsync payments approve` on it"
        )
    raise PushError(
        f"{where}: the sheet changed since {last['approver']} approved it ({last['at'][:19]}Z, "
        f"plan {last['plan_hash']}); nothing was sent. It needs a new `sheetsync payments approve`"
    )


def _where(target: SheetTarget) -> str:
    return target.where()


def _now() -> datetime:
    return now_local()


def _cells(outcome: Outcome) -> dict[str, Any]:
    return {STATUS: outcome.status, REQUEST_ID: outcome.request_id, MESSAGE: outcome.message, UPDATED: _now()}


class _Applier:
    """The --apply part of a push, one instance per run."""

    def __init__(
        self, client: Any, target: SheetTarget, ledger: Ledger, result: PushResult, state: ApiState, stop: StopSignals
    ) -> None:
        self.client, self.target, self.ledger, self.result = client, target, ledger, result
        self.signals = stop
        self.watermarks: dict[int, int] = {}
        self.state = state
        self.pending: dict[int, dict[str, Any]] = {}  # xlsx: row -> cells, written once at the end
        self.written_keys: list[str] = []

    def run(self) -> None:
        plan = self.result.plan
        self._settle_reconciliations(plan)
        self._record_non_posts(plan)
        to_post = plan.of(POST)
        if self.target.row_by_row:
            self._flush()
            to_post = self._claim(to_post)
        for index, d in enumerate(to_post):
            if self.signals.received:
                self.result.interrupted = self.signals.received
                for rest in to_post[index:]:
                    self._outcome(rest, Outcome(NOT_SENT_STATUS, None, self._not_sent_message()))
                break
            self._post(d)
            if self.result.stop is not None:
                for rest in to_post[index + 1 :]:
                    self._outcome(rest, Outcome(NOT_SENT_STATUS, None, self._not_sent_message()))
                break
        self._flush()

    # ---- before posting --------------------------------------------------------------------------
    def _settle_reconciliations(self, plan: Plan) -> None:
        for d in plan.decisions:
            e = d.ledger
            if e is None or e.state not in NEEDS_RECONCILIATION:
                continue
            if d.action == REQUESTED and d.request_id is not None:
                self.ledger.record_result(e.key, POSTED, request_id=d.request_id, message="reconciled")
            elif d.reconciled_absent:
                self.ledger.record_result(e.key, NOT_SENT, message="reconciled: no request was created")

    def _record_non_posts(self, plan: Plan) -> None:
        for d in plan.decisions:
            if d.action == REJECTED:
                self._outcome(d, Outcome(INVALID, None, "; ".join(d.reasons)))
            elif d.action == HELD:
                self._outcome(d, Outcome(HELD_STATUS, None, "not posted: " + "; ".join(d.reasons)))
            elif d.action == REQUESTED and (d.recovered or self._sheet_differs(d)):
                self._outcome(d, Outcome(d.request_status or "requested", d.request_id, f"already requested: {d.note}"))

    def _sheet_differs(self, d: Decision) -> bool:
        return bool(d.request_status) and d.row.status != d.request_status

    def _claim(self, to_post: list[Decision]) -> list[Decision]:
        """Google Sheets: mark the rows `sending <run>`, re-read, keep only rows still ours."""
        if not to_post:
            return to_post
        mark = f"{CLAIM_PREFIX}{self.result.run_id}"
        self.target.write({d.row.row_number: {STATUS: mark} for d in to_post})
        now = {a.row_number: a for a in read_allocations(self.target.source, self.target.tab)}
        kept = []
        for d in to_post:
            again = now.get(d.row.row_number)
            if again is not None and again.status == mark and not again.problems and again.key == d.row.key:
                kept.append(d)
                continue
            d.action = CLAIMED
            d.reasons.append("claimed by another push, or changed while pushing; not sent by this run")
        return kept

    # ---- posting ---------------------------------------------------------------------------------
    def _post(self, d: Decision) -> None:
        row = d.row
        ar, payment, target, amount = row.fingerprint
        watermark = max(self.watermarks.get(ar, 0), self.state.watermark(ar))
        self.ledger.record_intent(
            row.key,
            ar_account=ar,
            payment=payment,
            target=target,
            amount=amount,
            run_id=self.result.run_id,
            source=self.target.source_id,
            row_number=row.row_number,
            watermark=watermark,
        )
        try:
            record = self.client.request_payment_application(
                payment_invoice_num=payment,
                target_invoice_num=target,
                ar_account_id=ar,
                amount=amount,
                client_request_id=f"ss{self.result.run_id.replace('-', '')}r{row.row_number}",
            )
        except ApiError as exc:
            self._failed(d, exc)
            return
        request_id = int(record["RequestID"])
        self.watermarks[ar] = max(watermark, request_id)
        try:
            self.ledger.record_result(row.key, POSTED, request_id=request_id)
        except StoreError as exc:
            raise OutcomeNotRecordedError(
                f"{row.label()}: request {request_id} was created, but the ledger could not record it "
                f"({exc.message}); run the push again when the store is back: it reconciles before sending"
            ) from None
        self._outcome(
            d,
            Outcome(str(record.get("Status") or "Pending"), request_id, f"requested by run {self.result.run_id}"),
            key=row.key,
        )

    def _failed(self, d: Decision, exc: ApiError) -> None:
        key = d.row.key
        state = failure_state(exc)
        if state == NOT_SENT:  # refused before anything was created
            self.ledger.record_result(key, NOT_SENT, message=exc.message)
            self.result.stop = exc
            self._outcome(d, Outcome(NOT_SENT_STATUS, None, self._not_sent_message()))
        elif state == REFUSED:
            self.ledger.record_result(key, REFUSED, message=exc.message)
            self._outcome(d, Outcome(REFUSED_STATUS, None, f"the API refused it: {exc.api_message or exc.message}"))
        else:
            self.ledger.record_result(key, UNKNOWN, message=exc.message)
            self.result.stop = exc
            self._outcome(
                d,
                Outcome(
                    UNKNOWN_STATUS,
                    None,
                    "outcome unknown (no answer after sending); the next push checks the API "
                    "before sending anything, do not re-enter this row",
                ),
            )

    def _not_sent_message(self) -> str:
        if self.result.interrupted:
            return f"not sent: the run was stopped ({self.result.interrupted}); run the push again to send it"
        stop = self.result.stop
        if isinstance(stop, RateLimitedError):
            when = f" (it recovers at {stop.recovers_at:%Y-%m-%d %H:%M})" if stop.recovers_at else ""
            return f"not sent: the KSS quota ran out{when}; run the push again to resume"
        if isinstance(stop, (AuthError, ForbiddenError)):
            return f"not sent: {stop.message}"
        return "not sent: the run stopped after an unknown outcome; run the push again to resume"

    # ---- the sheet -------------------------------------------------------------------------------
    def _outcome(self, d: Decision, outcome: Outcome, *, key: str | None = None) -> None:
        self.result.outcomes[d.row.row_number] = outcome
        if key is None and d.action == REQUESTED and d.ledger is not None and d.row.key:
            key = d.row.key
        self.pending[d.row.row_number] = _cells(outcome)
        if key:
            self.written_keys.append(key)
        if self.target.row_by_row:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        self.target.write(self.pending)
        self.ledger.mark_written(self.written_keys, self.target.source_id)
        self.pending, self.written_keys = {}, []


def _summary(result: PushResult) -> list[str]:
    posted = sum(
        1
        for d in result.plan.of(POST)
        if result.outcomes.get(d.row.row_number, Outcome("", None, "")).request_id is not None
    )
    lines = [
        f"Run {result.run_id}: {posted} posted, {len(result.plan.of(REQUESTED))} already requested, "
        f"{result.count(INVALID)} invalid, {len(result.plan.of(HELD))} held, {len(result.plan.of(HIDDEN))} hidden, "
        f"{result.count(REFUSED_STATUS)} refused by the API, {result.count(NOT_SENT_STATUS)} not sent, "
        f"{result.count(UNKNOWN_STATUS)} unknown"
    ]
    if result.interrupted:
        lines.append(
            f"Stopped by {result.interrupted} after the request in flight; every outcome so far is in the sheet. "
            "Run the same command again to reconcile and send the rest."
        )
    if result.count(UNKNOWN_STATUS):
        lines.append(
            "Some outcomes are unknown: run `sheetsync payments push` again; it reconciles them with the "
            "API before sending anything."
        )
    return lines


# ---- status --------------------------------------------------------------------------------------
STATUS_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "Pending": lambda r: "queued for export to the accounting system",
    "Exported": lambda r: "sent to the accounting system, awaiting confirmation",
    "Confirmed": lambda r: f"applied (payment application {r.get('MatchedPaymentApplicationID') or '?'})",
    "Rejected": lambda r: "rejected: not confirmed in time; clear RequestID and push again to re-post",
}


@dataclass
class StatusResult:
    counts: dict[str, int]
    missing: list[int]  # rows whose RequestID the API does not know
    lines: list[str]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.PARTIAL if self.missing else ExitCode.OK


def refresh_status(client: Any, target: SheetTarget, ledger: Ledger, *, key_type: str = "employee") -> StatusResult:
    """Copy the current status of every requested row into the sheet, in one write."""
    check_key_type(key_type)
    rows = read_allocations(target.source, target.tab)
    entries = ledger.entries([r.key for r in rows if r.key])
    wanted: dict[int, tuple[Allocation, int]] = {}
    for row in rows:
        entry = entries.get(row.key)
        if row.request_id is not None:
            wanted[row.row_number] = (row, row.request_id)
        elif (
            entry
            and entry.state == POSTED
            and entry.request_id
            and entry.written_to != target.source_id
            and not row.problems
            and entry.same_allocation(*row.fingerprint)
        ):
            wanted[row.row_number] = (row, entry.request_id)  # posted, not yet shown in this sheet
    ars = sorted({r.ar_account for r, _ in wanted.values() if r.ar_account is not None})
    requests = {
        int(r["RequestID"]): r for r in (client.payment_requests(ars) if ars else []) if r.get("RequestID") is not None
    }
    updates: dict[int, dict[str, Any]] = {}
    counts, missing = dict.fromkeys(STATUS_MESSAGES, 0), []
    for number, (row, rid) in sorted(wanted.items()):
        request = requests.get(rid)
        if request is None:
            missing.append(number)
            updates[number] = {MESSAGE: f"request {rid} not found for AR account {row.ar_account}"}
            continue
        status = str(request.get("Status"))
        counts[status] = counts.get(status, 0) + 1
        updates[number] = {
            STATUS: status,
            REQUEST_ID: rid,
            MESSAGE: STATUS_MESSAGES.get(status, lambda r: "")(request),
            UPDATED: _local(request.get("TimeUpdated")),
        }
    target.write(updates)
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no requested rows"
    lines = [f"Status of {_where(target)}: {shown}"]
    lines += [f"  row {n}: RequestID not found for its AR account" for n in missing]
    return StatusResult(counts, missing, lines)


def _local(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone() if value.tzinfo else value).replace(tzinfo=None, microsecond=0)
    return value if value is not None else _now()

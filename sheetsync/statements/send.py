"""E-mail each customer its statement PDF, once: a plan first, then the sends, each recorded in the
state store (kind `statements.sent`, key "CustomerID|statement date").

States of a send: `sending` (the intent, written before the SMTP transaction; left so only when the
process died in it), `sent`, `partial` (the server took it for some recipients and refused others: the
next run sends it to the refused ones only, `delivered_to` names who has it), `failed` (the server surely
did not take it: retried on the next run) and `unknown` (the transaction broke off after the message
data began: shown in the plan, sent again only with --resend). Bounces arrive later by mail and are not
tracked. One send at a time holds the store lock SEND_LOCK (the schedule's statements jobs take it too).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError, DeliveryError
from sheetsync.mailer import Attachment, Delivery, Mail, SendInterrupted, SmtpSettings, build_message, deliver
from sheetsync.statements.build import StatementPdf
from sheetsync.statements.recipients import Recipients
from sheetsync.store import Note, Record, Store

KIND = "statements.sent"
SEND_LOCK = "statements:send"  # held while planning and sending, by `statements send --apply` and scheduled jobs
DEFAULT_SUBJECT = "Statement of account {statement_date}: {customer} (account {customer_id})"
DEFAULT_BODY = """Dear {customer},

Please find attached your statement of account as of {statement_date}.
The amount due is {amount_due}.

If you have already paid, thank you, and please disregard this statement.

{company}
"""
PLACEHOLDERS = ("customer", "customer_id", "amount_due", "statement_date", "company")
UNKNOWN_STATES = ("sending", "unknown")

# what the plan does with each statement
SEND, RESEND, RETRY, TEST = "send", "resend", "retry", "test"
SENT_BEFORE, UNKNOWN, NO_ADDRESS = "already sent", "unknown", "no address"
SENDING = (SEND, RESEND, RETRY, TEST)


@dataclass(frozen=True)
class SendOptions:
    """How to send: `bcc` on every message; `resend` customers sent again deliberately; `test_to` sends
    everything to one address and records nothing; `subject`/`body` are templates (PLACEHOLDERS)."""

    bcc: tuple[str, ...] = ()
    resend: frozenset[int] = frozenset()
    test_to: str | None = None
    subject: str | None = None
    body: str | None = None
    recipients_note: str = ""  # e.g. "KSS users are buyers, not necessarily billing contacts"


@dataclass
class PlannedSend:
    """One statement in the plan: what will happen to it and why."""

    statement: StatementPdf
    action: str  # SEND, RESEND, RETRY, TEST, SENT_BEFORE, UNKNOWN, NO_ADDRESS
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    previous: Record | None = None
    outcome: str = ""  # after sending: "sent", "partly sent: ...", "failed: ...", "unknown: ..."
    envelope: list[str] | None = None  # a retry of a partial send: only those who do not have it yet
    note: str = ""  # why there is no address

    @property
    def will_send(self) -> bool:
        return self.action in SENDING


@dataclass
class SendPlan:
    items: list[PlannedSend]
    options: SendOptions
    pdf_dir: Path
    unmatched: list[str] = field(default_factory=list)  # recipients rows of customers without a statement here
    hidden: list[str] = field(default_factory=list)  # recipients rows skipped because the sheet hides them

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.action] = out.get(item.action, 0) + 1
        return out


def plan_sends(
    statements: list[StatementPdf],
    recipients: Mapping[int, Recipients],
    store: Store | None,
    options: SendOptions,
    pdf_dir: Path,
) -> SendPlan:
    """What a send would do, from the manifest, the recipients and what the store says was sent.
    ConfigError when a --resend customer has no statement or a PDF changed since it was built."""
    check_pdfs(statements, pdf_dir)
    unknown = options.resend - {s.customer_id for s in statements}
    if unknown:
        raise ConfigError(
            f"--resend {', '.join(map(str, sorted(unknown)))}: no statement for that customer in {pdf_dir}"
        )
    render_mail(statements[0], options) if statements else None  # a bad template fails before anything
    previous = store.get_many(KIND, [s.key for s in statements]) if store is not None else {}
    items = [_plan_one(s, recipients.get(s.customer_id), previous.get(s.key), options) for s in statements]
    hidden: dict[int, str] = getattr(recipients, "hidden", {})
    for item in items:
        if item.action == NO_ADDRESS and item.statement.customer_id in hidden:
            item.note = f"{hidden[item.statement.customer_id]}: skipped"
    having = {s.customer_id for s in statements}
    unmatched = [f"{customer} ({who.source})" for customer, who in recipients.items() if customer not in having]
    return SendPlan(items, options, pdf_dir, unmatched, sorted(hidden.values()))


def _plan_one(
    statement: StatementPdf, who: Recipients | None, before: Record | None, options: SendOptions
) -> PlannedSend:
    to, cc = (list(who.to), list(who.cc)) if who is not None else ([], [])
    if options.test_to:
        return PlannedSend(statement, TEST, [options.test_to], [], before)
    if not to:
        why = f"{who.source}: no To address" if who is not None else "not in the recipients"
        return PlannedSend(statement, NO_ADDRESS, to, cc, before, note=why)
    if statement.customer_id in options.resend:
        action = RESEND
    elif before is None:
        action = SEND
    elif before.state == "sent":
        action = SENT_BEFORE
    elif before.state in UNKNOWN_STATES:
        action = UNKNOWN
    elif before.state == "partial":
        return _retry_partial(PlannedSend(statement, RETRY, to, cc, before), options)
    else:
        action = RETRY
    return PlannedSend(statement, action, to, cc, before)


def _retry_partial(item: PlannedSend, options: SendOptions) -> PlannedSend:
    """A statement some recipients have: sent again only to the others (To, Cc and Bcc of now), or
    already sent when every one of them has it."""
    assert item.previous is not None
    have = {a.casefold() for a in item.previous.data.get("delivered_to", [])}
    missing = [a for a in Mail(item.to, "", "", cc=item.cc, bcc=options.bcc).recipients() if a.casefold() not in have]
    if not missing:
        item.action = SENT_BEFORE
    item.envelope = missing
    return item


def send_planned(
    plan: SendPlan, smtp: SmtpSettings, store: Store | None, on_item: Callable[[PlannedSend], None] | None = None
) -> None:
    """Send every planned message, one customer at a time; a failure is recorded for its customer and the
    others still go out, unless the mail server itself failed (connection, login, sender refused): then
    the rest are not tried and stay unrecorded. With `test_to` nothing is recorded (store may be None)."""
    run_id = uuid.uuid4().hex[:12]
    server_failure = ""
    for item in plan.items:
        if not item.will_send:
            continue
        if server_failure:
            item.outcome = f"failed: not tried, {server_failure}"
        else:
            server_failure = _send_one(item, plan, smtp, None if item.action == TEST else store, run_id)
        if on_item is not None:
            on_item(item)


def _send_one(item: PlannedSend, plan: SendPlan, smtp: SmtpSettings, store: Store | None, run_id: str) -> str:
    """Send and record one statement; returns the mail server's failure when it was the server's."""
    mail = _mail(item, plan)
    key, where = item.statement.key, _where(item, plan, run_id)
    try:
        build_message(smtp, mail)  # a message that cannot be written fails here, before any intent
    except (ValueError, TypeError) as exc:
        item.outcome = f"failed: the message cannot be written ({exc})"
        return ""
    if store is not None:
        store.put(KIND, key, "sending", _intent(item, plan, mail), Note("intent", **where))
    try:
        delivery = deliver(smtp, mail)
    except SendInterrupted as stop:  # Ctrl-C: record what is known, then stop the run
        state = _not_taken(item) if stop.delivered is False else "unknown"
        if store is not None:
            message = "interrupted before the message was handed over" if state == "failed" else "interrupted"
            store.update(KIND, key, state=state, changes={"error": message}, note=Note(state, message=message, **where))
        raise
    except DeliveryError as exc:
        state = _not_taken(item) if exc.delivered is False else "unknown"
        if store is not None:
            note = Note(state, message=exc.message, **where)
            store.update(KIND, key, state=state, changes={"error": exc.message}, note=note)
        item.outcome = _partly(item, exc.message) if state == "partial" else f"{state}: {exc.message}"
        return exc.message if exc.server else ""
    item.outcome = _record_delivery(item, mail, delivery, store, where)
    return ""


def _partly(item: PlannedSend, why: str) -> str:
    have = item.previous.data.get("delivered_to", []) if item.previous is not None else []
    return f"partly sent: still NOT to {', '.join(item.envelope or [])} ({why}); delivered to {', '.join(have)}"


def _not_taken(item: PlannedSend) -> str:
    """The state of a send the server surely did not take: failed, or still partial when it was the retry
    of a partial send (those who had it still have it; the next run tries the others again)."""
    return "partial" if item.envelope is not None else "failed"


def _record_delivery(
    item: PlannedSend, mail: Mail, delivery: Delivery, store: Store | None, where: Mapping[str, Any]
) -> str:
    """Record who has the statement now; "sent", or "partly sent: ..." naming each refused address."""
    earlier = list(item.previous.data.get("delivered_to", [])) if item.action == RETRY and item.previous else []
    refused = {a.casefold() for a in delivery.refused}
    delivered = [*earlier, *(a for a in mail.recipients() if a.casefold() not in refused)]
    state = "partial" if delivery.refused else "sent"
    why = "; ".join(f"{a} ({reason})" for a, reason in delivery.refused.items())
    outcome = f"partly sent: NOT to {why}; delivered to {', '.join(delivered)}" if why else "sent"
    if store is not None:
        changes = {"message_id": delivery.message_id, "refused": delivery.refused, "delivered_to": delivered}
        note = Note(state, external_id=delivery.message_id, message=outcome, **where)
        store.update(KIND, item.statement.key, state=state, changes=changes, note=note)
    return outcome


def resolve_unknown(store: Store, statement: StatementPdf, *, arrived: bool) -> Record:
    """Settle an unknown send after a person checked (the Bcc mailbox, the customer): `arrived` records it
    sent; otherwise failed, so the next run sends it. ConfigError when the send is not unknown."""
    before = store.get(KIND, statement.key)
    if before is None or before.state not in UNKNOWN_STATES:
        state = before.state if before is not None else "not sent yet"
        raise ConfigError(
            f"the statement of {statement.customer} ({statement.customer_id}) of {statement.statement_date} "
            f"is {state}, not unknown: nothing to resolve"
        )
    state = "sent" if arrived else "failed"
    message = "a person checked: it arrived" if arrived else "a person checked: it did not arrive"
    have = [*before.data.get("delivered_to", []), *before.data.get("envelope", [])]
    changes = {"error": message} if not arrived else {"delivered_to": list(dict.fromkeys(have))}
    return store.update(KIND, statement.key, state=state, changes=changes, note=Note("resolved", message=message))


def render_mail(statement: StatementPdf, options: SendOptions) -> tuple[str, str]:
    """(subject, body) of a statement's e-mail; ConfigError naming the template and the valid names."""
    values = {
        "customer": statement.customer,
        "customer_id": statement.customer_id,
        "amount_due": money(statement.amount_due),
        "statement_date": statement.statement_date,
        "company": statement.company,
    }
    return (
        " ".join(_fill(options.subject or DEFAULT_SUBJECT, values, "subject").split()),  # one line, whatever the name
        _fill(options.body or DEFAULT_BODY, values, "body"),
    )


def money(amount: str) -> str:
    """ "1234.5" -> "$1,234.50"; a credit in parentheses, as on the statement: "($11.80)"."""
    value = Decimal(amount)
    text = f"${abs(value):,.2f}"
    return f"({text})" if value < 0 else text


def check_pdfs(statements: Iterable[StatementPdf], pdf_dir: Path) -> None:
    """ConfigError when a PDF of the manifest is missing or differs from what the build wrote."""
    for statement in statements:
        path = pdf_dir / statement.file
        if not path.is_file():
            raise ConfigError(f"{path}: missing; build the statements again")
        if hashlib.sha256(path.read_bytes()).hexdigest() != statement.sha256:
            raise ConfigError(f"{path}: changed since it was built; build the statements again")


def _fill(template: str, values: Mapping[str, Any], name: str) -> str:
    try:
        return template.format_map(values)
    except KeyError as exc:
        valid = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        raise ConfigError(f"[statements] {name}: unknown placeholder {{{exc.args[0]}}}; use {valid}") from None
    except (ValueError, IndexError, AttributeError) as exc:
        raise ConfigError(f"[statements] {name}: {exc} (write a literal brace as {{{{ or }}}})") from None


def _mail(item: PlannedSend, plan: SendPlan) -> Mail:
    subject, body = render_mail(item.statement, plan.options)
    pdf = Attachment(item.statement.file, (plan.pdf_dir / item.statement.file).read_bytes(), "application/pdf")
    if item.action == TEST:
        return Mail(to=item.to, subject=f"[TEST] {subject}", body=body, attachments=[pdf])
    return Mail(
        to=item.to, cc=item.cc, bcc=plan.options.bcc, subject=subject, body=body, attachments=[pdf],
        envelope=item.envelope,
    )  # fmt: skip


def _intent(item: PlannedSend, plan: SendPlan, mail: Mail) -> dict[str, Any]:
    s = item.statement
    earlier = item.previous.data.get("delivered_to", []) if item.action == RETRY and item.previous else []
    return {
        "customer": s.customer,
        "to": item.to,
        "cc": item.cc,
        "bcc": list(plan.options.bcc),
        "envelope": mail.recipients(),
        "delivered_to": list(earlier),
        "file": s.file,
        "sha256": s.sha256,
        "amount_due": s.amount_due,
        "action": item.action,
    }


def _where(item: PlannedSend, plan: SendPlan, run_id: str) -> dict[str, Any]:
    return {"source": str(plan.pdf_dir / item.statement.file), "run_id": run_id}


def plan_lines(plan: SendPlan) -> list[str]:
    """The plan for a person: one line per statement (who gets what, who has no address, what was
    already sent or is unknown), then the totals."""
    lines = [f"Statements in {plan.pdf_dir}: {len(plan.items)}"]
    if plan.options.recipients_note:
        lines.append(f"note: {plan.options.recipients_note}")
    if plan.options.test_to:
        lines.append(f"TEST: every message goes to {plan.options.test_to} only; nothing is recorded as sent")
    if plan.options.bcc and not plan.options.test_to:
        lines.append(f"bcc on every message: {', '.join(plan.options.bcc)}")
    if plan.hidden:
        lines.append(f"note: rows hidden in the recipients sheet are skipped: {', '.join(plan.hidden)}")
    if plan.unmatched:
        shown = ", ".join(plan.unmatched[:5]) + (
            f" and {len(plan.unmatched) - 5} more" if len(plan.unmatched) > 5 else ""
        )
        lines.append(
            f"note: {len(plan.unmatched)} recipients without a statement in {plan.pdf_dir} (nothing to send): {shown}"
        )
    for item in plan.items:
        lines.append(_plan_line(item))
    counts = ", ".join(f"{n} {action}" for action, n in plan.counts().items())
    lines.append(f"plan: {counts or 'nothing to send'}")
    return lines


def _plan_line(item: PlannedSend) -> str:
    s = item.statement
    what = f"{s.customer} ({s.customer_id}) {s.statement_date} {money(s.amount_due)} {s.file}"
    before = item.previous
    if item.action == NO_ADDRESS:
        return f"  no address  {what} ({item.note})"
    if item.action == SENT_BEFORE and before is not None:
        who = before.data.get("delivered_to") or [*before.data.get("to", []), *before.data.get("cc", [])]
        return f"  already sent {what} on {before.updated_at[:16]}Z to {', '.join(who)}"
    if item.action == UNKNOWN and before is not None:
        when = before.updated_at[:16]
        settle = f"check, then --resend {s.customer_id} or `statements resolve {s.customer_id} --arrived`"
        return f"  UNKNOWN     {what}: the send of {when}Z may or may not have arrived ({settle})"
    to = ", ".join(item.to) + (f" cc {', '.join(item.cc)}" if item.cc else "")
    label = {SEND: "send", RESEND: "resend", RETRY: "retry", TEST: "test"}[item.action]
    why = f" (failed before: {before.data.get('error', '')})" if item.action == RETRY and before is not None else ""
    if item.envelope is not None and before is not None:
        to = ", ".join(item.envelope)
        refused = "; ".join(f"{a} ({r})" for a, r in before.data.get("refused", {}).items()) or before.data["error"]
        why = f" only (refused before: {refused}; {', '.join(before.data.get('delivered_to', []))} have it)"
    return f"  {label:<11} {what} -> {to}{why}"


def result_line(item: PlannedSend) -> str:
    """What became of one message, after sending it."""
    return f"  {item.statement.customer} ({item.statement.customer_id}): {item.outcome}"

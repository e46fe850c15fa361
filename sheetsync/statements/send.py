"""E-mail each customer its statement PDF, once: a plan first, then the sends, each recorded in the
state store (kind `statements.sent`, key "CustomerID|statement date").

States of a send: `sending` (the intent, written before the SMTP transaction; left so only when the
process died in it), `sent`, `failed` (the server surely did not take it: retried on the next run) and
`unknown` (the transaction broke off after the message was handed over: shown in the plan, sent again
only with --resend). Bounces arrive later by mail and are not tracked.
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
from sheetsync.mailer import Attachment, Mail, SmtpSettings, deliver
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
    outcome: str = ""  # after sending: "sent", "failed: ...", "unknown: ..."

    @property
    def will_send(self) -> bool:
        return self.action in SENDING


@dataclass
class SendPlan:
    items: list[PlannedSend]
    options: SendOptions
    pdf_dir: Path

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
    return SendPlan(items, options, pdf_dir)


def _plan_one(
    statement: StatementPdf, who: Recipients | None, before: Record | None, options: SendOptions
) -> PlannedSend:
    to, cc = (list(who.to), list(who.cc)) if who is not None else ([], [])
    if options.test_to:
        return PlannedSend(statement, TEST, [options.test_to], [], before)
    if not to:
        return PlannedSend(statement, NO_ADDRESS, to, cc, before)
    if statement.customer_id in options.resend:
        action = RESEND
    elif before is None:
        action = SEND
    elif before.state == "sent":
        action = SENT_BEFORE
    elif before.state in UNKNOWN_STATES:
        action = UNKNOWN
    else:
        action = RETRY
    return PlannedSend(statement, action, to, cc, before)


def send_planned(
    plan: SendPlan, smtp: SmtpSettings, store: Store | None, on_item: Callable[[PlannedSend], None] | None = None
) -> None:
    """Send every planned message, one customer at a time; a failure is recorded for its customer and the
    others still go out. With `test_to` nothing is recorded (store may be None)."""
    run_id = uuid.uuid4().hex[:12]
    for item in plan.items:
        if not item.will_send:
            continue
        mail = _mail(item, plan)
        testing = item.action == TEST
        if not testing:
            assert store is not None
            store.put(
                KIND, item.statement.key, "sending", _intent(item, plan), Note("intent", **_where(item, plan, run_id))
            )
        item.outcome = _deliver(smtp, mail, item, None if testing else store, plan, run_id)
        if on_item is not None:
            on_item(item)


def _deliver(
    smtp: SmtpSettings, mail: Mail, item: PlannedSend, store: Store | None, plan: SendPlan, run_id: str
) -> str:
    key, where = item.statement.key, _where(item, plan, run_id)
    try:
        delivery = deliver(smtp, mail)
    except DeliveryError as exc:
        state = "failed" if exc.delivered is False else "unknown"
        if store is not None:
            store.update(
                KIND, key, state=state, changes={"error": exc.message}, note=Note(state, message=exc.message, **where)
            )
        return f"{state}: {exc.message}"
    refused = "; ".join(f"{a} refused ({why})" for a, why in delivery.refused.items())
    if store is not None:
        changes = {"message_id": delivery.message_id, "refused": delivery.refused}
        note = Note("sent", external_id=delivery.message_id, message=refused, **where)
        store.update(KIND, key, state="sent", changes=changes, note=note)
    return f"sent ({refused})" if refused else "sent"


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
        _fill(options.subject or DEFAULT_SUBJECT, values, "subject").replace("\n", " ").strip(),
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
    return Mail(to=item.to, cc=item.cc, bcc=plan.options.bcc, subject=subject, body=body, attachments=[pdf])


def _intent(item: PlannedSend, plan: SendPlan) -> dict[str, Any]:
    s = item.statement
    return {
        "customer": s.customer,
        "to": item.to,
        "cc": item.cc,
        "bcc": list(plan.options.bcc),
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
        return f"  no address  {what}"
    if item.action == SENT_BEFORE and before is not None:
        return f"  already sent {what} on {before.updated_at[:16]}Z to {', '.join(before.data.get('to', []))}"
    if item.action == UNKNOWN and before is not None:
        when = before.updated_at[:16]
        return f"  UNKNOWN     {what}: the send of {when}Z may or may not have arrived (--resend {s.customer_id})"
    to = ", ".join(item.to) + (f" cc {', '.join(item.cc)}" if item.cc else "")
    label = {SEND: "send", RESEND: "resend", RETRY: "retry", TEST: "test"}[item.action]
    why = f" (failed before: {before.data.get('error', '')})" if item.action == RETRY and before is not None else ""
    return f"  {label:<11} {what} -> {to}{why}"


def result_line(item: PlannedSend) -> str:
    """What became of one message, after sending it."""
    return f"  {item.statement.customer} ({item.statement.customer_id}): {item.outcome}"

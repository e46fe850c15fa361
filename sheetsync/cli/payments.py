"""`sheetsync payments`: allocate customer payments to open invoices from a sheet, once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from sheetsync.cli.common import (
    CREDENTIALS_HELP,
    LEDGER_HELP,
    api_options,
    exit_with,
    finish_push,
    push_target,
    settings_from_context,
    sheet_credentials,
)
from sheetsync.config import Settings
from sheetsync.errors import ExitCode


@click.group("payments")
def payments_group() -> None:
    """Allocate payments to open invoices from a worksheet: template, plan, push once, follow up.

    \b
    Example:
      sheetsync payments accounts                         # which AR account has money to allocate
      sheetsync payments template --ar-account 1001 -o allocations.xlsx
      sheetsync payments push allocations.xlsx            # the plan; nothing is sent
      sheetsync payments push allocations.xlsx --apply    # post each row once
      sheetsync payments status allocations.xlsx
      sheetsync payments log --since 2026-11-01
    """


@contextmanager
def _client(
    settings: Settings, sandbox: bool, sandbox_key: str, seed: int, book: Any = None
) -> Iterator[tuple[Any, str]]:
    """The KSS client and key type; the ledger's history then names the key's fingerprint."""
    from sheetsync.connect import open_connections
    from sheetsync.store import Actor

    with open_connections(settings, sandbox=sandbox, sandbox_key=sandbox_key, seed=seed) as conns:
        if book is not None:
            book.store.actor = Actor.current(conns.settings.kss_api_key)
        yield conns.kss, conns.key_type


def _target(settings: Settings, text: str, tab: str | None, credentials: str | None) -> Any:
    from sheetsync.push.template import ALLOCATIONS_TAB

    return push_target(settings, text, tab, credentials, ALLOCATIONS_TAB)


_exit = exit_with


def _ledger(settings: Settings, ledger: str | None) -> Any:
    from sheetsync.push.ledger import Ledger

    return Ledger.open(ledger or settings.store_location)


@payments_group.command("accounts")
@click.option("--customer", "customer", type=int, default=None, help="Only the AR accounts of this customer ID.")
@api_options
def accounts(customer: int | None, sandbox: bool, sandbox_key: str, seed: int) -> int:
    """List the AR accounts with an unapplied payment balance (money to allocate), their open invoices
    and their customer, largest balance first. No endpoint lists accounts: this reads every payment and
    open invoice (500 per page) and prints how many requests it took.

    \b
    Example:
      sheetsync payments accounts
      sheetsync payments accounts --customer 12
    """
    from sheetsync.push.accounts import list_accounts, render_accounts
    from sheetsync.push.payments import check_key_type

    settings = settings_from_context()
    with _client(settings, sandbox, sandbox_key, seed) as (client, key_type):
        check_key_type(key_type)
        listing = list_accounts(client, customer)
    for line in render_accounts(listing, customer):
        click.echo(line)
    return _exit(ExitCode.OK if listing.accounts else ExitCode.PARTIAL)


@payments_group.command("template")
@click.option(
    "--ar-account",
    "ar_account",
    type=int,
    default=None,
    help="The AR account to allocate for (`sheetsync payments accounts` lists them).",
)
@click.option(
    "-o",
    "--out",
    "out",
    default=None,
    help="An .xlsx path or a Google Sheet (gsheet://ID or URL). Default: allocations-<ID>.xlsx",
)
@click.option("--lines", type=click.IntRange(1, 5000), default=None, help="Allocation lines (default: 20 or more).")
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def template(
    ar_account: int | None,
    out: str | None,
    lines: int | None,
    credentials: str | None,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> int:
    """Write an allocation worksheet for one AR account: its payments with available balance, its open
    invoices, and allocation lines with dropdowns and status columns. On an existing worksheet, refresh
    only its Payments and Open invoices tabs: every allocation line stays.

    \b
    Example:
      sheetsync payments template --ar-account 1001 -o allocations.xlsx
      sheetsync payments template --ar-account 1001 -o allocations.xlsx   # again: fresh balances, same lines
      sheetsync payments template --ar-account 1001 -o gsheet://1AbCdEfGhIjKlMnOp
    """
    from sheetsync.push.payments import check_key_type
    from sheetsync.push.template import fetch_template, is_allocation_sheet, refresh_lists
    from sheetsync.sinks.targets import XlsxTarget, check_targets, open_source, parse_target, write_outputs

    if ar_account is None:
        raise click.UsageError(
            "--ar-account is required: `sheetsync payments accounts` lists the AR accounts with money to allocate"
        )
    settings = settings_from_context()
    out = out or f"allocations-{ar_account}.xlsx"
    target = parse_target(out)
    check_targets([target], many_workbooks=False)
    creds = sheet_credentials(settings, out, credentials)
    existing = (
        None if isinstance(target, XlsxTarget) and not target.path.exists() else open_source(out, credentials=creds)
    )
    with _client(settings, sandbox, sandbox_key, seed) as (client, key_type):
        check_key_type(key_type)
        workbook = fetch_template(client, ar_account, where=out, lines=lines)
    if existing is not None and is_allocation_sheet(existing):
        payments, invoices = refresh_lists(existing, workbook, out)
        click.echo(
            f"Refreshed the Payments and Open invoices tabs of {out}: {payments} payments with a balance, "
            f"{invoices} open invoices; the allocation lines were not touched"
        )
        return _exit(ExitCode.OK)
    written = write_outputs([target], [workbook], credentials=creds)
    payments, invoices = (len(t.rows) for t in workbook.tabs[1:3])
    click.echo(
        f"Wrote {', '.join(written)}: {payments} payments with a balance, {invoices} open invoices, "
        f"{len(workbook.tabs[0].rows)} allocation lines"
    )
    return _exit(ExitCode.OK)


@payments_group.command("push")
@click.argument("source")
@click.option("--tab", default=None, help="The allocations tab (default: Allocations, else the first tab).")
@click.option("--apply", "apply", is_flag=True, help="Post the valid rows. Without it, only print the plan.")
@click.option(
    "--include-hidden",
    is_flag=True,
    help="Also post rows hidden or filtered out in the sheet (skipped and listed in the plan by default).",
)
@click.option("--ledger", default=None, help=LEDGER_HELP)
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def push(
    source: str,
    tab: str | None,
    apply: bool,
    include_hidden: bool,
    ledger: str | None,
    credentials: str | None,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> int:
    """Check the allocation rows of SOURCE (an .xlsx or a Google Sheet) against the API and print the
    plan; with --apply, post each valid row once and write its outcome into the sheet.

    \b
    A row that repeats an earlier row of the sheet, or resembles a live request (same account, payment,
    invoice and amount), is held until its Repeat column says yes. Rows hidden or filtered out in the
    sheet are skipped unless --include-hidden. Ctrl-C or SIGTERM stops after the request in flight and
    writes every outcome so far.

    \b
    Exit codes: 0 every row posted or already requested (plan: valid), 1 some rows rejected, held or
    not sent, 2 usage or sheet error, 3 API, auth or quota error, 4 an outcome is unknown (run again:
    the next push reconciles it with the API before sending anything), 130 stopped by a signal.
    Example:
      sheetsync payments push allocations.xlsx
      sheetsync payments push allocations.xlsx --apply
      sheetsync payments push gsheet://1AbCdEfGhIjKlMnOp --tab Allocations --apply
    """
    from sheetsync.push.payments import push_allocations

    settings = settings_from_context()
    target = _target(settings, source, tab, credentials)
    book = _ledger(settings, ledger)
    try:
        with _client(settings, sandbox, sandbox_key, seed, book) as (client, key_type):
            result = push_allocations(
                client,
                target,
                book,
                apply=apply,
                key_type=key_type,
                require_approval=settings.approval_required,
                include_hidden=include_hidden,
                show=click.echo,
            )
    finally:
        book.close()
    return finish_push(result, apply=apply, plan_only="post")


@payments_group.command("status")
@click.argument("source")
@click.option("--tab", default=None, help="The allocations tab (default: Allocations, else the first tab).")
@click.option("--ledger", default=None, help=LEDGER_HELP)
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def status(
    source: str,
    tab: str | None,
    ledger: str | None,
    credentials: str | None,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> int:
    """Refresh the Status of every requested row of SOURCE (Pending, Exported, Confirmed, Rejected).

    \b
    Example:
      sheetsync payments status allocations.xlsx
    """
    from sheetsync.push.payments import refresh_status

    settings = settings_from_context()
    target = _target(settings, source, tab, credentials)
    book = _ledger(settings, ledger)
    try:
        with _client(settings, sandbox, sandbox_key, seed, book) as (client, key_type):
            result = refresh_status(client, target, book, key_type=key_type)
    finally:
        book.close()
    for line in result.lines:
        click.echo(line)
    return _exit(result.exit_code)


@payments_group.command("approve")
@click.argument("source")
@click.option("--tab", default=None, help="The allocations tab (default: Allocations, else the first tab).")
@click.option("--ledger", default=None, help=LEDGER_HELP)
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def approve(
    source: str,
    tab: str | None,
    ledger: str | None,
    credentials: str | None,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> int:
    """Print the plan of SOURCE and record your approval of exactly that plan (its hash). With
    `[payments] require_approval = true`, `push --apply` sends only an approved, unchanged plan.

    \b
    Example:
      sheetsync payments approve allocations.xlsx
    """
    from sheetsync.push.payments import approve_allocations

    settings = settings_from_context()
    target = _target(settings, source, tab, credentials)
    book = _ledger(settings, ledger)
    try:
        with _client(settings, sandbox, sandbox_key, seed, book) as (client, key_type):
            result = approve_allocations(client, target, book, key_type=key_type)
    finally:
        book.close()
    for line in result.lines:
        click.echo(line)
    return _exit(ExitCode.OK)


@payments_group.command("log")
@click.option("--json", "fmt", flag_value="json", help="Print JSON (a list of objects).")
@click.option("--csv", "fmt", flag_value="csv", help="Print CSV with a header row.")
@click.option("--since", default=None, help="Only events from this date (YYYY-MM-DD, local) or date-time on.")
@click.option("--ledger", default=None, help=LEDGER_HELP)
def log(fmt: str | None, since: str | None, ledger: str | None) -> int:
    """Print every payment intent, outcome and approval: time (UTC), OS user, API key fingerprint
    (never the key), source workbook and row, request ID, run.

    \b
    Example:
      sheetsync payments log
      sheetsync payments log --since 2026-11-01 --csv > payments-audit.csv
    """
    from sheetsync.push.audit import audit_rows, parse_since, render

    settings = settings_from_context()
    start = parse_since(since) if since else None
    book = _ledger(settings, ledger)
    try:
        rows = audit_rows(book.store, since=start)
    finally:
        book.close()
    click.echo(render(rows, fmt or "text"))
    return _exit(ExitCode.OK)


COMMANDS: list[click.Command] = [payments_group]

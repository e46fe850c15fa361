"""`sheetsync kotis`: merchandise orders from a sheet to Kotis, once, with status and tracking kept in the sheet."""

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

ORDERS_TAB = "Orders"
TAB_HELP = "The orders tab (default: Orders, else the first tab)."


@click.group("kotis")
def kotis_group() -> None:
    """Kotis merchandise orders from a sheet: template, plan, create each order once, follow shipments.

    \b
    Example:
      sheetsync kotis template -o orders.xlsx
      sheetsync kotis push orders.xlsx              # the plan; nothing is sent
      sheetsync kotis push orders.xlsx --apply      # create each order once
      sheetsync kotis status orders.xlsx            # status, shipments, tracking
      sheetsync kotis resolve ORDER-7               # an order whose outcome is unknown
    """


@contextmanager
def _kotis(settings: Settings, sandbox: bool, seed: int, book: Any = None) -> Iterator[tuple[Any, str]]:
    """The Kotis client and its key's fingerprint; the ledger's history then names the key too."""
    from sheetsync.connect import open_connections
    from sheetsync.store import Actor, key_fingerprint

    with open_connections(settings, sandbox=sandbox, seed=seed) as conns:
        key = conns.settings.kotis_api_key
        if book is not None:
            book.store.actor = Actor.current(key)
        yield conns.kotis, key_fingerprint(key)


def _target(settings: Settings, text: str, tab: str | None, credentials: str | None) -> Any:
    return push_target(settings, text, tab, credentials, ORDERS_TAB)


def _ledger(settings: Settings, ledger: str | None) -> Any:
    from sheetsync.push.kotis_ledger import KotisLedger

    return KotisLedger.open(ledger or settings.store_location)


@kotis_group.command("template")
@click.option(
    "-o", "--out", "out", default="kotis-orders.xlsx", show_default=True, help="An .xlsx path or gsheet://ID."
)
@click.option("--lines", type=click.IntRange(1, 5000), default=50, show_default=True, help="Order lines.")
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def template(out: str, lines: int, credentials: str | None, sandbox: bool, sandbox_key: str, seed: int) -> int:
    """Write an order sheet: one row per order line, a SKU dropdown from skus/quantity with each line's
    Available quantity beside its SKU (the SKUs tab), validation for Quantity, State and Zip, outcome
    columns, instructions. On an existing order sheet, refresh only its SKUs tab: every order entry stays.

    \b
    Example:
      sheetsync kotis template -o orders.xlsx
      sheetsync kotis template -o orders.xlsx       # again, later: fresh stock, the same order lines
      sheetsync kotis template -o gsheet://1AbCdEfGhIjKlMnOp
    """
    from sheetsync.push.kotis_template import build_order_template, is_order_sheet, refresh_sku_list
    from sheetsync.sinks.targets import XlsxTarget, check_targets, open_source, parse_target, write_outputs

    settings = settings_from_context()
    target = parse_target(out)
    check_targets([target], many_workbooks=False)
    creds = sheet_credentials(settings, out, credentials)
    existing = (
        None if isinstance(target, XlsxTarget) and not target.path.exists() else open_source(out, credentials=creds)
    )
    with _kotis(settings, sandbox, seed) as (client, _):
        skus = client.sku_quantities()
    if existing is not None and is_order_sheet(existing):
        count = refresh_sku_list(existing, skus)
        click.echo(f"Refreshed the SKUs tab of {out}: {count} SKUs; the order lines were not touched")
        return exit_with(ExitCode.OK)
    workbook = build_order_template(skus, lines=lines, where=out)
    written = write_outputs([target], [workbook], credentials=creds)
    click.echo(f"Wrote {', '.join(written)}: {lines} order lines, {len(workbook.tabs[2].rows)} SKUs")
    return exit_with(ExitCode.OK)


@kotis_group.command("push")
@click.argument("source")
@click.option("--tab", default=None, help=TAB_HELP)
@click.option("--apply", "apply", is_flag=True, help="Create the valid orders. Without it, only print the plan.")
@click.option("--include-hidden", is_flag=True, help="Also send orders whose rows are hidden or filtered out.")
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
    """Check the order lines of SOURCE (an .xlsx or a Google Sheet; rows with the same OrderRef are one
    order) and print the plan with the Kotis URL and key fingerprint; with --apply, create each valid
    order once and write its order number or Kotis' error into its rows.

    \b
    An order whose POST got no clear answer is blocked, never re-sent: settle it with `kotis resolve`.
    Exit codes: 0 all created (plan: valid), 1 some rows invalid, refused or not sent,
    2 usage or sheet error, 3 API or auth error, 4 an outcome is unknown or an order is blocked
    until `kotis resolve`, 130 stopped by a signal.
    Example:
      sheetsync kotis push orders.xlsx
      sheetsync kotis push orders.xlsx --apply
      sheetsync kotis push gsheet://1AbCdEfGhIjKlMnOp --apply
    """
    from sheetsync.push.kotis import push_orders

    settings = settings_from_context()
    target = _target(settings, source, tab, credentials)
    book = _ledger(settings, ledger)
    try:
        with _kotis(settings, sandbox, seed, book) as (client, fingerprint):
            result = push_orders(
                client,
                target,
                book,
                apply=apply,
                key_fingerprint=fingerprint,
                include_hidden=include_hidden,
                show=click.echo,
            )
    finally:
        book.close()
    return finish_push(result, apply=apply, plan_only="create the orders")


@kotis_group.command("status")
@click.argument("source")
@click.option("--tab", default=None, help=TAB_HELP)
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
    """Fill Status, Shipments, Tracking, ShippedOn and DeliveryStatus of every row with an OrderNum, from
    orders/status (batched: up to 100 orders per request).

    \b
    Example:
      sheetsync kotis status orders.xlsx
    """
    from sheetsync.push.kotis_follow import refresh_order_status

    settings = settings_from_context()
    target = _target(settings, source, tab, credentials)
    book = _ledger(settings, ledger)
    try:
        with _kotis(settings, sandbox, seed, book) as (client, _):
            result = refresh_order_status(client, target, book)
    finally:
        book.close()
    for line in result.lines:
        click.echo(line)
    return exit_with(result.exit_code)


@kotis_group.command("resolve")
@click.argument("ref")
@click.option("--order-num", default=None, help="The order Kotis created for REF (seen in the Kotis portal).")
@click.option("--not-created", is_flag=True, help="Kotis created no order for REF: the next push sends it.")
@click.option("--ledger", default=None, help=LEDGER_HELP)
@api_options
def resolve(
    ref: str, order_num: str | None, not_created: bool, ledger: str | None, sandbox: bool, sandbox_key: str, seed: int
) -> int:
    """Settle the order REF whose POST got no clear answer. Without options, list the API orders created
    within 30 minutes of that POST (orders/by_source matches by time only) and their status.

    \b
    Example:
      sheetsync kotis resolve ORDER-7
      sheetsync kotis resolve ORDER-7 --order-num 5134691
      sheetsync kotis resolve ORDER-7 --not-created
    """
    from sheetsync.push.kotis_follow import resolve_order

    settings = settings_from_context()
    book = _ledger(settings, ledger)
    try:
        with _kotis(settings, sandbox, seed, book) as (client, _):
            lines = resolve_order(client, book, ref, order_num=order_num, not_created=not_created)
    finally:
        book.close()
    for line in lines:
        click.echo(line)
    return exit_with(ExitCode.OK)


@kotis_group.command("codes")
@click.option("--portal", required=True, help="The portal slug.")
@click.option("--count", required=True, type=int, help="How many codes (1 to 5,000 per request: the daily limit).")
@click.option("-o", "--out", "out", default=None, help="Write the created codes to this .xlsx or gsheet://ID.")
@click.option("--apply", "apply", is_flag=True, help="Send the request. Without it, only print what would be sent.")
@click.option("--despite-unknown", is_flag=True, help="Send although an earlier request's outcome is unknown.")
@click.option("--ledger", default=None, help=LEDGER_HELP)
@click.option("--credentials", default=None, help=CREDENTIALS_HELP)
@api_options
def codes(
    portal: str,
    count: int,
    out: str | None,
    apply: bool,
    despite_unknown: bool,
    ledger: str | None,
    credentials: str | None,
    sandbox: bool,
    sandbox_key: str,
    seed: int,
) -> int:
    """Create redemption codes for a portal, once. A count above 5,000 is refused before sending; the
    API's refusal names how many are still allowed today or this year.

    \b
    Example:
      sheetsync kotis codes --portal spring-promo --count 200 -o codes.xlsx --apply
    """
    from sheetsync.push.kotis_codes import check_count, codes_workbook, create_codes
    from sheetsync.sinks.targets import check_targets, parse_target, write_outputs

    check_count(count)
    settings = settings_from_context()
    target = parse_target(out) if out else None
    if target is not None:
        check_targets([target], many_workbooks=False)
    book = _ledger(settings, ledger)
    try:
        with _kotis(settings, sandbox, seed, book) as (client, _):
            result = create_codes(client, book, portal, count, apply=apply, despite_unknown=despite_unknown)
    finally:
        book.close()
    for line in result.lines:
        click.echo(line)
    if target is not None and result.codes and out:
        workbook = codes_workbook(portal, result.portal_codes)
        written = write_outputs([target], [workbook], credentials=sheet_credentials(settings, out, credentials))
        click.echo(f"Wrote {', '.join(written)}")
    return exit_with(result.exit_code)


COMMANDS: list[click.Command] = [kotis_group]

"""Which AR account to allocate for: accounts with unapplied payment balance and their open invoices.

No KSS endpoint lists AR accounts. They are found from `/payments` (whose `AvailableBalance` already
deducts confirmed applications and pending requests) and `/payments/openInvoices` (whose `CustomerID`
links an account to its customer), each listed in full at 500 records per page, plus one `/customers`
lookup per 500 customers for their names. The cost is bounded by the number of payments and open
invoices, and the listing reports its request count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
ALL_ACCOUNT_STATUSES = ["Active", "Inactive", "OutOfBus"]  # /customers lists only Active ones by default


@dataclass
class ArAccount:
    """One AR account: money to allocate (Decimal dollars) and what it could be allocated to."""

    ar_account: int
    customers: dict[int, str] = field(default_factory=dict)  # CustomerID -> name ("" when unknown)
    payments: int = 0  # payments with an available balance
    unapplied: Decimal = ZERO  # sum of AvailableBalance over those payments
    open_invoices: int = 0
    open_balance: Decimal = ZERO  # sum of OpenBalance (credits negative)

    def customer_text(self) -> str:
        return "; ".join(f"{name or '(name unknown)'} (#{cid})" for cid, name in sorted(self.customers.items()))


@dataclass
class AccountListing:
    accounts: list[ArAccount]
    requests: int  # API requests this listing cost


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else ZERO


def list_accounts(client: Any, customer_id: int | None = None) -> AccountListing:
    """AR accounts with an unapplied payment balance, largest first; with `customer_id`, only that
    customer's accounts (an account is the customer's when one of its open invoices names it)."""
    before = client.stats.total_requests
    accounts: dict[int, ArAccount] = {}
    for p in client.get_all("payments", page_size=500):
        balance = _money(p.get("AvailableBalance"))
        if p.get("ARAccountID") is None or balance <= 0:
            continue
        account = accounts.setdefault(int(p["ARAccountID"]), ArAccount(int(p["ARAccountID"])))
        account.payments += 1
        account.unapplied += balance
    owners: dict[int, set[int]] = defaultdict(set)
    if accounts:
        for inv in client.get_all("payments/openInvoices", page_size=500):
            owner = accounts.get(int(inv["ARAccountID"])) if inv.get("ARAccountID") is not None else None
            if owner is None:
                continue
            owner.open_invoices += 1
            owner.open_balance += _money(inv.get("OpenBalance"))
            if inv.get("CustomerID") is not None:
                owners[owner.ar_account].add(int(inv["CustomerID"]))
    if customer_id is not None:
        accounts = {ar: a for ar, a in accounts.items() if customer_id in owners[ar]}
    names = _customer_names(client, sorted({c for ar in accounts for c in owners[ar]}))
    for ar, account in accounts.items():
        account.customers = {cid: names.get(cid, "") for cid in owners[ar]}
    listed = sorted(accounts.values(), key=lambda a: (-a.unapplied, a.ar_account))
    return AccountListing(listed, client.stats.total_requests - before)


def _customer_names(client: Any, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        batch = {"CustomerIDs": ids[start : start + 500], "AccountStatuses": ALL_ACCOUNT_STATUSES}
        for c in client.get_all("customers", batch, page_size=500):
            names[int(c["CustomerID"])] = str(c.get("CustomerName") or c.get("Name") or "")
    return names


def render_accounts(listing: AccountListing, customer_id: int | None = None) -> list[str]:
    """The listing as aligned lines for a person, ending with its request count."""
    scope = f" of customer {customer_id}" if customer_id is not None else ""
    if not listing.accounts:
        return [f"No AR account{scope} has an unapplied payment balance ({listing.requests} API requests)."]
    header = f"{'ARAccountID':>11}  {'Unapplied':>13}  {'Payments':>8}  {'Open invoices':>13}  {'Open balance':>14}"
    lines = [f"{header}  Customer"]
    for a in listing.accounts:
        lines.append(
            f"{a.ar_account:>11}  {a.unapplied:>13,.2f}  {a.payments:>8}  {a.open_invoices:>13}  "
            f"{a.open_balance:>14,.2f}  {a.customer_text()}"
        )
    lines.append(
        f"{len(listing.accounts)} AR account{'s' if len(listing.accounts) != 1 else ''}{scope} with money to "
        f"allocate ({listing.requests} API requests: every payment and open invoice, 500 per page). "
        "Next: sheetsync payments template --ar-account ID"
    )
    return lines

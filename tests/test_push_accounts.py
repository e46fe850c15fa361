"""`payments accounts`: AR accounts with money to allocate, reconciled with the raw API listings."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from click.testing import CliRunner
from helpers_push import client_for

from sheetsync.cli import cli
from sheetsync.push.accounts import list_accounts


def test_accounts_reconcile_with_payments_and_open_invoices(fresh_sandbox) -> None:
    client = client_for(fresh_sandbox)
    unapplied: dict[int, Decimal] = defaultdict(Decimal)
    for p in client.get_all("payments"):
        if p["AvailableBalance"] > 0:
            unapplied[p["ARAccountID"]] += p["AvailableBalance"]
    open_balance: dict[int, Decimal] = defaultdict(Decimal)
    for i in client.get_all("payments/openInvoices"):
        open_balance[i["ARAccountID"]] += i["OpenBalance"]

    listing = list_accounts(client_for(fresh_sandbox))
    assert {a.ar_account: a.unapplied for a in listing.accounts} == dict(unapplied)
    assert all(a.open_balance == open_balance[a.ar_account] for a in listing.accounts)
    assert [a.unapplied for a in listing.accounts] == sorted(unapplied.values(), reverse=True)
    assert listing.requests >= 3
    assert all(a.customers and all(a.customers.values()) for a in listing.accounts if a.open_invoices)


def test_accounts_command_filters_by_customer_and_prints_its_cost(fresh_sandbox, monkeypatch) -> None:
    monkeypatch.setenv("KSS_BASE_URL", fresh_sandbox.info.kss)
    monkeypatch.setenv("KSS_API_KEY", fresh_sandbox.info.keys["employee"])
    listing = list_accounts(client_for(fresh_sandbox))
    target = next(a for a in listing.accounts if a.customers)
    customer = min(target.customers)
    result = CliRunner().invoke(cli, ["payments", "accounts", "--customer", str(customer)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[0] == str(target.ar_account) for line in lines[1:-1])
    assert f"(#{customer})" in result.output
    assert "API requests" in lines[-1] and "payments template --ar-account" in lines[-1]

    missing = CliRunner().invoke(cli, ["payments", "accounts", "--customer", "999999"])
    assert missing.exit_code == 1 and "No AR account of customer 999999" in missing.output


def test_template_without_an_account_points_to_the_listing() -> None:
    result = CliRunner().invoke(cli, ["payments", "template"])
    assert result.exit_code == 2
    assert "sheetsync payments accounts" in result.output

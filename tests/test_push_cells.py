"""Money and quantities from sheet cells: exact, or refused quoting the cell (sheetsync/push/cells.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheetsync.push import cells

ACCEPTED = [
    (12.5, Decimal("12.50")),
    (100.1, Decimal("100.10")),
    (7, Decimal("7.00")),
    (Decimal("3.10"), Decimal("3.10")),
    ("1234.56", Decimal("1234.56")),
    ("$1234.56", Decimal("1234.56")),
    ("1,234.56", Decimal("1234.56")),
    ("$1,234,567.80", Decimal("1234567.80")),
    ("  42 ", Decimal("42.00")),
    ("0.5", Decimal("0.50")),
]

REFUSED = [
    ("2,50", "decimal comma"),
    ("1,5", "decimal comma"),
    ("1.234,56", "'.' to group thousands"),
    ("1.234.567", "'.' to group thousands"),
    ("2,500", "ambiguous"),
    ("1,234", "ambiguous"),
    ("(12.00)", "accounting negative"),
    ("12.00-", "accounting negative"),
    ("€12.00", "not in US dollars"),
    ("12.00 EUR", "not in US dollars"),
    ("£5", "not in US dollars"),
    ("ten dollars", "not a number"),
    ("12,34,567.00", "not a number"),
    ("1.234", "more than two decimals"),
    ("-5", "greater than 0"),
    (0, "greater than 0"),
    (True, "true/false"),
    ("1e3", "not a number"),
    ("NaN", "not a number"),
]


@pytest.mark.parametrize(("cell", "expected"), ACCEPTED)
def test_unambiguous_money_is_read_exactly(cell, expected) -> None:
    assert cells.money(cell) == expected


@pytest.mark.parametrize(("cell", "reason"), REFUSED)
def test_ambiguous_or_foreign_money_is_refused_with_the_reason(cell, reason) -> None:
    refused = cells.money(cell)
    assert isinstance(refused, cells.Refused)
    assert reason in refused.reason


@pytest.mark.parametrize(("cell", "expected"), [(3, 3), (3.0, 3), ("12", 12), ("1,200.0", 1200), (Decimal("4.000"), 4)])
def test_quantities_are_whole_numbers(cell, expected) -> None:
    assert cells.whole(cell) == expected


@pytest.mark.parametrize(("cell", "reason"), [(2.5, "whole"), ("3 units", "not a number"), ("1,5", "comma"), (-1, "0")])
def test_quantities_that_are_not_whole_are_refused(cell, reason) -> None:
    refused = cells.whole(cell)
    assert isinstance(refused, cells.Refused) and reason in refused.reason


def test_a_grouped_quantity_is_refused_with_a_whole_number_hint() -> None:
    refused = cells.whole("1,000")
    assert isinstance(refused, cells.Refused)
    assert "is ambiguous" in refused.reason and "without the comma (2500)" in refused.reason
    assert "decimal part" not in refused.reason  # a quantity has none to add
    as_money = cells.exact_decimal("1,000")
    assert isinstance(as_money, cells.Refused) and "decimal part" in as_money.reason  # money keeps its hint

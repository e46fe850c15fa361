"""The expression language: Decimal arithmetic, null safety, functions, dates, templates, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from sheetsync.expr import ExprError, compile_expr, compile_template

ROW = {
    "Price": D("18.00"),
    "Discount": D("2.50"),
    "Units": 7,
    "Pack": None,
    "Name": "Kiva Bar",
    "Zero": 0,
    "Due": date(2026, 1, 10),
    "Stamp": datetime(2026, 1, 25, 7, 0, tzinfo=UTC),
    "Ids": [1, 2],
    "params": {"target_days": 30, "doi_alert": D("7.5")},
    "__today": date(2026, 2, 1),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Price - Discount", D("15.50")),
        ("0.1 + 0.2", D("0.3")),
        ("Price * Units", D("126.00")),
        ("Units / 2", D("3.5")),
        ("-Discount", D("-2.50")),
        ("Price > 10 and Units <= 7", True),
        ("Price > 10 and not (Units == 7)", False),
        ("Pack == null", True),
        ("Pack != null", False),
        ("Pack > 1", False),
        ("Pack + 1", None),
        ("Units / Zero", None),
        ("coalesce(Pack, 1)", 1),
        ("ceil(max(0, params.target_days * 1.5 - Units) / coalesce(Pack, 1))", 38),
        ("ceil(D)", None),
        ("floor(7.9)", 7),
        ("round(2.345, 2)", D("2.35")),
        ("round(2.5)", 3),
        ("min(3, Pack, 1)", 1),
        ("max(Price, 20)", 20),
        ("abs(-Discount)", D("2.50")),
        ("if(Units > 5, 'big', 'small')", "big"),
        ("if(Pack > 5, 'big')", None),
        ("concat(Name, ' x', Units, Pack)", "Kiva Bar x7"),
        ("upper(Name)", "KIVA BAR"),
        ("contains(Name, 'bar')", True),
        ("substr(Name, 0, 4)", "Kiva"),
        ("len(Name)", 8),
        ("days_between(Due, today())", 22),
        ("today() - Due", 22),
        ("Due + 30", date(2026, 2, 9)),
        ("local_date(Stamp, 'America/Los_Angeles')", date(2026, 1, 24)),
        ("date('2026-03-01')", date(2026, 3, 1)),
        ("Units in [1, 7, 9]", True),
        ("Pack in [1]", False),
        ("contains(Ids, 2)", True),
        ("`Units` * 2", 14),
        ("'it\\'s'", "it's"),
    ],
)
def test_evaluate(text: str, expected: object) -> None:
    assert compile_expr(text).evaluate(ROW) == expected


def test_decimal_stays_exact() -> None:
    value = compile_expr("Price * 3 - Discount").evaluate(ROW)
    assert isinstance(value, D) and value == D("51.50")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 +", r"expected a value at position 4, found end of expression"),
        ("Price ** 2", r"expected a value at position 8"),
        ("foo(1)", r"unknown function foo\(\)"),
        ("cel(1)", r"did you mean ceil\?"),
        ("ceil(1, 2)", r"ceil\(\) takes 1 argument\(s\), got 2"),
        ("if(1)", r"if\(\) takes 2 to 3"),
        ("Price $ 2", r"unexpected character '\$'"),
        ("(1 + 2", r"expected '\)'"),
        ("", r"empty expression"),
        ("__import__('os')", r"unknown function __import__"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message):
        compile_expr(text)


def test_type_errors_are_expr_errors() -> None:
    with pytest.raises(ExprError, match="cannot apply"):
        compile_expr("Due * 2").evaluate(ROW)


def test_names_are_reported_for_validation() -> None:
    expr = compile_expr("ceil(params.target_days * Avg) + x.y")
    assert expr.names == {("params", "target_days"), ("Avg",), ("x", "y")}


def test_aggregate_top_call() -> None:
    expr = compile_expr("sum(Price * Units)", aggregates=True)
    name, args = expr.top_call
    assert name == "sum" and args[0].evaluate(ROW) == D("126.00")
    with pytest.raises(ExprError):
        compile_expr("sum(Price)")


def test_templates() -> None:
    assert compile_template("{{ params.target_days }}").render(ROW) == 30  # keeps its type
    assert compile_template("Price list: {{ Name }} ({{ Units }})").render(ROW) == "Price list: Kiva Bar (7)"
    assert compile_template("no braces").render(ROW) == "no braces"
    with pytest.raises(ExprError, match="unclosed"):
        compile_template("{{ Name ")

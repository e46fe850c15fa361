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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Price ** 2", r"'\*\*' is not an operator"),
        ("Units // 2", r"'//' is not an operator"),
        ("a is null", r"unexpected text at position 3, found 'is'"),
        ("a not in [1]", r"'not in' .* is not part of the expression language \(at position 1\)"),
        ("Ids[0]", r"indexing with \[...\] is not part of the expression language"),
        ("Name.upper()", r"only functions of the language can be called"),
        ("'x'.join(Ids)", r"only functions of the language can be called"),
        ("(1, 2)", r"a tuple is not part of the expression language"),
        ("lambda: 1", r"unexpected character ':'"),
        ("{1: 2}", r"unexpected character '\{'"),
        ("Units if Price else 1", r"unexpected text at position 7, found 'if'"),
        ("1 < Units < 9", r"compare two values at a time"),
        ("1e3", r"unexpected text at position 2, found 'e3'"),
        ("0x10", r"unexpected text at position 2, found 'x10'"),
        ("1_000", r"unexpected text at position 2, found '_000'"),
        ("+Units", r"unary \+ is not part of the expression language"),
        ("f'{Units}'", r"unexpected text at position 2"),
        ("'open", r"unclosed string starting at position 1"),
        ("[1, 2", r"expected '\]' at position 6, found end of expression"),
    ],
)
def test_outside_the_allow_list_is_refused_with_its_position(text: str, message: str) -> None:
    with pytest.raises(ExprError, match=message):
        compile_expr(text)


def test_numbers_are_read_from_the_text_not_through_float() -> None:
    value = compile_expr("0.1 + 0.2 + 1234567890.123456789").evaluate({})
    assert value == D("1234567890.423456789") and isinstance(value, D)
    assert compile_expr("12").evaluate({}) == 12 and isinstance(compile_expr("12").evaluate({}), int)


def test_python_keywords_are_field_names_and_if_is_the_function() -> None:
    row = {"class": 2, "from": 3, "True": 4, "params": {"import": 5}}
    assert compile_expr("class + from + True + params.import").evaluate(row) == 14
    assert compile_expr("if(class > 1, `from`, null)").evaluate(row) == 3
    expr = compile_expr("`Odd name`.x + 1")
    assert expr.names == {("Odd name", "x")}


def test_strings_keep_the_languages_escapes() -> None:
    assert compile_expr(r"'a\nb'").evaluate({}) == "anb"  # a backslash takes the next character as is
    assert compile_expr('"say \\"hi\\""').evaluate({}) == 'say "hi"'


def test_expressions_may_span_lines() -> None:
    assert compile_expr("\n  concat('a',\n    'b')\n").evaluate({}) == "ab"


def test_aggregates_are_the_outermost_call_only() -> None:
    assert compile_expr("max(DaysPastDue)", aggregates=True).top_call[0] == "max"
    assert compile_expr("sum(Amount) + 1", aggregates=True).top_call is None
    with pytest.raises(ExprError, match=r"unknown function sum\(\)"):
        compile_expr("sum(sum(Amount))", aggregates=True)


def test_fields_belong_to_names_only_and_python_warnings_stay_quiet(recwarn: pytest.WarningsRecorder) -> None:
    with pytest.raises(ExprError, match=r"only names have fields"):
        compile_expr("(Name).x")
    with pytest.raises(ExprError, match=r"1\. is not a number of the language"):
        compile_expr("1. and Units")
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]

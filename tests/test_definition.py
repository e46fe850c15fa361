"""Definitions: every bad case in tests/definitions/ fails with one `file:line: message`; good ones parse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sheetsync.definition import (
    DemoValue,
    FromSource,
    ParamSpec,
    builtin_paths,
    coerce_param,
    find_definition,
    load_definition,
    parse_definition,
    resolve_params,
)
from sheetsync.errors import DefinitionError, ParameterError

CASES = sorted((Path(__file__).parent / "definitions").glob("*.yaml"))


def expectation(path: Path) -> tuple[int, str]:
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# expect: (\d+): (.+)", first)
    assert match, f"{path.name} must start with '# expect: LINE: message regex'"
    return int(match.group(1)), match.group(2)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_definition_names_file_line_and_problem(path: Path) -> None:
    line, message = expectation(path)
    with pytest.raises(DefinitionError, match=rf"^{re.escape(str(path))}:{line}: .*{message}") as info:
        load_definition(path)
    assert "\n" not in str(info.value)
    assert info.value.line == line


def test_there_are_enough_bad_cases() -> None:
    assert len(CASES) >= 15


@pytest.mark.parametrize("name", list(builtin_paths()))
def test_builtin_reports_are_valid(name: str) -> None:
    definition = find_definition(name)
    assert definition.name == name
    assert definition.tabs


def test_price_list_shape() -> None:
    d = find_definition("price-list")
    assert d.params["customer_ids"].required and d.params["customer_ids"].type == "int_list"
    assert not d.params["effective_date"].required
    assert d.sources["products"].params["ProductIDs"] == FromSource("pricing", ["ProductID"])
    assert d.sources["products"].depends_on == {"pricing"}
    assert isinstance(d.demo["customer_ids"], DemoValue)
    assert d.tabs[0].split == "CustomerID"


def test_yaml_keys_stay_text() -> None:
    """YAML 1.1 reads a bare `on:` key as True; definitions keep keys as written."""
    d = parse_definition(
        "name: t\nsources:\n  a: {endpoint: customerPricing, params: {CustomerIDs: [1]}}\n"
        "  b: {endpoint: products}\ntransforms:\n  - join: {frame: a, with: b, on: ProductID}\n"
        "tabs: [{columns: [ProductName]}]\n",
        "t.yaml",
    )
    assert d.steps[0].on == ["ProductID"]  # type: ignore[attr-defined]


def test_derived_columns_are_known_to_later_steps_and_tabs() -> None:
    text = (
        "name: t\nsources:\n  p: {endpoint: products}\ntransforms:\n"
        "  - derive: {columns: {Cases: 'ceil(WholesaleUnitsPerCase / 2)', Double: Cases * 2}}\n"
        "tabs: [{columns: [Double, {header: X, expr: Cases + 1}]}]\n"
    )
    assert parse_definition(text, "t.yaml").steps[0].output == "p"
    with pytest.raises(DefinitionError, match=r"t.yaml:6: field 'Doubel' is not a column of frame 'p'"):
        parse_definition(text.replace("[Double,", "[Doubel,"), "t.yaml")


def test_explode_with_fields_keeps_checking() -> None:
    text = (
        "name: t\nsources:\n  a: {endpoint: arAging}\ntransforms:\n"
        "  - explode: {columns: {CurrentInvoices: Current, Invoices_1_30: 1-30}, label: Bucket,"
        " fields: [InvoiceID, InvoiceNum], as: items}\n"
        "tabs: [{columns: [Bucket, InvoiceNum, CustomerID]}]\n"
    )
    parse_definition(text, "t.yaml")
    with pytest.raises(DefinitionError, match="InvoiceNumber"):
        parse_definition(text.replace("[Bucket, InvoiceNum,", "[Bucket, InvoiceNumber,"), "t.yaml")


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("int", "12", 12),
        ("int_list", "1, 2,3", [1, 2, 3]),
        ("str_list", "CA,NJ", ["CA", "NJ"]),
        ("decimal", "1.10", __import__("decimal").Decimal("1.10")),
        ("bool", "yes", True),
        ("date", "2026-01-31", __import__("datetime").date(2026, 1, 31)),
    ],
)
def test_coerce_param(kind: str, raw: str, expected: object) -> None:
    assert coerce_param(ParamSpec(name="x", type=kind), raw) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, r"needs parameter customer_ids \(int_list\): add -p customer_ids=VALUE"),
        ({"customer_id": "1"}, r"has no parameter 'customer_id' \(did you mean 'customer_ids'\?\)"),
        ({"customer_ids": "1,a"}, r"customer_ids expects whole numbers"),
        ({"customer_ids": "1", "effective_date": "31/01/2026"}, r"effective_date expects a date"),
    ],
)
def test_resolve_params_refuses(given: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        resolve_params(find_definition("price-list"), given)


def test_unknown_report_suggests() -> None:
    with pytest.raises(DefinitionError, match=r"unknown report 'price-lst' \(did you mean 'price-list'\?\)"):
        find_definition("price-lst")

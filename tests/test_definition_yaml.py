"""Definition YAML is read with YAML 1.2 scalars: what a person typed is what the report gets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheetsync.definition import parse_definition
from sheetsync.definition.source_text import load_yaml
from sheetsync.errors import DefinitionError
from sheetsync.expr import Template


def test_yaml_1_1_surprises_stay_text() -> None:
    data, _ = load_yaml("a: [NO, on, yes, Off, 10:30, 0042, 1_000, 0o17]\nb: [true, false, 12, -3]\n", "x.yaml")
    assert data["a"] == ["NO", "on", "yes", "Off", "10:30", "0042", "1_000", "0o17"]  # not False, 630, 34 ...
    assert data["b"] == [True, False, 12, -3]


def test_numbers_with_a_point_are_exact_decimals() -> None:
    data, _ = load_yaml("a: [12.10, 0.1, 1e3, -0.5]\n", "x.yaml")
    assert data["a"] == [Decimal("12.10"), Decimal("0.1"), Decimal("1E+3"), Decimal("-0.5")]
    assert str(data["a"][0]) == "12.10"


TEXT = """\
name: t
params:
  states: {type: str_list, default: [NO, CA]}
  burst: {type: bool, default: no}
sources:
  p: {endpoint: products, params: {States: [CA, NO]}}
tabs:
  - columns: [ProductName, WholesaleUnitsPerCase]
    rules: [{when: WholesaleUnitsPerCase, op: ">", value: 12.10}]
burst: {by: ProductName, enabled: ENABLED}
"""


def test_a_definition_gets_what_was_typed() -> None:
    d = parse_definition(TEXT.replace("ENABLED", "no"), "t.yaml")
    assert d.params["states"].default == ["NO", "CA"] and d.params["burst"].default is False
    assert d.sources["p"].params["States"] == ["CA", "NO"]
    assert d.tabs[0].rules[0].value == Decimal("12.10")
    assert d.burst is not None and d.burst.enabled is False


def test_burst_enabled_is_a_flag_or_a_template() -> None:
    d = parse_definition(TEXT.replace("ENABLED", '"{{ params.burst }}"'), "t.yaml")
    assert d.burst is not None and isinstance(d.burst.enabled, Template)
    with pytest.raises(DefinitionError, match=r"t.yaml:10: expected true, false or a \{\{ template \}\}, not 'maybe'"):
        parse_definition(TEXT.replace("ENABLED", "maybe"), "t.yaml")

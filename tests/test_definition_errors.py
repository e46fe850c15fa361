"""Bad definitions as a table: (definition text, line, message pattern), each through load_definition.

Every case is a small complete definition with one mistake; the error must name the file, the line
of the mistake and what is wrong. See also tests/definitions/ (one bad file each).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.definition import load_definition
from sheetsync.errors import DefinitionError, DefinitionErrors

MULTI = """\
name: t
sources:
  products: {endpoint: products, parms: {}}
transforms:
  - derive: {columns: {X: "UnitPrice *"}}
tabs:
  - columns:
      - {header: A, field: ProductName, format: money}
"""


def test_every_problem_of_a_file_is_reported_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text(MULTI)
    with pytest.raises(DefinitionErrors) as info:
        load_definition(path)
    assert [(e.line, e.file) for e in info.value.errors] == [(3, str(path)), (5, str(path)), (8, str(path))]
    lines = str(info.value).splitlines()
    assert re.match(
        rf"{re.escape(str(path))}:3: unknown key 'parms' in source 'products' \(did you mean 'params'", lines[0]
    )
    assert "bad expression 'UnitPrice *'" in lines[1]
    assert "unknown format 'money'" in lines[2]


def test_the_cli_prints_one_error_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text(MULTI)
    assert run_safely(cli, ["reports", "check", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith(f"error: {path}:") for line in err)


def test_cross_checks_report_every_problem_too(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(
        "name: t\nsources:\n  products: {endpoint: products}\ntransforms:\n  - sort: {by: ProductNam}\n"
        "tabs:\n  - columns: [ProductName, Brand]\n"
    )
    with pytest.raises(DefinitionErrors) as info:
        load_definition(path)
    assert [e.line for e in info.value.errors] == [5, 7]
    assert isinstance(info.value, DefinitionError)


# Each case is a whole definition with one mistake; `# <-` marks the line the error must name.
BAD = [
    # unknown keys, with a did-you-mean from the schema
    (
        "top-key",
        "name: t\nsources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\ntabz: x  # <-\n",
        r"unknown key 'tabz' in the definition \(did you mean 'tabs'\?\)",
    ),
    (
        "source-key",
        "name: t\nsources:\n  p: {endpoint: products, parms: {}}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"unknown key 'parms' in source 'p' \(did you mean 'params'\?\)",
    ),
    (
        "param-key",
        "name: t\nparams:\n  ids: {type: int_list, requird: true}  # <-\n"
        "sources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\n",
        r"unknown key 'requird' in parameter 'ids' \(did you mean 'required'\?\)",
    ),
    (
        "column-key",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, field: ProductName, colour: red}  # <-\n",
        r"unknown key 'colour' in column 1",
    ),
    (
        "step-key",
        "name: t\nsources: {p: {endpoint: products}, c: {endpoint: productCategories}}\ntransforms:\n"
        "  - join: {with: c, onn: ProductCategoryID}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"unknown key 'onn' in join step \(did you mean 'on'\?\)",
    ),
    (
        "rule-key",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n    rules:\n"
        "      - {when: ProductName, op: not_blank, fil: '#FFFFFF'}  # <-\n",
        r"unknown key 'fil' in rule \(did you mean 'fill'\?\)",
    ),
    (
        "burst-key",
        "name: t\nsources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\nburst:\n"
        "  by: ProductName\n  enable: false  # <-\n",
        r"unknown key 'enable' in burst \(did you mean 'enabled'\?\)",
    ),
    (
        "transform-kind",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n  - explod: {column: X}  # <-\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"unknown transform 'explod' \(did you mean 'explode'\?\)",
    ),
    # wrong types
    (
        "tabs-not-list",
        "name: t\nsources: {p: {endpoint: products}}\ntabs: oops  # <-\n",
        r"tabs must be a list, not text",
    ),
    (
        "width-not-number",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - header: A\n        field: ProductName\n        width: wide  # <-\n",
        r"width must be a number, not text",
    ),
    (
        "head-n-not-int",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n  - head: {n: many}  # <-\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"n must be a whole number, not text",
    ),
    (
        "required-not-bool",
        "name: t\nparams:\n  ids:\n    type: int_list\n    required: maybe  # <-\n"
        "sources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\n",
        r"required must be true or false, not text",
    ),
    (
        "source-not-mapping",
        "name: t\nsources:\n  p: [products]  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"p must be a mapping, not a list",
    ),
    # enums
    (
        "format",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, field: ProductName, format: money}  # <-\n",
        r"column 1 has unknown format 'money' \(one of: text, integer, decimal, currency",
    ),
    (
        "total",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, field: ProductName, total: averag}  # <-\n",
        r"unknown total 'averag' \(did you mean 'average'\?\)",
    ),
    (
        "join-how",
        "name: t\nsources: {p: {endpoint: products}, c: {endpoint: productCategories}}\ntransforms:\n"
        "  - join: {with: c, on: ProductCategoryID, how: lft}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"join step has unknown how 'lft' \(did you mean 'left'\?\)",
    ),
    (
        "rule-op",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n"
        "    rules: [{when: ProductName, op: '=~'}]  # <-\n",
        r"rule has unknown op '=~'",
    ),
    (
        "api",
        "name: t\nsources:\n  p: {endpoint: products, api: kots}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"source 'p' has unknown api 'kots' \(did you mean 'kotis'\?\)",
    ),
    (
        "param-type",
        "name: t\nparams:\n  ids: {type: integer_list}  # <-\nsources: {p: {endpoint: products}}\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"parameter 'ids' has unknown type 'integer_list' \(did you mean 'int_list'\?\)",
    ),
    # expressions and templates
    (
        "expr-syntax",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n"
        "  - derive: {columns: {X: 'WholesaleUnitsPerCase *'}}  # <-\ntabs: [{columns: [X]}]\n",
        r"bad expression 'WholesaleUnitsPerCase \*': expected a value at position 24, found end of expression",
    ),
    (
        "expr-subscript",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n"
        "  - filter: {where: 'ProductName[0] == \"K\"'}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"bad expression .*: indexing with \[...\] is not part of the expression language",
    ),
    (
        "expr-power",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, expr: 'WholesaleUnitsPerCase ** 2'}  # <-\n",
        r"bad expression 'WholesaleUnitsPerCase \*\* 2': expected a value at position 24",
    ),
    (
        "expr-assign",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n"
        "    where: ProductName = 'x'  # <-\n",
        r"unexpected character '='",
    ),
    (
        "template-unclosed",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n"
        "    title: 'Products of {{ ProductName'  # <-\n",
        r"bad template .*unclosed \{\{",
    ),
    (
        "unknown-function",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, expr: 'celi(WholesaleUnitsPerCase)'}  # <-\n",
        r"unknown function celi\(\) \(did you mean ceil\?\)",
    ),
    (
        "unknown-function-in-template",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n"
        "  - columns: [ProductName]\n    name: '{{ uper(ProductName) }}'  # <-\n",
        r"unknown function uper\(\) \(did you mean upper\?\)",
    ),
    (
        "not-an-aggregate",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n"
        "  - group: {by: BrandName, aggregate: {N: count() + 1}}  # <-\ntabs: [{columns: [N]}]\n",
        r"an aggregate must be one of sum\(\), count\(\)",
    ),
    # sources: order (no cycles), endpoints, parameters
    (
        "cyclic-sources",
        "name: t\nsources:\n  a:\n    endpoint: products\n"
        "    params: {ProductIDs: '{{ sources.b.ProductID }}'}  # <-\n"
        "  b:\n    endpoint: inventory\n    params: {ProductIDs: '{{ sources.a.ProductID }}'}\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"reads source 'b', which is not declared above it",
    ),
    (
        "self-dependent-source",
        "name: t\nsources:\n  p:\n    endpoint: products\n    params:\n"
        "      ProductIDs: {from: p, field: ProductID}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"reads source 'p', which is not declared above it",
    ),
    (
        "unknown-endpoint",
        "name: t\nsources:\n  p: {endpoint: prodcts}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"source 'p': unknown KSS endpoint 'prodcts' \(did you mean 'products'\?\)",
    ),
    (
        "unknown-endpoint-param",
        "name: t\nsources:\n  p:\n    endpoint: products\n"
        "    params: {SuplierIDs: [1]}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"endpoint 'products' has no parameter 'SuplierIDs' \(did you mean 'SupplierIDs'\?\)",
    ),
    (
        "unknown-kotis-endpoint",
        "name: t\nsources:\n  o: {api: kotis, endpoint: order_stat}  # <-\ntabs: [{columns: [order_number]}]\n",
        r"unknown Kotis endpoint 'order_stat' \(did you mean '?order_status'?\?\)",  # quoting: the registry's
    ),
    (
        "str-list-into-ids",
        "name: t\nparams:\n  customers: {type: str_list}\nsources:\n  c:\n    endpoint: customers\n"
        "    params: {CustomerIDs: '{{ params.customers }}'}  # <-\ntabs: [{columns: [CustomerName]}]\n",
        r"parameter CustomerIDs of endpoint 'customers' takes number\[\], but params.customers is a str_list parameter",
    ),
    (
        "bool-into-ids",
        "name: t\nparams:\n  flag: {type: bool}\nsources:\n  p:\n    endpoint: products\n"
        "    params: {ProductIDs: '{{ params.flag }}'}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"takes number\[\], but params.flag is a bool parameter",
    ),
    (
        "literal-not-a-number",
        "name: t\nsources:\n  p:\n    endpoint: products\n"
        "    params: {ProductIDs: [1, two]}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"parameter ProductIDs expects a number or a list of numbers",
    ),
    (
        "missing-required-endpoint-param",
        "name: t\nsources:\n  pricing: {endpoint: customerPricing}  # <-\ntabs: [{columns: [UnitPrice]}]\n",
        r"endpoint 'customerPricing' requires parameter CustomerIDs",
    ),
    (
        "unknown-param-reference",
        "name: t\nparams:\n  states: {type: str_list}\nsources:\n  p:\n    endpoint: products\n"
        "    params: {States: '{{ params.stats }}'}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"unknown parameter 'params.stats' \(did you mean 'states'\?\)",
    ),
    (
        "dependent-without-field",
        "name: t\nsources:\n  p: {endpoint: products}\n  i:\n    endpoint: inventory\n"
        "    params: {ProductIDs: {from: p}}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"parameter ProductIDs: give `field` \(or `fields`\) of the source it reads",
    ),
    (
        "width-true",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n"
        "      - {header: A, field: ProductName, width: true}  # <-\n",
        r"width must be a positive number of characters",
    ),
    # missing keys
    (
        "column-without-header",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:\n      - {field: ProductName}  # <-\n",
        r"column 1 is missing 'header'",
    ),
    (
        "source-without-endpoint",
        "name: t\nsources:\n  p: {params: {}}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"source 'p' is missing 'endpoint'",
    ),
    ("no-sources", "name: t  # <-\ntabs: [{columns: [ProductName]}]\n", r"the definition is missing 'sources'"),
    # columns flowing between steps and tabs
    (
        "unknown-frame",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n"
        "  - join: {with: product, on: ProductID}  # <-\ntabs: [{columns: [ProductName]}]\n",
        r"unknown frame 'product' \(did you mean 'p'\?\)|unknown frame 'product'",
    ),
    (
        "unknown-sort-field",
        "name: t\nsources: {p: {endpoint: products}}\ntransforms:\n  - sort: {by: -ProductNam}  # <-\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"field 'ProductNam' is not documented for endpoint 'products' \(did you mean 'ProductName'\?\)",
    ),
    (
        "duplicate-header",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns:  # <-\n"
        "      - ProductName\n      - ProductName\n",
        r"column header 'ProductName' appears twice",
    ),
    (
        "chart-column",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n"
        "    chart: {columns: [Products]}  # <-\n",
        r"chart names column 'Products', which is not a header of this tab \(did you mean 'ProductName'\?\)",
    ),
    (
        "demo-unknown-param",
        "name: t\nparams:\n  ids: {type: int_list}\ndemo:\n  idz: [1]  # <-\n"
        "sources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\n",
        r"demo sets unknown parameter 'idz' \(did you mean 'ids'\?\)",
    ),
    # values
    (
        "time-zone",
        "name: t\ntimezone: Mars/Olympus  # <-\nsources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\n",
        r"unknown time zone 'Mars/Olympus'",
    ),
    (
        "colour",
        "name: t\nsources: {p: {endpoint: products}}\ntabs:\n  - columns: [ProductName]\n    rules:\n"
        "      - {when: ProductName, op: blank, fill: yellow}  # <-\n",
        r"fill must be a colour like #FFF2CC",
    ),
    (
        "report-name",
        "name: Price List  # <-\nsources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\n",
        r"name 'Price List' must be lower-case letters, digits, - or _",
    ),
    (
        "param-name",
        "name: t\nparams:\n  CustomerIDs: {type: int_list}  # <-\nsources: {p: {endpoint: products}}\n"
        "tabs: [{columns: [ProductName]}]\n",
        r"parameter name 'CustomerIDs' must be lower_snake_case",
    ),
    (
        "duplicate-yaml-key",
        "name: t\nsources: {p: {endpoint: products}}\ntabs: [{columns: [ProductName]}]\nname: u  # <-\n",
        r"duplicate key 'name'",
    ),
]


def test_there_are_at_least_thirty_bad_cases() -> None:
    assert len(BAD) >= 30 and len({case[0] for case in BAD}) == len(BAD)


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[case[0] for case in BAD])
def test_bad_definition_table(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    line = next(i for i, content in enumerate(text.splitlines(), 1) if content.endswith("# <-"))
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    assert not isinstance(info.value, DefinitionErrors), f"one mistake, one error: {info.value}"
    assert (info.value.file, info.value.line) == (str(path), line), str(info.value)
    assert re.match(rf"{re.escape(str(path))}:{line}: .*({message})", str(info.value)), str(info.value)

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

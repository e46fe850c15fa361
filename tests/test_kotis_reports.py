"""Kotis sources in report definitions: names looked up in the one endpoint registry (documented paths;
old names accepted with one warning line), run end to end against the sandbox's request log."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.definition import load_definition
from sheetsync.errors import DefinitionError

ORDERS = """\
name: kotis-orders
title: Kotis orders
sources:
  orders:
    api: kotis
    endpoint: {endpoint}
    params: {{source: all, {start}: "2026-01-01", {end}: "2026-02-28"}}
tabs:
  - name: Orders
    columns:
      - {{header: Order, field: order_number}}
      - {{header: Status, field: status}}
"""


def write(tmp_path: Path, endpoint: str, start: str = "start_date", end: str = "end_date") -> Path:
    path = tmp_path / "kotis-orders.yaml"
    path.write_text(ORDERS.format(endpoint=endpoint, start=start, end=end))
    return path


@pytest.fixture
def kotis_env(sandbox, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at the shared session sandbox, so its request log shows what was sent."""
    monkeypatch.setenv("KOTIS_BASE_URL", sandbox.info.kotis)
    monkeypatch.setenv("KOTIS_STORES_BASE_URL", sandbox.info.kotis_stores)
    monkeypatch.setenv("KOTIS_API_KEY", sandbox.info.keys["kotis"])
    return sandbox


@pytest.mark.parametrize(
    ("endpoint", "start", "end", "warnings"),
    [
        ("orders/by_source", "start_date", "end_date", []),
        ("orders_by_source", "start", "end", ["'orders_by_source'", "'start'", "'end'"]),
    ],
)
def test_a_kotis_report_runs_by_documented_or_old_names(kotis_env, tmp_path, capsys, endpoint, start, end, warnings):
    out = tmp_path / "orders.xlsx"
    before = len(kotis_env.requests_log())
    code = run_safely(cli, ["run", str(write(tmp_path, endpoint, start, end)), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    sent = [r for r in kotis_env.requests_log()[before:] if r["path"] == "/orders/by_source"]
    assert [r["query"]["start_date"] for r in sent] == ["2026-01-01"]
    assert all(r["query"]["end_date"] == "2026-02-28" for r in sent)
    rows = list(openpyxl.load_workbook(out)["Orders"].iter_rows(values_only=True))
    assert any(row and str(row[0]).isdigit() for row in rows)
    shown = [line for line in err.splitlines() if line.startswith("warning:") and "old name" in line]
    assert len(shown) == len(warnings) and all(any(w in line for line in shown) for w in warnings)


def test_an_unknown_kotis_endpoint_is_named_with_a_suggestion(tmp_path) -> None:
    with pytest.raises(
        DefinitionError, match=r"unknown Kotis endpoint 'orders/by_sorce' \(did you mean 'orders/by_source'"
    ):
        load_definition(write(tmp_path, "orders/by_sorce"))


def test_a_kotis_parameter_is_checked_against_the_registry(tmp_path) -> None:
    with pytest.raises(DefinitionError, match=r"has no parameter 'start_day'.*did you mean 'start_date'"):
        load_definition(write(tmp_path, "orders/by_source", start="start_day"))

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


def test_the_builtin_kotis_orders_report_splits_90_days_and_summarises_by_status(kotis_env, tmp_path) -> None:
    out = tmp_path / "kotis-orders.xlsx"
    before = len(kotis_env.requests_log())
    code = run_safely(cli, ["run", "kotis-orders", "-o", str(out), "-p", "end=2026-03-02", "-p", "stale_days=3"])
    assert code == 0
    sent = kotis_env.requests_log()[before:]
    windows = [r["query"] for r in sent if r["path"] == "/orders/by_source"]
    assert [(w["start_date"], w["end_date"]) for w in windows] == [
        ("2025-12-02", "2026-01-31"),
        ("2026-02-01", "2026-03-02"),
    ]
    assert len([r for r in sent if r["path"] == "/orders/status"]) == 1  # all orders in one batched request
    book = openpyxl.load_workbook(out)
    orders, summary = book["Orders"], book["Summary"]
    header = next(r for r in range(1, 20) if orders.cell(r, 1).value == "Order")
    rows = [r for r in orders.iter_rows(min_row=header + 1, values_only=True) if r[0] and r[0] != "Total"]
    tracking = [t for r in rows if r[6] for t in r[6].split(", ")]
    known = {s.tracking_numbers for s in kotis_env.app.kotis_kwf.data.shipments.values()}
    assert tracking and set(tracking) <= known  # every digit of 22-digit numbers kept, as text
    assert any(t.isdigit() and len(t) >= 20 for t in tracking)
    stale = [r for r in rows if r[10] == "not shipped"]
    assert stale and all(r[5] == 0 and r[9] >= 3 for r in stale)
    s_header = next(r for r in range(1, 20) if summary.cell(r, 1).value == "Status")
    counts = {r[0]: r[1] for r in summary.iter_rows(min_row=s_header + 1, values_only=True) if r[0] and r[1]}
    counts.pop("Total", None)
    assert sum(counts.values()) == len(rows)
    assert counts == {s: sum(1 for r in rows if r[4] == s) for s in counts}


def test_demo_writes_the_kotis_orders_report(tmp_path) -> None:
    code = run_safely(cli, ["demo", "--out", str(tmp_path)])
    assert code == 0
    book = openpyxl.load_workbook(tmp_path / "kotis-orders.xlsx")
    assert book.sheetnames == ["Orders", "Summary"]
    ws = book["Orders"]
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Order")
    assert ws.cell(header + 1, 1).value  # orders, not an empty tab


def test_the_kotis_orders_report_names_the_kotis_environment_not_the_kss_one(kotis_env, tmp_path, monkeypatch) -> None:
    """The Environment line says where the data came from: a Kotis-only report shows the Kotis base URL,
    whatever KSS_BASE_URL is set to."""
    monkeypatch.setenv("KSS_BASE_URL", "http://127.0.0.1:9/kss/api/v1")
    monkeypatch.setenv("KSS_API_KEY", "unused")
    out = tmp_path / "kotis-orders.xlsx"
    assert run_safely(cli, ["run", "kotis-orders", "-o", str(out), "-p", "end=2026-03-02"]) == 0
    book = openpyxl.load_workbook(out)
    for name in ("Orders", "Summary"):
        shown = {r[0]: r[1] for r in book[name].iter_rows(max_row=12, max_col=2, values_only=True) if r[0]}
        assert shown["Environment"] == kotis_env.info.kotis, name
    everything = [c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any("9/kss" in text for text in everything)

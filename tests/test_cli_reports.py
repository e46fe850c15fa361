"""End to end: `sheetsync run price-list` against the sandbox, read back with openpyxl and reconciled
with the sandbox's own data fetched independently; the reports/run/demo commands and their errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import requests

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.model import ACCOUNTING

CUSTOMERS = [1, 2, 3]


@pytest.fixture
def kss_env(sandbox, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at the shared session sandbox (so its request log can be read)."""
    monkeypatch.setenv("KSS_BASE_URL", sandbox.info.kss)
    monkeypatch.setenv("KSS_API_KEY", sandbox.info.keys["employee"])
    return sandbox


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_safely(cli, list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def get_all(sandbox, endpoint: str, **params: str) -> list[dict]:
    rows, page = [], 1
    while True:
        response = requests.get(
            f"{sandbox.info.kss}/{endpoint}",
            params={**params, "Page": page, "PageSize": 500},
            headers={"x-api-key": sandbox.info.keys["employee"]},
            timeout=10,
        )
        response.raise_for_status()
        data = response.json()["Data"]
        rows.extend(data)
        if len(data) < 500:
            return rows
        page += 1


def sheet_rows(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    header_index = next(i for i, row in enumerate(values) if row[0] == "Category")
    header = values[header_index]
    return [
        dict(zip(header, row, strict=True)) for row in values[header_index + 1 :] if any(v is not None for v in row)
    ]


def test_price_list_reconciles_with_the_sandbox(kss_env, tmp_path: Path, capsys) -> None:
    out = tmp_path / "prices.xlsx"
    before = len(kss_env.requests_log())
    code, stdout, stderr = invoke(capsys, "run", "price-list", "-p", "customer_ids=1,2,3", "-o", str(out), "--json")
    assert code == 0, stderr
    summary = json.loads(stdout)
    sent = kss_env.requests_log()[before:]
    paths = sorted(r["path"].rsplit("/", 1)[-1] for r in sent)
    assert paths == ["customerPricing", "customers", "productCategories", "products", "promotionsProducts"]
    assert summary["requests"] == {p: 1 for p in paths} and summary["tabs"] == 3

    pricing = get_all(kss_env, "customerPricing", CustomerIDs="1,2,3")
    products = {
        p["ProductID"]: p
        for p in get_all(kss_env, "products", ProductIDs=",".join(str(r["ProductID"]) for r in pricing))
    }
    customers = {
        c["CustomerID"]: c
        for c in get_all(kss_env, "customers", CustomerIDs="1,2,3", AccountStatuses="Active,Inactive,OutOfBus")
    }
    promotions = {p["PromotionID"]: p for p in get_all(kss_env, "promotionsProducts")}
    workbook = openpyxl.load_workbook(out)
    assert len(workbook.worksheets) == 3
    promo_rows = 0
    for ws, customer in zip(workbook.worksheets, CUSTOMERS, strict=True):
        name = customers[customer]["CustomerName"]
        assert ws["A1"].value == f"Price list: {name}"
        rows = sheet_rows(ws)
        expected = {r["ProductID"]: r for r in pricing if r["CustomerID"] == customer}
        assert sorted(r["Product ID"] for r in rows) == sorted(expected)
        for row in rows:
            api = expected[row["Product ID"]]
            assert Decimal(str(row["Unit price"])) == Decimal(api["UnitPrice"])
            assert Decimal(str(row["Full price"])) == Decimal(api["FullPrice"])
            assert Decimal(str(row["Discount"])) == Decimal(api["Discount"])
            assert row["Product"] == products[row["Product ID"]]["ProductName"]
            if api["PromotionID"]:
                promo_rows += 1
                assert row["Promotion"] == promotions[api["PromotionID"]]["PromotionName"]
            else:
                assert row["Promotion"] is None
        total = sum(Decimal(api["UnitPrice"]) for api in expected.values())
        assert sum(Decimal(str(r["Unit price"])) for r in rows) == total
        header_row = next(c.row for c in ws["A"] if c.value == "Category")
        assert ws.cell(header_row + 1, 7).number_format == ACCOUNTING
        assert ws.conditional_formatting, "promotional rows are highlighted by a rule"
    assert promo_rows > 0


def test_identical_queries_are_fetched_once_and_cached_runs_use_304(kss_env, tmp_path: Path, capsys) -> None:
    code, stdout, _ = invoke(
        capsys,
        "run",
        "price-list",
        "-p",
        "customer_ids=2",
        "-p",
        "customer_ids=2",
        "-o",
        str(tmp_path / "a.xlsx"),
        "--json",
    )
    assert code == 0
    assert all(n == 1 for n in json.loads(stdout)["requests"].values())
    code, stdout, _ = invoke(
        capsys, "run", "price-list", "-p", "customer_ids=2", "-o", str(tmp_path / "b.xlsx"), "--json"
    )
    assert code == 0 and json.loads(stdout)["not_modified"] >= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "customer_ids=1,x"], "error: parameter customer_ids expects whole numbers"),
        ([], "error: report price-list needs parameter customer_ids"),
        (["-p", "customer_id=1"], "did you mean 'customer_ids'?"),
        (["-p", "customer_ids=1", "-o", "out.csv"], "error: output 'out.csv'"),
        (["-p", "customer_ids=1", "-o", "ftp://x/y.xlsx"], "error: output 'ftp://x/y.xlsx'"),
        (["-p", "customer_ids=1", "-o", "missing-dir/x.xlsx"], "directory missing-dir does not exist"),
        (
            [
                "-p",
                "customer_ids=1",
                "-o",
                "ok.xlsx",
                "-o",
                "gsheet://abcdefghijkl",
                "--google-credentials",
                "nope.json",
            ],
            "error: ",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_before_any_request(
    kss_env, tmp_path: Path, capsys, monkeypatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    existing = tmp_path / "price-list.xlsx"
    existing.write_bytes(b"keep me")
    before = len(kss_env.requests_log())
    code, _, stderr = invoke(capsys, "run", "price-list", *args)
    assert code == 2
    assert stderr.strip().count("\n") == 0 and message in stderr
    assert len(kss_env.requests_log()) == before
    assert existing.read_bytes() == b"keep me"


def test_broken_definition_file(tmp_path: Path, capsys) -> None:
    bad = Path(__file__).parent / "definitions" / "undocumented-field.yaml"
    code, _, stderr = invoke(capsys, "run", str(bad), "--sandbox")
    assert code == 2 and stderr.startswith(f"error: {bad}:8: field 'ProductNam'")
    code, _, stderr = invoke(capsys, "reports", "check", str(bad))
    assert code == 2 and stderr.count("\n") == 1


def test_reports_list_show_check(capsys) -> None:
    code, out, _ = invoke(capsys, "reports", "list")
    assert code == 0 and "price-list" in out
    code, out, _ = invoke(capsys, "reports", "show", "price-list")
    assert code == 0 and "customer_ids" in out and "int_list" in out and "Unit price" in out
    code, out, _ = invoke(capsys, "reports", "check", "reports/price-list.yaml")
    assert code == 0 and out.startswith("ok:")


def test_demo_writes_every_builtin_report(tmp_path: Path, capsys) -> None:
    code, out, stderr = invoke(capsys, "demo", "--out", str(tmp_path / "demo"), "--json")
    assert code == 0, stderr
    summaries = json.loads(out)
    from sheetsync.definition import builtin_paths

    assert sorted(s["report"] for s in summaries) == sorted(builtin_paths())
    for summary in summaries:
        for written in summary["outputs"]:
            assert openpyxl.load_workbook(written).worksheets
    assert (tmp_path / "demo" / "price-list.xlsx").exists()


def test_aging_sketch_statements_reconcile_to_the_cent(kss_env) -> None:
    """The issue-5 shapes (dependent bucket invoice IDs, explode, time zones, running balance, burst) work."""
    from sheetsync.config import load_settings
    from sheetsync.connect import open_connections
    from sheetsync.definition import load_definition, resolve_params
    from sheetsync.report import run_report

    definition = load_definition(Path(__file__).parent / "definitions" / "good" / "aging-sketch.yaml")
    aging = {a["CustomerID"]: Decimal(a["TotalBalanceOutstanding"]) for a in get_all(kss_env, "arAging")}
    with open_connections(load_settings()) as connections:
        result = run_report(definition, resolve_params(definition, {"burst": "true"}), connections)
    assert len(result.workbooks) == len(aging)
    for workbook in result.workbooks:
        summary, *statements = workbook.tabs
        assert len(summary.rows) == 1 and len(statements) == 1  # only this customer's rows
        customer = int(statements[0].key.rsplit("-", 1)[1])
        assert sum(row[4] for row in statements[0].rows) == aging[customer].quantize(Decimal("0.01"))
        assert statements[0].rows[-1][5] == aging[customer].quantize(Decimal("0.01"))  # running balance
    assert result.summary["requests"]["invoices"] <= 3  # batched, not one per invoice


def test_demo_with_another_seed_writes_other_data(tmp_path: Path, capsys) -> None:
    code, _, stderr = invoke(capsys, "demo", "--out", str(tmp_path / "s0"))
    assert code == 0, stderr
    code, _, stderr = invoke(capsys, "demo", "--out", str(tmp_path / "s3"), "--seed", "3")
    assert code == 0, stderr

    def summary_names(folder: str) -> list:
        ws = openpyxl.load_workbook(tmp_path / folder / "ar-aging.xlsx").worksheets[0]
        return [row[0] for row in ws.iter_rows(min_row=1, values_only=True)]

    assert summary_names("s0") != summary_names("s3")

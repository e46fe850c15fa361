"""End to end: `sheetsync run REPORT --sandbox -o gsheet://ID` against the Sheets double, in process."""

from __future__ import annotations

from pathlib import Path

import google.auth
import pytest
from click.testing import CliRunner
from google.auth.exceptions import DefaultCredentialsError
from sheets_double import SheetsDouble
from test_gsheets_auth import throwaway_service_account

from sheetsync.cli import cli
from sheetsync.sinks.gsheets import GoogleSheetSource, load_credentials, set_session_factory
from sheetsync.sinks.xlsx import XlsxSource

SHEET_ID = "1AbCdEfGhIjKlMnOp"


@pytest.fixture
def double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    double = SheetsDouble()
    double.add_spreadsheet(SHEET_ID, tabs=("My notes",))
    monkeypatch.setenv("SHEETSYNC_GOOGLE_CREDENTIALS", str(throwaway_service_account(tmp_path / "sa.json")))
    set_session_factory(double.session)
    yield double
    set_session_factory(None)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_price_list_to_a_google_sheet_matches_the_xlsx(double, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    output = run("price-list", "--sandbox", "-p", "customer_ids=1,2", "-o", f"gsheet://{SHEET_ID}", "-o", "prices.xlsx")
    assert double.counts() == {"get": 1, "batchUpdate": 1}
    assert f"gsheet://{SHEET_ID} (2 Google Sheets API calls)" in output

    xlsx = XlsxSource(tmp_path / "prices.xlsx")
    gsheet = GoogleSheetSource(SHEET_ID, credentials=load_credentials(None))
    assert gsheet.tab_names() == ["My notes", *xlsx.tab_names()]
    for tab in xlsx.tab_names():
        assert gsheet.headers(tab) == xlsx.headers(tab)
        expected = [(r.row_number, r.values) for r in xlsx.read_rows(tab)]
        assert [(r.row_number, r.values) for r in gsheet.read_rows(tab)] == expected

    sheet = double.spreadsheets[SHEET_ID]
    ids = {s.title: s.sheet_id for s in sheet.sheets}
    double.calls.clear()
    run("price-list", "--sandbox", "-p", "customer_ids=1", "-o", f"gsheet://{SHEET_ID}")
    assert double.counts() == {"get": 1, "batchUpdate": 1}
    assert len(sheet.sheets) == 2 and sheet.titles[0] == "My notes"  # the second customer's tab is gone
    assert ids[sheet.titles[1]] == sheet.sheets[1].sheet_id


def test_missing_google_credentials_fail_before_any_request(tmp_path, monkeypatch) -> None:
    from sheetsync.cli.common import run_safely

    def no_adc(*args, **kwargs):
        raise DefaultCredentialsError("none")

    monkeypatch.setattr(google.auth, "default", no_adc)
    monkeypatch.setenv("SHEETSYNC_GOOGLE_TOKEN", str(tmp_path / "none.json"))
    monkeypatch.chdir(tmp_path)
    code = run_safely(cli, ["run", "price-list", "--sandbox", "-p", "customer_ids=1", "-o", f"gsheet://{SHEET_ID}"])
    assert code == 2

"""`kotis codes` against the sandbox: once, limits refused before sending or by the API, codes written to a sheet."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import cli


@pytest.fixture
def served(fresh_sandbox, monkeypatch, store_location):
    info = fresh_sandbox.info
    monkeypatch.setenv("KOTIS_BASE_URL", info.kotis)
    monkeypatch.setenv("KOTIS_STORES_BASE_URL", info.kotis_stores)
    monkeypatch.setenv("KOTIS_API_KEY", info.keys["kotis"])
    portals = fresh_sandbox.app.kotis_kwf.data.portals
    active = sorted((p for p in portals.values() if p.active), key=lambda p: p.codes_today)
    return fresh_sandbox, active, store_location


def _posts(sandbox) -> list[dict]:
    return [e for e in sandbox.requests_log() if e["path"].endswith("redemption_codes/create")]


def _run(*args: str):
    return CliRunner().invoke(cli, ["kotis", "codes", *args])


def test_codes_are_created_once_and_written_to_a_workbook(served, tmp_path) -> None:
    sandbox, active, db = served
    out = tmp_path / "codes.xlsx"
    plan = _run("--portal", active[0].slug, "--count", "25", "--ledger", db)
    assert plan.exit_code == 0 and "Nothing was sent" in plan.output and _posts(sandbox) == []
    made = _run("--portal", active[0].slug, "--count", "25", "-o", str(out), "--apply", "--ledger", db)
    assert made.exit_code == 0, made.output
    assert len(_posts(sandbox)) == 1
    tab = f"Codes {active[0].slug}"
    codes = [r[0] for r in openpyxl.load_workbook(out)[tab].iter_rows(min_row=4, values_only=True) if r[0]]
    assert len(codes) == len(set(codes)) == 25

    more = _run("--portal", active[0].slug, "--count", "5", "-o", str(out), "--apply", "--ledger", db)
    assert more.exit_code == 0, more.output
    rows = [r for r in openpyxl.load_workbook(out)[tab].iter_rows(min_row=4, values_only=True) if r[0]]
    assert [r[0] for r in rows[:25]] == codes  # the codes handed out before are still in the sheet
    assert len({r[0] for r in rows}) == 30 and len({r[2] for r in rows}) == 2  # two runs


def test_a_count_above_the_daily_limit_is_refused_before_sending(served) -> None:
    sandbox, active, db = served
    result = _run("--portal", active[0].slug, "--count", "5001", "--apply", "--ledger", db)
    assert result.exit_code != 0 and "5,000" in str(result.exception)
    assert _posts(sandbox) == []


def test_the_api_refusal_names_the_number_still_allowed(served) -> None:
    sandbox, active, db = served
    busy = active[-1]
    busy.codes_today = 4_990
    result = _run("--portal", busy.slug, "--count", "100", "--apply", "--ledger", db)
    assert result.exit_code == 3, result.output
    assert "10 may be created now" in result.output
    assert len(_posts(sandbox)) == 1


def test_an_unknown_outcome_is_not_sent_again_without_being_told(served, monkeypatch) -> None:
    sandbox, active, db = served
    sandbox.set_faults(fault_500_rate=1.0)
    first = _run("--portal", active[0].slug, "--count", "5", "--apply", "--ledger", db)
    assert first.exit_code == 4, first.output
    sent = len(_posts(sandbox))
    sandbox.set_faults(fault_500_rate=0.0)
    again = _run("--portal", active[0].slug, "--count", "5", "--apply", "--ledger", db)
    assert again.exit_code != 0 and "unknown outcome" in str(again.exception)
    assert len(_posts(sandbox)) == sent
    forced = _run("--portal", active[0].slug, "--count", "5", "--apply", "--despite-unknown", "--ledger", db)
    assert forced.exit_code == 0, forced.output
    assert len(_posts(sandbox)) == sent + 1


def test_a_refusal_of_any_kind_is_not_an_unknown_outcome(served) -> None:
    """404 (no such portal), 429 and 401 are answers: nothing was created, nothing is blocked."""
    sandbox, active, db = served
    wrong = _run("--portal", "no-such-portal", "--count", "5", "--apply", "--ledger", db)
    assert wrong.exit_code == 3, wrong.output
    assert "Refused" in wrong.output and "Invalid Portal" in wrong.output
    assert "unknown" not in wrong.output.lower()
    sandbox.set_faults(burst_429=50)
    limited = _run("--portal", active[0].slug, "--count", "5", "--apply", "--ledger", db)
    assert limited.exit_code == 3, limited.output
    sandbox.set_faults(burst_429=0)
    again = _run("--portal", "no-such-portal", "--count", "5", "--apply", "--ledger", db)
    assert again.exit_code == 3 and "--despite-unknown" not in again.output + str(again.exception)
    made = _run("--portal", active[0].slug, "--count", "5", "--apply", "--ledger", db)
    assert made.exit_code == 0, made.output + str(made.exception)

"""The one `-p NAME=VALUE` parser every command uses, and what the sandbox receives from it."""

from __future__ import annotations

import pytest

from sheetsync.cli import cli
from sheetsync.cli.common import parse_params, run_safely
from sheetsync.errors import ExitCode, ParameterError


def test_cli_pairs() -> None:
    assert parse_params(["a=1", "b=x=y", "a=2"]) == {"a": "1,2", "b": "x=y"}
    with pytest.raises(ParameterError):
        parse_params(["novalue"])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["novalue"], r"-p 'novalue': expected NAME=VALUE"),
        (["=CA"], r"-p '=CA': expected NAME=VALUE"),
        ([" =CA"], r"-p ' =CA': expected NAME=VALUE"),
    ],
)
def test_bad_pairs_are_named(pairs: list[str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        parse_params(pairs)


def test_repeated_names_join_and_spaces_are_stripped() -> None:
    assert parse_params(["States=CA", " States = NJ ", "Page=2"]) == {"States": "CA,NJ", "Page": "2"}


@pytest.fixture
def kss_env(sandbox, monkeypatch: pytest.MonkeyPatch):
    """Point the CLI at the shared session sandbox, so its request log shows what was sent."""
    monkeypatch.setenv("KSS_BASE_URL", sandbox.info.kss)
    monkeypatch.setenv("KSS_API_KEY", sandbox.info.keys["employee"])
    return sandbox


def test_fetch_joins_repeated_names_on_the_wire(kss_env, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(kss_env.requests_log())
    code = run_safely(cli, ["fetch", "customers", "-p", "States=CA", "-p", "States=NJ", "--format", "json"])
    assert code == 0, capsys.readouterr().err
    sent = [r for r in kss_env.requests_log()[before:] if r["path"] == "/customers"]
    assert sent and all(r["query"]["States"] == "CA,NJ" for r in sent)


def test_run_joins_repeated_names_on_the_wire(kss_env, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(kss_env.requests_log())
    args = ["run", "price-list", "-p", "customer_ids=1", "-p", "customer_ids=2", "-o", str(tmp_path / "p.xlsx")]
    code = run_safely(cli, args)
    assert code == 0, capsys.readouterr().err
    sent = [r for r in kss_env.requests_log()[before:] if r["path"] == "/customerPricing"]
    assert [r["query"]["CustomerIDs"] for r in sent] == ["1,2"]


@pytest.mark.parametrize("command", [["fetch", "customers"], ["run", "price-list"]])
def test_a_pair_without_equals_is_one_line_for_every_command(command, capsys) -> None:
    code = run_safely(cli, [*command, "-p", "oops", "--sandbox"])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE and "-p 'oops': expected NAME=VALUE" in err and err.count("\n") == 1

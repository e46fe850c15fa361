"""sheetsync.toml [company]: the profile of customer statements, shown by `config show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetsync.cli import cli
from sheetsync.config import PLACEHOLDER_COMPANY, load_settings
from sheetsync.errors import ConfigError

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16

TOML = """
[company]
name = "Acme Distribution"
address = ["1 Harbor Rd", "Oakland, CA 94607"]
remit_to = "Acme Receivables\\nPO Box 9\\nOakland, CA 94604"
phone = "(510) 555-0100"
email = "ar@acme.test"
logo = "logo.png"
terms = "Net 30"
payment_instructions = ["ACH to Bank, acct 123", "Quote your account number"]
"""


def test_company_profile_from_toml(tmp_path: Path) -> None:
    (tmp_path / "sheetsync.toml").write_text(TOML)
    (tmp_path / "logo.png").write_bytes(PNG)
    company = load_settings({}, cwd=tmp_path).company()
    assert company is not None
    assert company.name == "Acme Distribution"
    assert company.address == ("1 Harbor Rd", "Oakland, CA 94607")
    assert company.remit_to == ("Acme Receivables", "PO Box 9", "Oakland, CA 94604")
    assert (company.phone, company.email, company.terms) == ("(510) 555-0100", "ar@acme.test", "Net 30")
    assert company.payment_instructions == ("ACH to Bank, acct 123", "Quote your account number")


def test_remit_to_defaults_to_the_name_and_address_and_no_name_means_no_profile(tmp_path: Path) -> None:
    company = load_settings({"SHEETSYNC_COMPANY_NAME": "Acme", "SHEETSYNC_COMPANY_ADDRESS": "1 Road"}, cwd=tmp_path)
    assert company.company().remit_to == ("Acme", "1 Road")  # a remit-to block names the payee
    assert load_settings({}, cwd=tmp_path).company() is None


@pytest.mark.parametrize(
    ("content", "message"), [(None, r"company logo .*nope.png"), (b"GIF89a", r"not a PNG or JPEG")]
)
def test_a_bad_logo_is_one_clear_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / "nope.png").write_bytes(content)
    environ = {"SHEETSYNC_COMPANY_NAME": "Acme", "SHEETSYNC_COMPANY_LOGO": str(tmp_path / "nope.png")}
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, cwd=tmp_path).company()


def test_config_show_lists_the_company_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sheetsync.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    shown = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "Acme Distribution" in shown["name"] and "[company] name" in shown["name"]
    assert "1 Harbor Rd | Oakland, CA 94607" in shown["address"]
    assert "Quote your account number" in shown["payment_instructions"]
    assert str(tmp_path / "logo.png") in shown["logo"]


def test_unknown_company_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sheetsync.toml").write_text('[company]\nnmae = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown setting \[company\] nmae"):
        load_settings({}, cwd=tmp_path)


def test_placeholder_profile_is_complete() -> None:
    assert all([PLACEHOLDER_COMPANY.name, PLACEHOLDER_COMPANY.remit_to, PLACEHOLDER_COMPANY.terms])
    assert PLACEHOLDER_COMPANY.payment_instructions

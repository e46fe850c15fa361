"""Settings precedence, provenance, redaction and refusal of bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetsync.cli import cli
from sheetsync.config import load_settings, redact
from sheetsync.errors import ConfigError

SECRET = "kss-secret-key-0123456789"


def test_environment_beats_toml_and_both_say_where_they_came_from(tmp_path: Path) -> None:
    (tmp_path / "sheetsync.toml").write_text('[kss]\nenv = "test"\nkey_type = "customer"\n')
    settings = load_settings({"KSS_ENV": "production"}, cwd=tmp_path)
    assert settings.kss_env == "production"
    assert settings.source("kss_env") == "env KSS_ENV"
    assert settings.kss_key_type == "customer"
    assert settings.source("kss_key_type") == "sheetsync.toml [kss] key_type"
    assert settings.kss_base == "https://api.kssdata.com/api/v1"


def test_base_url_overrides_environment_host(tmp_path: Path) -> None:
    settings = load_settings({"KSS_ENV": "test", "KSS_BASE_URL": "http://localhost:9/api/v1/"}, cwd=tmp_path)
    assert settings.kss_base == "http://localhost:9/api/v1"
    assert load_settings({"KSS_ENV": "test"}, cwd=tmp_path).kss_base == "https://api.test.kssdata.com/api/v1"


@pytest.mark.parametrize(
    ("environ", "toml", "message"),
    [
        ({"KSS_ENV": "staging"}, "", r"KSS_ENV / kss_env is 'staging'.*production, test, sandbox"),
        ({"KSS_KEY_TYPE": "admin"}, "", r"KSS_KEY_TYPE.*'admin'"),
        ({}, "[kss]\napi_kee = 'x'\n", r"unknown setting \[kss\] api_kee"),
        ({}, "[kss\n", r"not valid TOML"),
    ],
)
def test_bad_configuration_is_one_clear_error(tmp_path: Path, environ: dict, toml: str, message: str) -> None:
    if toml:
        (tmp_path / "sheetsync.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, cwd=tmp_path)


def test_redaction_never_shows_the_secret() -> None:
    assert SECRET not in redact(SECRET)
    assert redact(None) == "(not set)"
    assert redact("short") == "**** (5 chars)"
    assert "short" not in redact("short")


def test_config_show_redacts_keys_and_names_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSS_API_KEY", SECRET)
    monkeypatch.setenv("KOTIS_API_KEY", SECRET + "-kotis")
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "kss_api_key" in result.output and "[env KSS_API_KEY]" in result.output
    assert "kss_env                production  [default]" in result.output

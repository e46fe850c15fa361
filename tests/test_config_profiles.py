"""[profiles.NAME.SECTION] in sheetsync.toml: one schedule, two KSS environments, keys never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sheetsync.cli import cli
from sheetsync.config import load_settings, profile_names
from sheetsync.errors import ConfigError

TOML = """\
[kss]
env = "production"

[profiles.staging.kss]
env = "test"
api_key = "env:KSS_STAGING_KEY"
requests_per_hour = 500

[profiles.sandbox.kss]
base_url = "http://127.0.0.1:8765/kss/api/v1"
api_key = "sbx-emp-0123456789abcdef"
"""


def test_a_profile_overrides_the_environment_and_reads_keys_from_it(tmp_path: Path) -> None:
    (tmp_path / "sheetsync.toml").write_text(TOML)
    environ = {"KSS_API_KEY": "prod-key-0123456789", "KSS_STAGING_KEY": "staging-key-9876543210"}
    base = load_settings(environ, cwd=tmp_path)
    staging = load_settings(environ, cwd=tmp_path, profile="staging")
    assert (base.kss_env, base.kss_api_key, base.kss_base) == ("production", "prod-key-0123456789", base.kss_base)
    assert (staging.kss_env, staging.kss_api_key) == ("test", "staging-key-9876543210")
    assert staging.kss_base == "https://api.test.kssdata.com/api/v1"
    assert staging.requests_per_hour_int == 500
    assert staging.source("kss_api_key") == ("sheetsync.toml [profiles.staging.kss] api_key (env KSS_STAGING_KEY)")
    sandbox = load_settings(environ, cwd=tmp_path, profile="sandbox")
    assert sandbox.kss_base == "http://127.0.0.1:8765/kss/api/v1"
    assert profile_names(tmp_path) == ["sandbox", "staging"]


@pytest.mark.parametrize(
    ("toml", "profile", "environ", "message"),
    [
        (TOML, "stagin", {}, r"no profile 'stagin' in sheetsync.toml \(profiles: sandbox, staging\)"),
        (TOML, "staging", {}, r"\[profiles.staging.kss\] api_key reads the environment variable KSS_STAGING_KEY"),
        ("[profiles.x.kss]\napi_kye = 'k'\n", None, {}, r"unknown setting \[profiles.x.kss\] api_kye"),
        ("[profiles.x]\nkss = 3\n", None, {}, r"\[profiles.x.kss\] must be a table of settings"),
        ("profiles = 3\n", None, {}, r"\[profiles\] must hold tables"),
    ],
)
def test_bad_profiles_are_one_clear_error(tmp_path: Path, toml: str, profile, environ, message) -> None:
    (tmp_path / "sheetsync.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, cwd=tmp_path, profile=profile)


def test_config_show_profile_redacts_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sheetsync.toml").write_text(TOML)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KSS_STAGING_KEY", "staging-key-9876543210")
    result = CliRunner().invoke(cli, ["config", "show", "--profile", "staging"])
    assert result.exit_code == 0, result.output
    assert "staging-key-9876543210" not in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("kss_api_key"))
    assert "****10 (22 chars)" in line and "[sheetsync.toml [profiles.staging.kss] api_key" in line

"""Google credentials: service account, application default, saved login token; clear one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import google.auth
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.exceptions import DefaultCredentialsError
from sheets_double import SheetsDouble, price_workbook

from sheetsync.cli import cli
from sheetsync.errors import ConfigError
from sheetsync.sinks import google_auth
from sheetsync.sinks.gsheets import load_credentials, set_session_factory, write_workbooks

EMAIL = "report-bot@sheetsync-tests.iam.gserviceaccount.com"


def throwaway_service_account(path: Path) -> Path:
    """A service-account JSON with a key generated for this test only (never a real key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "sheetsync-tests",
                "private_key_id": "test",
                "private_key": pem,
                "client_email": EMAIL,
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture(autouse=True)
def no_adc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No application default credentials and no saved token unless a test sets them up."""

    def missing(*args, **kwargs):
        raise DefaultCredentialsError("Could not automatically determine credentials.")

    monkeypatch.setattr(google.auth, "default", missing)
    monkeypatch.setenv(google_auth.TOKEN_ENV_VAR, str(tmp_path / "token.json"))


@pytest.fixture(scope="module")
def sa_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return throwaway_service_account(tmp_path_factory.mktemp("sa") / "sa.json")


def test_a_service_account_file_from_the_flag_or_the_environment(sa_file, monkeypatch) -> None:
    assert google_auth.account_email(load_credentials(sa_file)) == EMAIL
    monkeypatch.setenv("SHEETSYNC_GOOGLE_CREDENTIALS", str(sa_file))
    assert google_auth.account_email(load_credentials(None)) == EMAIL


def test_application_default_credentials_come_next(monkeypatch) -> None:
    marker = object()
    monkeypatch.setattr(google.auth, "default", lambda scopes=None: (marker, "project"))
    assert load_credentials(None) is marker


def test_then_the_token_saved_by_auth_login(tmp_path) -> None:
    token = Path(google_auth.token_path())
    token.write_text(
        json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"})
    )
    credentials = load_credentials(None)
    assert credentials.refresh_token == "r"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "Google credentials file .* does not exist"),
        ("{not json", "is not valid JSON \\(line 1\\)"),
        ('["a"]', "is not a JSON object"),
        ('{"type": "external_account"}', "not a service-account JSON \\(its type is 'external_account'"),
        ('{"type": "service_account", "private_key": "nope", "client_email": "x@y"}', "broken service-account JSON"),
        ('{"type": "authorized_user"}', "broken Google token"),
    ],
)
def test_broken_credentials_are_one_line(tmp_path, content, message) -> None:
    path = tmp_path / "creds.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        load_credentials(path)
    assert "\n" not in str(caught.value)


def test_no_credentials_at_all() -> None:
    with pytest.raises(ConfigError, match="no Google credentials: pass --google-credentials FILE"):
        load_credentials(None)


def test_a_real_service_account_object_refreshes_its_token_from_the_double(sa_file) -> None:
    double = SheetsDouble()
    double.add_spreadsheet("S")
    credentials = load_credentials(sa_file)
    stats = write_workbooks("S", [price_workbook(2)], credentials=credentials, session=double.session(credentials))
    assert stats["api_calls"] == 2 and double.token_requests == 1


def test_the_session_factory_routes_clients_without_a_session(sa_file) -> None:
    double = SheetsDouble()
    double.add_spreadsheet("S")
    set_session_factory(double.session)
    try:
        write_workbooks("S", [price_workbook(2)], credentials=load_credentials(sa_file))
    finally:
        set_session_factory(None)
    assert double.counts() == {"get": 1, "batchUpdate": 1}


def test_auth_status_says_which_credentials_without_contacting_google(sa_file, monkeypatch) -> None:
    result = CliRunner().invoke(cli, ["auth", "status"])
    assert result.exit_code == 0 and "none: run `sheetsync auth login`" in result.output
    monkeypatch.setenv("SHEETSYNC_GOOGLE_CREDENTIALS", str(sa_file))
    result = CliRunner().invoke(cli, ["auth", "status"])
    assert f"service account {EMAIL}" in result.output


def test_auth_login_with_a_missing_client_file_is_one_line(tmp_path) -> None:
    from sheetsync.cli.common import run_safely

    code = run_safely(cli, ["auth", "login", "--client-secrets", str(tmp_path / "nope.json")])
    assert code == 2


def test_auth_login_saves_the_token(tmp_path, monkeypatch) -> None:
    class FakeFlow:
        def run_local_server(self, port: int, open_browser: bool):
            class Creds:
                def to_json(self) -> str:
                    return json.dumps(
                        {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}
                    )

            return Creds()

    from google_auth_oauthlib.flow import InstalledAppFlow

    monkeypatch.setattr(InstalledAppFlow, "from_client_secrets_file", classmethod(lambda cls, *a, **k: FakeFlow()))
    client = tmp_path / "client.json"
    client.write_text(json.dumps({"installed": {"client_id": "c"}}))
    result = CliRunner().invoke(cli, ["auth", "login", "--client-secrets", str(client), "--no-browser"])
    assert result.exit_code == 0, result.output
    saved = google_auth.token_path()
    assert saved.stat().st_mode & 0o777 == 0o600
    assert load_credentials(None).refresh_token == "r"

"""Google credentials for the Sheets sink: a service account, application default credentials, or a
person's OAuth consent saved by `sheetsync auth login`.

Order: the service-account JSON given (flag) or named by SHEETSYNC_GOOGLE_CREDENTIALS, then Google's
application default credentials, then the token saved by `sheetsync auth login`. Missing or broken
credentials raise ConfigError with one line, before any API data is fetched. Never log a token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from google.auth.credentials import Credentials
from platformdirs import user_config_dir

from sheetsync.errors import ConfigError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
ENV_VAR = "SHEETSYNC_GOOGLE_CREDENTIALS"
TOKEN_ENV_VAR = "SHEETSYNC_GOOGLE_TOKEN"  # where `auth login` keeps the user's token (tests point it away)


def token_path() -> Path:
    """The authorized-user token written by `sheetsync auth login`."""
    override = os.environ.get(TOKEN_ENV_VAR)
    return Path(override) if override else Path(user_config_dir("sheetsync")) / "google-token.json"


def load_credentials(path: str | Path | None = None) -> Credentials:
    """Credentials for the Sheets API, from the first source that is configured."""
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        return service_account_from_file(Path(chosen))
    adc = _application_default()
    if adc is not None:
        return adc
    saved = token_path()
    if saved.exists():
        return authorized_user_from_file(saved)
    raise ConfigError(
        "no Google credentials: pass --google-credentials FILE (a service-account JSON), set "
        f"{ENV_VAR}, configure application default credentials, or run `sheetsync auth login`"
    )


def service_account_from_file(path: Path) -> Credentials:
    from google.oauth2 import service_account

    info = _read_json(path, "Google credentials file")
    kind = info.get("type")
    if kind == "authorized_user":
        return authorized_user_from_info(info, path)
    if kind != "service_account":
        raise ConfigError(f"{path}: not a service-account JSON (its type is {kind!r}, expected 'service_account')")
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: broken service-account JSON ({_first_line(exc)})") from None


def authorized_user_from_file(path: Path) -> Credentials:
    return authorized_user_from_info(_read_json(path, "saved Google token"), path)


def authorized_user_from_info(info: dict[str, Any], path: Path) -> Credentials:
    from google.oauth2.credentials import Credentials as UserCredentials

    try:
        return UserCredentials.from_authorized_user_info(info, scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        message = f"{path}: broken Google token ({_first_line(exc)}); run `sheetsync auth login` again"
        raise ConfigError(message) from None


def account_email(credentials: Credentials) -> str | None:
    """The e-mail a spreadsheet must be shared with, when the credentials know it."""
    for attribute in ("service_account_email", "signer_email", "account"):
        value = getattr(credentials, attribute, None)
        if isinstance(value, str) and "@" in value:
            return value
    return None


def login(client_secrets: Path, *, open_browser: bool = True) -> Path:
    """Run the installed-app OAuth consent flow and save the authorized-user token. Returns its path."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    _read_json(client_secrets, "OAuth client file")
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=list(SCOPES))
    except ValueError as exc:
        raise ConfigError(f"{client_secrets}: not an OAuth client file ({_first_line(exc)})") from None
    credentials = flow.run_local_server(port=0, open_browser=open_browser)
    return save_token(credentials)


def save_token(credentials: Any) -> Path:
    target = token_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(credentials.to_json())
    os.chmod(tmp, 0o600)
    tmp.replace(target)
    return target


def describe() -> str:
    """Which credentials `load_credentials(None)` would use, without fetching any token."""
    chosen = os.environ.get(ENV_VAR)
    if chosen:
        credentials = service_account_from_file(Path(chosen))
        return f"service account {account_email(credentials)} (from {ENV_VAR}={chosen})"
    if _application_default() is not None:
        return "Google application default credentials"
    if token_path().exists():
        authorized_user_from_file(token_path())
        return f"the token saved by `sheetsync auth login` ({token_path()})"
    return "none: run `sheetsync auth login` or set " + ENV_VAR


def _application_default() -> Credentials | None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):  # configured but broken: say so
            raise ConfigError(f"GOOGLE_APPLICATION_CREDENTIALS: {_first_line(exc)}") from None
        return None
    return credentials


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc.__class__.__name__}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} is not a JSON object")
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else exc.__class__.__name__

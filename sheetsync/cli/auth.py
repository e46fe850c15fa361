"""`sheetsync auth`: Google credentials for Google Sheets outputs and sources."""

from __future__ import annotations

from pathlib import Path

import click

from sheetsync.sinks import google_auth


@click.group("auth")
def auth_group() -> None:
    """Sign in to Google for `-o gsheet://ID` outputs and Google Sheet sources.

    \b
    A service account (--google-credentials FILE or SHEETSYNC_GOOGLE_CREDENTIALS) or Google
    application default credentials need no login; `auth login` is for a person's own account.
    Example:
      sheetsync auth login --client-secrets client_secret.json
    """


@auth_group.command("login")
@click.option(
    "--client-secrets",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="OAuth client JSON (type Desktop app) downloaded from the Google Cloud console.",
)
@click.option("--no-browser", is_flag=True, help="Print the consent URL instead of opening a browser.")
def login(client_secrets: Path, no_browser: bool) -> None:
    """Ask for your consent in the browser and save the token for later runs.

    \b
    The token is saved in your user config folder (or SHEETSYNC_GOOGLE_TOKEN) with mode 600 and is
    used when no service account or application default credentials are configured.
    Example:
      sheetsync auth login --client-secrets ~/Downloads/client_secret.json
    """
    saved = google_auth.login(client_secrets, open_browser=not no_browser)
    click.echo(f"Signed in; token saved to {saved}")


@auth_group.command("status")
@click.option(
    "--google-credentials",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A service-account JSON to check instead of the configured credentials.",
)
def status(google_credentials: Path | None) -> None:
    """Say which Google credentials a run would use, without contacting Google.

    \b
    Example:
      SHEETSYNC_GOOGLE_CREDENTIALS=sa.json sheetsync auth status
    """
    if google_credentials is not None:
        credentials = google_auth.service_account_from_file(google_credentials)
        click.echo(f"service account {google_auth.account_email(credentials)} (from {google_credentials})")
        return
    click.echo(google_auth.describe())


COMMANDS: list[click.Command] = [auth_group]

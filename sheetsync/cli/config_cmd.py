"""`sheetsync config show`: the effective configuration, secrets redacted, with where each came from."""

from __future__ import annotations

import click

from sheetsync.config import load_settings


@click.group("config")
def config_group() -> None:
    """Inspect sheetsync's configuration.

    \b
    Example:
      sheetsync config show
    """


@config_group.command("show")
@click.option("--profile", help="Show the settings a scheduled job with this profile runs with.")
def show(profile: str | None) -> None:
    """Print every setting, its value (keys redacted) and where it came from.

    \b
    Precedence: flag, then environment variable, then ./sheetsync.toml, then default;
    with --profile, the [profiles.NAME.*] tables of sheetsync.toml come first.
    Example:
      KSS_ENV=test sheetsync config show
      sheetsync config show --profile staging
    """
    rows = load_settings(profile=profile).display_rows()
    plain = [row for row in rows if not row_is_company(row[0])]
    company = [(name.removeprefix("company_"), value, source) for name, value, source in rows if row_is_company(name)]
    width = max(len(name) for name, _, _ in plain)
    for name, value, source in plain:
        click.echo(f"{name:<{width}}  {value}  [{source}]")
    click.echo("\n[company] the sender of customer statements (the sandbox and demo use placeholders):")
    width = max(len(name) for name, _, _ in company)
    for name, value, source in company:
        click.echo(f"  {name:<{width}}  {value}  [{source}]")


def row_is_company(name: str) -> bool:
    return name.startswith("company_")


COMMANDS: list[click.Command] = [config_group]

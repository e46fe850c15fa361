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
def show() -> None:
    """Print every setting, its value (keys redacted) and where it came from.

    \b
    Precedence: flag, then environment variable, then ./sheetsync.toml, then default.
    Example:
      KSS_ENV=test sheetsync config show
    """
    rows = load_settings().display_rows()
    width = max(len(name) for name, _, _ in rows)
    for name, value, source in rows:
        click.echo(f"{name:<{width}}  {value}  [{source}]")


COMMANDS: list[click.Command] = [config_group]

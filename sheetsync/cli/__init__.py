"""The `sheetsync` command: thin click adapters over the library, one module per command group."""

from __future__ import annotations

import sys

import click

from sheetsync import __version__
from sheetsync.cli import (
    auth,
    config_cmd,
    fetch,
    kotis,
    payments,
    reports,
    sandbox,
    schedule,
    statements,
    store,
)
from sheetsync.cli.common import run_safely


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetsync")
@click.option("--traceback", is_flag=True, envvar="SHEETSYNC_TRACEBACK", help="Show the full traceback on errors.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool) -> None:
    """Turn the KSS and Kotis APIs into spreadsheets, and spreadsheets back into API requests.

    \b
    Example:
      sheetsync demo --out ./sheetsync-demo
    """
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback


for module in (config_cmd, fetch, sandbox, reports, payments, kotis, auth, store, schedule, statements):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    sys.exit(run_safely(cli))

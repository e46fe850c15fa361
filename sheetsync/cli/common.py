"""What every command shares: error-to-exit-code mapping and the API connection options."""

from __future__ import annotations

import functools
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import click

from sheetsync.apis.registry import DeprecatedName
from sheetsync.config import KEY_TYPES, Settings, load_settings
from sheetsync.errors import ExitCode, ParameterError, SheetsyncError


def run_safely(group: click.Group, args: list[str] | None = None) -> int:
    """Run the click group; turn every failure into one line on stderr and an exit code, and every
    old-name warning of the endpoint registry into one `warning:` line."""
    with warnings.catch_warnings():
        warnings.simplefilter("default", DeprecatedName)
        shown = warnings.showwarning
        warnings.showwarning = functools.partial(_warning_line, fallback=shown)
        return _run(group, args)


def _warning_line(message: Warning | str, category: type[Warning], *args: Any, fallback: Any, **kw: Any) -> None:
    if issubclass(category, DeprecatedName):
        click.echo(f"warning: {message}", err=True)
    else:
        fallback(message, category, *args, **kw)


def _run(group: click.Group, args: list[str] | None) -> int:
    show_traceback = "--traceback" in (args or sys.argv) or bool(os.environ.get("SHEETSYNC_TRACEBACK"))
    try:
        # not group.main(): it turns Ctrl-C into a blank line and "Aborted!"; this way it is one line and 130
        with group.make_context("sheetsync", list(args) if args is not None else sys.argv[1:]) as ctx:
            result = group.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except SheetsyncError as exc:
        if show_traceback:
            traceback.print_exc()
        for line in exc.message.splitlines():  # one line per problem (a definition reports all of its own)
            click.echo(f"error: {line}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # the reader went away (`| head`): not a bug; the output was cut, so not 0
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return int(ExitCode.PARTIAL)
    except Exception as exc:  # a bug: say so in one line unless asked for the traceback
        if show_traceback:
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --traceback for details)", err=True)
        return int(ExitCode.INTERNAL)
    return int(result) if isinstance(result, int) else 0


def api_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --sandbox / --sandbox-key / --seed to a command that talks to the APIs."""

    @click.option("--sandbox", is_flag=True, help="Use the built-in sandbox of both APIs (no keys, no network).")
    @click.option(
        "--sandbox-key",
        type=click.Choice(KEY_TYPES),
        default="employee",
        show_default=True,
        help="Which sandbox key type to use, to see its scope.",
    )
    @click.option("--seed", type=int, default=0, show_default=True, help="Sandbox data seed.")
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def parse_params(pairs: Iterable[str], option: str = "-p") -> dict[str, str]:
    """`NAME=VALUE` strings as typed on the command line -> {name: value}, names and values stripped.

    A repeated name joins its values with commas, the list syntax of both APIs and of report
    parameters: `-p States=CA -p States=NJ` -> {"States": "CA,NJ"}. Raises ParameterError naming
    `option` for a pair without `=` or without a name. The caller checks names and values."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not name:
            raise ParameterError(f"{option} {pair!r}: expected NAME=VALUE")
        parsed[name] = f"{parsed[name]},{value}" if name in parsed else value
    return parsed


def params_option(*names: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A repeatable NAME=VALUE option whose value reaches the command as parse_params' dict."""
    return click.option(
        *names,
        multiple=True,
        metavar="NAME=VALUE",
        help=help,
        callback=lambda _ctx, _param, pairs: parse_params(pairs, names[0]),
    )


def settings_from_context() -> Settings:
    return load_settings()


def exit_with(code: ExitCode) -> int:
    """Exit with the code both under run_safely and under click's standalone mode."""
    if code != ExitCode.OK:
        click.get_current_context().exit(int(code))
    return int(code)


LEDGER_HELP = (
    "The state store holding the ledgers: a SQLite path or a postgresql:// URL. "
    "Default: SHEETSYNC_DB, else SHEETSYNC_LEDGER."
)
CREDENTIALS_HELP = "Google service-account JSON, for a Google Sheet (default: SHEETSYNC_GOOGLE_CREDENTIALS)."


def finish_push(result: Any, *, apply: bool, plan_only: str) -> int:
    """After a reverse-path push: the lines not yet shown, the plan-only hint, why it stopped, the exit
    code (`result` is push/payments.py's or push/kotis.py's result)."""
    for line in result.lines[result.shown :]:
        click.echo(line)
    if not apply:
        click.echo(f"Nothing was sent (plan only); run again with --apply to {plan_only}.")
    if result.stop is not None:
        click.echo(f"error: stopped: {result.stop.message}", err=True)
    return exit_with(result.exit_code)


def push_target(settings: Settings, text: str, tab: str | None, credentials: str | None, default_tab: str) -> Any:
    """The sheet a reverse-path command reads and writes back (push/target.py `open_target`)."""
    from sheetsync.push.target import open_target

    creds = sheet_credentials(settings, text, credentials)
    return open_target(text, tab=tab, default_tab=default_tab, credentials=creds)


def sheet_credentials(settings: Settings, text: str, credentials: str | None) -> Any:
    """Google credentials when `text` names a Google Sheet (the reverse paths read and write one), else None."""
    from sheetsync.sinks.targets import GSheetTarget, parse_target

    if not isinstance(parse_target(text, role="input"), GSheetTarget):
        return None
    from sheetsync.sinks.gsheets import load_credentials

    return load_credentials(credentials or settings.google_credentials)

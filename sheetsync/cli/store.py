"""`sheetsync store`: where the state store lives, what it holds, and importing another one into it."""

from __future__ import annotations

import click

from sheetsync.cli.common import settings_from_context

DB_HELP = "The state store: a SQLite path or a postgresql:// URL. Default: SHEETSYNC_DB, else SHEETSYNC_LEDGER."


@click.group("store")
def store_group() -> None:
    """The state store (payments ledger, history, locks): SQLite by default, PostgreSQL for a team.

    \b
    Example:
      sheetsync store info
      SHEETSYNC_DB=postgresql://ana@db/books sheetsync store import ~/.local/share/sheetsync/ledger.sqlite3
    """


@store_group.command("info")
@click.option("--db", default=None, help=DB_HELP)
def info(db: str | None) -> None:
    """Print the store's location (password hidden), backend, schema version, record counts by kind,
    event count and held locks.

    \b
    Example:
      sheetsync store info
    """
    from sheetsync.store import open_store
    from sheetsync.store.transfer import summarise

    store = open_store(db or settings_from_context().store_location)
    try:
        summary = summarise(store)
    finally:
        store.close()
    click.echo(f"store    {summary.location} ({summary.backend}, schema version {summary.schema_version})")
    for kind, count in summary.records.items():
        click.echo(f"records  {kind}: {count}")
    click.echo(f"events   {summary.events}")
    for lock in summary.locks or ["(none held)"]:
        click.echo(f"lock     {lock}")


@store_group.command("import")
@click.argument("source")
@click.option("--db", default=None, help=DB_HELP)
def import_(source: str, db: str | None) -> None:
    """Copy the records and history of the store SOURCE (say, a laptop's SQLite ledger, upgraded in
    place first) into this store. A record both hold keeps this store's state and is listed. Running
    it again copies only what is new.

    \b
    Example:
      SHEETSYNC_DB=postgresql://ana@db/books sheetsync store import ./ledger.sqlite3
    """
    from sheetsync.errors import StoreError
    from sheetsync.store import open_store, parse_location
    from sheetsync.store.transfer import import_store

    where = parse_location(source)
    if where.path is not None and not where.path.is_file():  # opening it would create an empty store
        raise StoreError(f"no state store to import at {where.shown}")
    origin = open_store(source)
    target = open_store(db or settings_from_context().store_location)
    try:
        result = import_store(origin, target)
    finally:
        origin.close()
        target.close()
    click.echo(
        f"Imported {origin.location.shown} into {target.location.shown}: {result.records_added} records, "
        f"{result.events_added} events"
    )
    for kept in result.records_kept:
        click.echo(f"  kept as it is here (different in {origin.location.shown}): {kept}")


COMMANDS: list[click.Command] = [store_group]

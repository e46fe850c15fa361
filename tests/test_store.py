"""The state store on both backends: records, history, locks, migrations, and no password in output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from pg_cluster import PASSWORD

from sheetsync.cli import cli
from sheetsync.errors import LockHeldError, StoreError
from sheetsync.store import Actor, Note, key_fingerprint, open_store, parse_location, redact_url
from sheetsync.store.schema import LATEST, schema_versions


def test_records_keep_the_latest_state_and_events_the_whole_history(store_location) -> None:
    store = open_store(store_location, actor=Actor("ana", "pc-1", 42, key_fingerprint("kss-key-123")))
    first = store.put("kotis.orders", "src:9", "sending", {"lines": 2}, Note("intent", source="o.xlsx", row=3))
    assert (first.state, first.attempts, dict(first.data)) == ("sending", 1, {"lines": 2})
    done = store.update(
        "kotis.orders", "src:9", state="created", changes={"order_id": 77}, note=Note("outcome", external_id="77")
    )
    assert (done.state, dict(done.data), done.attempts) == ("created", {"lines": 2, "order_id": 77}, 1)
    assert store.put("kotis.orders", "src:9", "sending", {"lines": 3}).attempts == 2
    store.append("schedule.runs", "nightly", Note("run", run_id="r1", message="ok"), state="ok")
    assert store.get("kotis.orders", "nope") is None
    assert set(store.get_many("kotis.orders", ["src:9", "src:10"])) == {"src:9"}
    assert [r.key for r in store.records("kotis.orders", state="sending")] == ["src:9"]

    history = store.events("kotis.orders")
    assert [(e.action, e.state, e.external_id, e.row) for e in history] == [
        ("intent", "sending", "", 3),
        ("outcome", "created", "77", None),
    ]
    assert {(e.user, e.host, e.key_fingerprint) for e in history} == {("ana", "pc-1", key_fingerprint("kss-key-123"))}
    assert "kss-key-123" not in key_fingerprint("kss-key-123")
    assert [e.kind for e in store.events("*")] == ["kotis.orders", "kotis.orders", "schedule.runs"]
    assert [e.action for e in store.events("kotis.orders", actions=["outcome"])] == ["outcome"]
    assert store.events(since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat()) == []
    assert [e.message for e in store.events("schedule.runs", key="nightly", limit=1)] == ["ok"]
    with pytest.raises(StoreError, match=r"no kotis\.orders record 'src:404'"):
        store.update("kotis.orders", "src:404", state="x")
    store.close()


def test_a_transaction_commits_all_its_writes_or_none(store_location) -> None:
    store = open_store(store_location)
    with pytest.raises(RuntimeError), store.transaction():
        store.put("k", "a", "s", {})
        store.append("k", "a", Note("x"))
        raise RuntimeError("crash inside")
    assert store.get("k", "a") is None and store.events("k") == []
    store.close()


def test_a_held_lock_names_its_owner_and_is_free_again_after_release(store_location) -> None:
    holder = open_store(store_location, actor=Actor("ana", "pc-1", 42))
    other = open_store(store_location)
    with holder.lock("schedule:nightly", ttl=timedelta(minutes=5)) as info:
        assert info.owner == "ana@pc-1 pid 42"
        assert [lock.name for lock in other.locks()] == ["schedule:nightly"]
        busy = pytest.raises(LockHeldError, match=r"held by ana@pc-1 pid 42 since .* expires")
        with busy, other.lock("schedule:nightly", wait=0.3):
            pass
        with other.lock("schedule:other"):  # other names are independent
            pass
    with other.lock("schedule:nightly"):
        pass
    assert other.locks() == []
    holder.close()
    other.close()


HOLD = """
import sys, time
from sheetsync.store import open_store
store = open_store(sys.argv[1])
with store.lock("payments.push"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_lock_whose_holder_was_killed_is_free_at_once(store_location) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLD, store_location], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        store = open_store(store_location)
        with pytest.raises(LockHeldError, match=f"pid {child.pid}"), store.lock("payments.push"):
            pass
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        deadline = time.monotonic() + 10  # PostgreSQL notices the dropped connection within moments
        with store.lock("payments.push", wait=10) as info:
            assert info.owner.endswith(f"pid {os.getpid()}")
        assert time.monotonic() < deadline
        store.close()
    finally:
        child.kill()
        child.wait()


def test_sqlite_honours_a_live_lock_of_another_machine_until_it_expires(tmp_path) -> None:
    path = str(tmp_path / "shared.sqlite3")
    remote = open_store(path, actor=Actor("bo", "other-host", 7))
    with remote.lock("payments.push", ttl=timedelta(minutes=5)):
        pass
    with remote.transaction() as conn:  # the other machine's process is still holding it (a shared disk)
        from sheetsync.store.locks import _write_lock

        _write_lock(conn, "payments.push", remote.actor, timedelta(minutes=5))
    local = open_store(path)
    with pytest.raises(LockHeldError, match="held by bo@other-host pid 7"), local.lock("payments.push"):
        pass
    with remote.transaction() as conn:
        _write_lock(conn, "payments.push", remote.actor, timedelta(seconds=-1))  # expired
    with local.lock("payments.push"):
        pass
    local.close()
    remote.close()


def test_many_processes_opening_a_new_store_upgrade_it_once(store_location) -> None:
    code = "import sys; from sheetsync.store import open_store; open_store(sys.argv[1]).close()"
    children = [subprocess.Popen([sys.executable, "-c", code, store_location]) for _ in range(4)]
    assert [c.wait() for c in children] == [0, 0, 0, 0]
    store = open_store(store_location)
    with store.transaction() as conn:
        versions = list(conn.execute(schema_versions.select()).mappings())
    assert [v["version"] for v in versions] == list(range(1, LATEST + 1))
    store.close()


def test_a_store_newer_than_this_sheetsync_is_refused(store_location) -> None:
    store = open_store(store_location)
    with store.transaction() as conn:
        conn.execute(schema_versions.insert().values(version=LATEST + 1, name="future", applied_at="x"))
    store.close()
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1}; this sheetsync knows up to {LATEST}"):
        open_store(store_location)


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("postgresql://ana:s3cret@db.example:5432/books", "postgresql://ana:***@db.example:5432/books"),
        ("postgres://ana:p@ss/w0rd@db/books", "postgres://ana:***@db/books"),
        ("postgresql://db/books?user=ana&password=s3cret", "postgresql://db/books?user=ana&password=***"),
        ("postgresql://db/books", "postgresql://db/books"),
        ("postgresql://ana:my s3cret@db/books", "postgresql://ana:***@db/books"),
    ],
)
def test_urls_are_shown_without_their_password(location: str, shown: str) -> None:
    assert redact_url(location) == shown
    assert parse_location(location).shown == shown
    assert parse_location(location).backend == "postgresql"


def test_a_location_that_is_neither_a_path_nor_postgresql_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match=r"mysql://u:\*\*\*@h/db is neither a file path nor a postgresql:// URL"):
        parse_location("mysql://u:pw123@h/db")


@pytest.mark.parametrize(
    "location", ["postgresql://ana:s3cret@db:notaport/books", "postgresql://ana:s3cret@[::1/books"]
)
def test_a_malformed_url_is_one_clear_error_without_its_password(location: str) -> None:
    with pytest.raises(StoreError, match=r"postgresql://ana:\*\*\*@.* is malformed") as caught:
        parse_location(location)
    assert "s3cret" not in caught.value.message


def test_a_wrong_password_is_reported_without_any_password(pg_cluster) -> None:
    url = pg_cluster.url().replace(PASSWORD, "Wrong-Pass-99")
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = caught.value.message
    assert "password authentication failed" in message and "postgresql://sheetsync:***@127.0.0.1" in message
    assert "Wrong-Pass-99" not in message and PASSWORD not in message


def test_config_show_and_payments_log_never_print_the_database_password(pg_cluster, monkeypatch) -> None:
    url = pg_cluster.new_database()
    monkeypatch.setenv("SHEETSYNC_DB", url)
    shown = CliRunner().invoke(cli, ["config", "show"])
    assert shown.exit_code == 0
    assert PASSWORD not in shown.output
    assert "postgresql://sheetsync:***@" in shown.output and "[env SHEETSYNC_DB]" in shown.output
    logged = CliRunner().invoke(cli, ["payments", "log"])
    assert logged.exit_code == 0, logged.output
    assert "No payments recorded yet." in logged.output and PASSWORD not in logged.output


def test_a_laptop_ledger_is_imported_into_the_team_store_once(store_location, tmp_path) -> None:
    import shutil
    from pathlib import Path

    laptop = tmp_path / "ledger.sqlite3"
    shutil.copy(Path(__file__).parent / "data" / "legacy_ledger.sqlite3", laptop)
    team = open_store(store_location)
    team.put("payments", "id:A-1", "unknown", {"ar_account": 1001, "payment": "PAY-1"})  # the team's own word

    def run(*args: str):
        return CliRunner().invoke(cli, ["store", *args, "--db", store_location])

    first = run("import", str(laptop))
    assert first.exit_code == 0, first.output
    assert "7 records, 11 events" in first.output and "kept as it is here" in first.output
    assert team.get("payments", "id:A-1").state == "unknown"  # the shared store is the truth
    assert team.get("payments", "id:A-2").data["request_id"] == 502
    assert "0 records, 0 events" in run("import", str(laptop)).output  # nothing twice
    info = run("info")
    assert "records  payments: 6" in info.output and f"schema version {LATEST}" in info.output
    assert PASSWORD not in first.output + info.output
    team.close()


def test_the_password_can_come_from_pgpassword_instead_of_the_url(pg_cluster, monkeypatch) -> None:
    url = pg_cluster.new_database().replace(f":{PASSWORD}@", "@")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    store = open_store(url)
    assert store.location.shown == url and store.put("k", "a", "s", {}).state == "s"
    store.close()


def test_importing_a_ledger_file_that_does_not_exist_is_refused_and_creates_nothing(store_location, tmp_path) -> None:
    from sheetsync.cli.common import run_safely

    missing = tmp_path / "typo.sqlite3"
    assert run_safely(cli, ["store", "import", str(missing), "--db", store_location]) == 2
    assert not missing.exists()

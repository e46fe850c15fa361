"""Fixtures for the state store: a throwaway PostgreSQL cluster per session, and `store_location`,
parametrised over both backends (a SQLite file, a fresh PostgreSQL database)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pg_cluster import Cluster, pg_bin, running_cluster

NO_POSTGRES = (
    "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin); "
    "`.ci/run` installs the Debian postgresql package"
)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of our own for the session. Skipped with the reason when PostgreSQL is not
    installed, except under SHEETSYNC_REQUIRE_POSTGRES=1 (CI), where that is a failure."""
    if pg_bin() is None:
        if os.environ.get("SHEETSYNC_REQUIRE_POSTGRES"):
            pytest.fail(NO_POSTGRES)
        pytest.skip(NO_POSTGRES)
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Where a test's state store lives: a new SQLite file, or a new database on the session's server."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("store") / "store.sqlite3")
    cluster: Cluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()

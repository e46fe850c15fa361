"""Shared fixtures: a sandbox of both APIs on loopback, started once per session or per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from store_fixtures import pg_cluster, store_location  # noqa: F401 (fixtures of the state store)


@pytest.fixture(scope="session")
def sandbox() -> Iterator:
    """A read-mostly sandbox (seed 0, scale 1) shared by the whole session. Do not mutate it:
    tests that post or advance the clock use `fresh_sandbox`."""
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(seed=0)) as running:
        yield running


@pytest.fixture
def fresh_sandbox() -> Iterator:
    """A sandbox of its own for a test that changes state (posts, advances the clock, faults)."""
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    with start_sandbox(options=SandboxOptions(seed=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches and ledgers out of the real home directory, and real keys out of tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SHEETSYNC_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("SHEETSYNC_LEDGER", str(home / "ledger.sqlite3"))
    for name in (
        "KSS_API_KEY",
        "KOTIS_API_KEY",
        "KSS_BASE_URL",
        "KOTIS_BASE_URL",
        "KOTIS_STORES_BASE_URL",
        "KSS_ENV",
        "KSS_KEY_TYPE",
        "SHEETSYNC_GOOGLE_CREDENTIALS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "SHEETSYNC_DB",
        "SHEETSYNC_REQUIRE_APPROVAL",
    ):
        monkeypatch.delenv(name, raising=False)

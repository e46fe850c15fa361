"""Shared fixtures: a sandbox of both APIs on loopback, started once per session or per test, and the
one vcrpy configuration every cassette test uses."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import vcr
from store_fixtures import pg_cluster, store_location  # noqa: F401 (fixtures of the state store)
from vcr.errors import CannotOverwriteExistingCassetteException


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


# ---- vcrpy ---------------------------------------------------------------------------------------
VCR_RECORD_ENV = "SHEETSYNC_VCR_RECORD"  # unset: "none" (replay only); "all" or "once" to record
SECRET_HEADERS = ["x-api-key", "authorization", "cookie", "set-cookie", "x-goog-api-client", "user-agent"]


def _drop_throttled(response: dict) -> dict | None:
    """429 and 408 answers are transient: never write them into a cassette."""
    return None if response["status"]["code"] in (408, 429) else response


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    """The vcrpy settings of every cassette test (as gspread's tests/conftest.py): the record mode from
    SHEETSYNC_VCR_RECORD (default "none": replay, never the network), JSON cassettes, secrets filtered,
    requests matched on method, path and query (the sandbox's host and port change), throttled answers
    dropped. A test overrides a key by passing it to `use_cassette`."""
    return {
        "record_mode": os.environ.get(VCR_RECORD_ENV, "none"),
        "serializer": "json",
        "match_on": ["method", "path", "query"],
        "filter_headers": SECRET_HEADERS,
        "decode_compressed_response": True,
        "before_record_response": _drop_throttled,
    }


@pytest.fixture
def use_cassette(vcr_config: dict[str, Any]) -> Callable[..., AbstractContextManager[Any]]:
    """use_cassette(path, **overrides): the cassette at `path` under vcr_config. A request that a missing
    cassette cannot answer fails the test saying how to record it."""

    @contextmanager
    def use(path: Path, **overrides: Any) -> Iterator[Any]:
        config = {**vcr_config, **overrides}
        missing = config["record_mode"] == "none" and not path.exists()
        try:
            with vcr.VCR(cassette_library_dir=str(path.parent), **config).use_cassette(path.name) as cassette:
                yield cassette
        except CannotOverwriteExistingCassetteException:
            if missing:
                pytest.fail(
                    f"cassette {path.relative_to(Path(__file__).parent)} is missing: record it with "
                    f"{VCR_RECORD_ENV}=all (see the docstring of the test module)"
                )
            raise

    return use

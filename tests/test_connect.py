"""Connections build each client once, even when many fetch threads ask at the same moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from sheetsync.config import load_settings
from sheetsync.connect import open_connections
from sheetsync.errors import ConfigError


def test_one_client_shared_by_concurrent_threads(sandbox, tmp_path) -> None:
    info = sandbox.info
    settings = load_settings({"KSS_BASE_URL": info.kss, "KSS_API_KEY": info.keys["employee"]}, cwd=tmp_path)
    with open_connections(settings) as connections, ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: connections.kss, range(32)))
    assert len({id(c) for c in clients}) == 1


def test_missing_key_is_one_clear_error(tmp_path) -> None:
    with (
        open_connections(load_settings({}, cwd=tmp_path)) as connections,
        pytest.raises(ConfigError, match="KSS_API_KEY is not set"),
    ):
        connections.kss  # noqa: B018

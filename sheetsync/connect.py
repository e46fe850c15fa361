"""Open the API clients a command needs: real hosts from the settings, or an in-process sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.config import Settings
from sheetsync.errors import ConfigError

if TYPE_CHECKING:
    from sheetsync.apis.http import RequestStats
    from sheetsync.apis.kotis import KotisClient
    from sheetsync.apis.kss import KssClient
    from sheetsync.sandbox.server import RunningSandbox


@dataclass
class Connections:
    """Lazily built clients. Asking for a client whose key is not configured raises ConfigError."""

    settings: Settings
    environment: str  # "production", "test", "sandbox" or the overriding base URL
    key_type: str
    sandbox: RunningSandbox | None = None
    _kss: KssClient | None = field(default=None, repr=False)
    _kotis: KotisClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # fetch threads share us

    def built(self, api: str) -> KssClient | KotisClient | None:
        """The client of `api` ("kss" or "kotis") if this run has used it; never builds one."""
        with self._lock:
            return self._kss if api == "kss" else self._kotis if api == "kotis" else None

    def request_stats(self, api: str) -> RequestStats | None:
        """The request counters of `api`'s client (None before it is built): what the run summary reports."""
        client = self.built(api)
        return client.stats if client is not None else None

    @property
    def kss(self) -> KssClient:
        with self._lock:
            return self._kss_client()

    def _kss_client(self) -> KssClient:
        if self._kss is None:
            from sheetsync.apis.kss import KssClient

            key = self.settings.kss_api_key
            if not key:
                raise ConfigError("KSS_API_KEY is not set (set it, add it to sheetsync.toml, or use --sandbox)")
            self._kss = KssClient(
                self.settings.kss_base,
                key,
                key_type=self.key_type,
                cache_dir=Path(self.settings.cache_dir) if self.settings.cache_dir else None,
                requests_per_hour=self.settings.requests_per_hour_int,
            )
        return self._kss

    @property
    def kotis(self) -> KotisClient:
        with self._lock:
            return self._kotis_client()

    def _kotis_client(self) -> KotisClient:
        if self._kotis is None:
            from sheetsync.apis.kotis import KotisClient

            key = self.settings.kotis_api_key
            if not key:
                raise ConfigError("KOTIS_API_KEY is not set (set it, add it to sheetsync.toml, or use --sandbox)")
            self._kotis = KotisClient(
                self.settings.kotis_base_url or "",
                self.settings.kotis_stores_base_url or "",
                key,
            )
        return self._kotis


@contextmanager
def open_connections(
    settings: Settings, *, sandbox: bool = False, sandbox_key: str = "employee", seed: int = 0
) -> Iterator[Connections]:
    """Yield Connections; with `sandbox` (or KSS_ENV=sandbox) start the sandbox in-process first."""
    if sandbox or settings.kss_env == "sandbox":
        from sheetsync.sandbox.server import SandboxOptions, start_sandbox

        with start_sandbox(options=SandboxOptions(seed=seed)) as running:
            info = running.info
            sandboxed = settings.with_overrides(
                kss_base_url=info.kss,
                kss_api_key=info.keys[sandbox_key],
                kotis_base_url=info.kotis,
                kotis_stores_base_url=info.kotis_stores,
                kotis_api_key=info.keys["kotis"],
            )
            yield Connections(sandboxed, "sandbox", sandbox_key, sandbox=running)
        return
    environment = settings.kss_base_url or settings.kss_env or "production"
    yield Connections(settings, environment, settings.kss_key_type or "employee")

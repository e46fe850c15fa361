"""Shared by the benchmark scripts: a sandbox, connections to it, the built-in reports and their params."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from sheetsync.config import load_settings
from sheetsync.connect import Connections
from sheetsync.definition import Definition, find_definition, resolve_params
from sheetsync.report import demo_params

BUILT_IN = ("ar-aging", "price-list", "reorder")


@dataclass
class ServedSandbox:
    """A `sheetsync sandbox serve` process: its URLs and keys, and its admin routes."""

    kss: str
    kotis: str
    kotis_stores: str
    keys: dict[str, str]
    latency_ms: int

    @property
    def admin(self) -> str:
        return self.kss.rsplit("/kss/", 1)[0] + "/_admin"

    def requests_received(self) -> int:
        return len(requests.get(f"{self.admin}/requests", timeout=60).json())

    def set_latency(self, ms: int) -> None:
        requests.post(f"{self.admin}/faults", json={"latency_ms": ms}, timeout=60).raise_for_status()


@contextmanager
def sandbox(scale: int, latency_ms: int = 0) -> Iterator[ServedSandbox]:
    """`sheetsync sandbox serve --scale N --latency-ms L` in its own process (its CPU is not ours)."""
    command = [sys.executable, "-c", "from sheetsync.cli import main; main()", "sandbox", "serve"]
    command += ["--scale", str(scale)]
    command += ["--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        yield ServedSandbox(info["kss"], info["kotis"], info["kotis_stores"], info["keys"], latency_ms)
    finally:
        process.terminate()
        process.wait(timeout=30)


def connections(sb: ServedSandbox) -> Connections:
    """Fresh clients (nothing cached) for the sandbox's employee key, with an empty ETag cache."""
    info = sb
    settings = load_settings({"SHEETSYNC_CACHE_DIR": tempfile.mkdtemp(prefix="sheetsync-bench-")}).with_overrides(
        kss_base_url=info.kss,
        kss_api_key=info.keys["employee"],
        kotis_base_url=info.kotis,
        kotis_stores_base_url=info.kotis_stores,
        kotis_api_key=info.keys["kotis"],
    )
    return Connections(settings, "sandbox", "employee")


def report_params(name: str, sb: ServedSandbox, customers: int | None = None) -> tuple[Definition, dict[str, Any]]:
    """A built-in report with its demo parameters, or a price list of the first `customers` customers."""
    definition = find_definition(name)
    if customers is not None:
        given: dict[str, Any] = {"customer_ids": list(range(1, customers + 1))}
    else:
        sb.set_latency(0)  # resolving demo params is not part of what is measured
        given = demo_params(definition, connections(sb))
        sb.set_latency(sb.latency_ms)
    text = {k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in given.items()}
    return definition, resolve_params(definition, text)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cores_note() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load average {load:.1f} at start (shared machine: compare ratios within a run)"

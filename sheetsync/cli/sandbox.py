"""`sheetsync sandbox`: serve the local emulator of both APIs, and move its payment clock on."""

from __future__ import annotations

import json
import sys
import threading

import click
import requests

from sheetsync.errors import ApiError


@click.group("sandbox")
def sandbox_group() -> None:
    """Run the local sandbox of the KSS and Kotis APIs (no keys, no network).

    \b
    Example:
      sheetsync sandbox serve --port 8765 --seed 1
    """


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback).")
@click.option("--port", type=int, default=0, show_default=True, help="Port to listen on; 0 picks a free one.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the synthetic data.")
@click.option("--scale", type=click.IntRange(min=1), default=1, show_default=True, help="Grow every data set N times.")
@click.option("--rate-limit", type=click.IntRange(min=1), default=None, help="Requests per key per hour.")
@click.option(
    "--payments-revision",
    type=click.Choice(["2025", "2026"]),
    default="2025",
    show_default=True,
    help="2026 serves the newer payments paths instead of the documented ones.",
)
@click.option("--live-quirks", is_flag=True, help="Records look like the live service's: missing/extra fields.")
@click.option(
    "--fault-500-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of requests answered 500.",
)
@click.option("--latency-ms", type=click.IntRange(min=0), default=0, show_default=True, help="Added latency.")
@click.option(
    "--burst-429",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The first N requests answer 429 with Retry-After.",
)
@click.option(
    "--drop-after-post",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The first N allocation POSTs are applied, then the connection is dropped unanswered.",
)
@click.option(
    "--drop-after-create",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The first N Kotis orders/create POSTs are applied, then the connection is dropped unanswered.",
)
def serve(
    host: str,
    port: int,
    seed: int,
    scale: int,
    rate_limit: int | None,
    payments_revision: str,
    live_quirks: bool,
    fault_500_rate: float,
    latency_ms: int,
    burst_429: int,
    drop_after_post: int,
    drop_after_create: int,
) -> None:
    """Serve both APIs until interrupted; print one JSON line with the base URLs and keys first.

    \b
    Example:
      sheetsync sandbox serve --port 8765 --scale 3 --payments-revision 2026
    """
    from sheetsync.sandbox.server import SandboxOptions, start_sandbox

    options = SandboxOptions(
        seed=seed,
        scale=scale,
        rate_limit=rate_limit,
        payments_revision=payments_revision,
        live_quirks=live_quirks,
        fault_500_rate=fault_500_rate,
        latency_ms=latency_ms,
        burst_429=burst_429,
        drop_after_post=drop_after_post,
        drop_after_create=drop_after_create,
    )
    running = start_sandbox(host=host, port=port, options=options)
    info = running.info
    click.echo(json.dumps({"kss": info.kss, "kotis": info.kotis, "kotis_stores": info.kotis_stores, "keys": info.keys}))
    sys.stdout.flush()
    try:
        threading.Event().wait()
    finally:
        running.stop()


@sandbox_group.command("advance")
@click.option("--url", required=True, help="The sandbox's KSS base URL (…/kss/api/v1) or its root URL.")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True, help="Export runs to simulate.")
def advance(url: str, steps: int) -> None:
    """Move a running sandbox's payment requests on (Pending -> Exported -> Confirmed or Rejected).

    \b
    Example:
      sheetsync sandbox advance --url http://127.0.0.1:8765/kss/api/v1 --steps 2
    """
    root = url.rstrip("/")
    for suffix in ("/kss/api/v1",):
        if root.endswith(suffix):
            root = root[: -len(suffix)]
    try:
        response = requests.post(f"{root}/_admin/advance", params={"steps": steps}, timeout=30)
    except requests.RequestException as exc:
        raise ApiError(f"cannot reach the sandbox at {root}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise ApiError(f"sandbox advance failed with HTTP {response.status_code}", status=response.status_code)
    click.echo(f"advanced {steps} step(s); sandbox clock {response.json().get('clock')}")


@sandbox_group.command("ship-kotis")
@click.option("--url", required=True, help="The sandbox's root URL (http://127.0.0.1:PORT) or a base URL under it.")
def ship_kotis(url: str) -> None:
    """Ship every pending Kotis order created through the API (one shipment each, a 22-digit tracking
    number), as a warehouse would between two `kotis status` runs.

    \b
    Example:
      sheetsync sandbox ship-kotis --url http://127.0.0.1:8765
    """
    root = url.rstrip("/")
    for suffix in ("/kss/api/v1", "/kotis/api/v1", "/kotis-stores/api/v1"):
        root = root.removesuffix(suffix)
    try:
        response = requests.post(f"{root}/_admin/ship-kotis", timeout=30)
    except requests.RequestException as exc:
        raise ApiError(f"cannot reach the sandbox at {root}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise ApiError(f"sandbox ship-kotis failed with HTTP {response.status_code}", status=response.status_code)
    click.echo(f"shipped {len(response.json().get('shipped', []))} Kotis order(s)")


COMMANDS: list[click.Command] = [sandbox_group]

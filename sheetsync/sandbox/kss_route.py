"""What every KSS sandbox route module shares: the Route record and the small lookup helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sheetsync.sandbox.params import ApiError, Ctx

Handler = Callable[[Ctx], Sequence[dict]]


@dataclass(frozen=True)
class Route:
    name: str  # documented path without the leading slash, e.g. "customers/{customerID}"
    handler: Handler
    method: str = "GET"
    denied: tuple[str, ...] = ()
    revisions: tuple[str, ...] = ("2025", "2026")
    single: bool = False


def _one(rows: list[dict], what: str, ident: int) -> list[dict]:
    if not rows:
        raise ApiError(404, f"{what} {ident} not found")
    return rows


def _active_default(ctx: Ctx) -> list[bool] | None:
    active = ctx.bools("Active")
    if active is None and ctx.key.type in ("customer", "supplier"):
        return [True]
    return active

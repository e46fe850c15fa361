"""Query-parameter parsing and key scopes for the KSS sandbox routes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from sheetsync.sandbox.data import Dataset
from sheetsync.sandbox.payments import PaymentBook

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


class ApiError(Exception):
    """Answered as {"Error": message} with the given status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Key:
    type: str  # employee | customer | supplier
    customers: frozenset[int] = field(default_factory=frozenset)
    suppliers: frozenset[int] = field(default_factory=frozenset)


@dataclass
class Ctx:
    """One request: the data, the caller's key, its query parameters and the path id if any."""

    ds: Dataset
    book: PaymentBook
    key: Key
    args: MultiDict
    revision: str = "2025"
    path_id: str | None = None

    # ---- raw values ------------------------------------------------------------------------------
    def raw(self, name: str) -> str | None:
        values = [v for v in self.args.getlist(name) if v != ""]
        return ",".join(values) if values else None

    def items(self, name: str, required: bool = False) -> list[str] | None:
        raw = self.raw(name)
        if raw is None:
            if required:
                raise ApiError(400, f"{name} parameter is required")
            return None
        parts = [p.strip() for p in raw.split(",")]
        if any(p == "" for p in parts):
            raise ApiError(400, f"{name} must be a comma-separated list without empty values")
        return parts

    # ---- typed values ----------------------------------------------------------------------------
    def ids(self, name: str, required: bool = False) -> list[int] | None:
        parts = self.items(name, required)
        if parts is None:
            return None
        if not all(re.fullmatch(r"\d{1,12}", p) for p in parts):
            raise ApiError(400, f"{name} must be a comma-separated list of numbers")
        return [int(p) for p in parts]

    def strs(self, name: str, allowed: tuple[str, ...] | None = None, required: bool = False) -> list[str] | None:
        parts = self.items(name, required)
        if parts is not None and allowed is not None:
            bad = [p for p in parts if p not in allowed]
            if bad:
                raise ApiError(400, f"Invalid {name} value '{bad[0]}'; allowed: {', '.join(allowed)}")
        return parts

    def enum_ids(self, name: str, allowed: tuple[int, ...]) -> list[int] | None:
        values = self.ids(name)
        if values is not None:
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ApiError(400, f"Invalid {name} value {bad[0]}; allowed: {', '.join(map(str, allowed))}")
        return values

    def day(self, name: str) -> date | None:
        raw = self.raw(name)
        if raw is None:
            return None
        if not _DATE.match(raw):
            raise ApiError(400, f"{name} must be an ISO 8601 date")
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00")).date() if "T" in raw else date.fromisoformat(raw)
        except ValueError:
            raise ApiError(400, f"{name} must be an ISO 8601 date") from None

    def bools(self, name: str) -> list[bool] | None:
        parts = self.items(name)
        if parts is None:
            return None
        if any(p.lower() not in ("true", "false") for p in parts):
            raise ApiError(400, f"{name} must be true or false")
        return [p.lower() == "true" for p in parts]

    def number(self, name: str, required: bool = True) -> int | None:
        raw = self.raw(name)
        if raw is None:
            if required:
                raise ApiError(400, f"{name} parameter is required")
            return None
        if not re.fullmatch(r"\d{1,12}", raw):
            raise ApiError(400, f"{name} must be a number")
        return int(raw)

    def int_path(self, what: str) -> int:
        if self.path_id is None or not re.fullmatch(r"\d{1,12}", self.path_id):
            raise ApiError(400, f"{what} must be a number")
        return int(self.path_id)

    # ---- scopes ----------------------------------------------------------------------------------
    def customer_scope(self, requested: list[int] | None) -> set[int] | None:
        """The customer ids this request may see (None = all). A Customer key asking for others: 403."""
        if self.key.type != "customer":
            return set(requested) if requested is not None else None
        if requested is None:
            return set(self.key.customers)
        outside = [c for c in requested if c not in self.key.customers]
        if outside:
            raise ApiError(403, f"Your key does not have access to customer {outside[0]}")
        return set(requested)

    def supplier_scope(self, requested: list[int] | None) -> set[int] | None:
        if self.key.type != "supplier":
            return set(requested) if requested is not None else None
        if requested is None:
            return set(self.key.suppliers)
        outside = [s for s in requested if s not in self.key.suppliers]
        if outside:
            raise ApiError(403, f"Your key does not have access to supplier {outside[0]}")
        return set(requested)

    def ar_scope(self, requested: list[int] | None) -> set[int] | None:
        if self.key.type != "customer":
            return set(requested) if requested is not None else None
        mine = {self.ds.ar_account(c) for c in self.key.customers}
        if requested is None:
            return mine
        outside = [a for a in requested if a not in mine]
        if outside:
            raise ApiError(403, f"Your key does not have access to AR account {outside[0]}")
        return set(requested)

    def key_states(self) -> set[str] | None:
        """States a Customer or Supplier key operates in (None for an Employee key)."""
        if self.key.type == "customer":
            return {self.ds.customer_by_id[c]["State"] for c in self.key.customers}
        if self.key.type == "supplier":
            return {self.ds.suppliers[s - 1]["State"] for s in self.key.suppliers}
        return None


def keep(value: Any, allowed: set | list | None) -> bool:
    """True when a filter is absent or the value passes it."""
    return allowed is None or value in allowed

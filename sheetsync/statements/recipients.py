"""Who receives each customer's statement: a recipients file (CSV or xlsx: CustomerID, To, Cc), or the
KSS `users` of the customer that have an e-mail address (buyers, not necessarily billing contacts)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError

COLUMNS = ("customerid", "to", "cc")
_SEPARATORS = re.compile(r"[;,\s]+")


@dataclass
class Recipients:
    """The addresses of one customer and where they came from ("map.csv row 3", "KSS users")."""

    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    source: str = ""


def read_recipients(path: Path) -> dict[int, Recipients]:
    """CustomerID -> Recipients from a CSV or xlsx file with the columns CustomerID, To and Cc (header
    names in any case; To and Cc may list several addresses separated by ';' or ','; a customer may have
    several rows). ConfigError naming the file and row for a bad customer number or address."""
    rows = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    header = next(rows, None)
    if header is None:
        raise ConfigError(f"{path}: empty; expected the columns CustomerID, To, Cc")
    index = _columns(path, header)
    found: dict[int, Recipients] = {}
    for number, row in enumerate(rows, start=2):
        cells = [str(v).strip() if v is not None else "" for v in row]
        if not any(cells):
            continue
        customer = _customer(path, number, _cell(cells, index["customerid"]))
        entry = found.setdefault(customer, Recipients(source=f"{path.name} row {number}"))
        entry.to += addresses(_cell(cells, index["to"]), f"{path.name} row {number} To")
        entry.cc += addresses(_cell(cells, index.get("cc")), f"{path.name} row {number} Cc")
    return found


def recipients_from_users(users: Iterable[dict[str, Any]], customer_ids: Iterable[int]) -> dict[int, Recipients]:
    """CustomerID -> Recipients from KSS `/users` records: each active user with an Email, for every
    customer in its CustomerIDs. These are the customer's buyers, not necessarily its billing contact."""
    wanted = set(customer_ids)
    found: dict[int, Recipients] = {}
    for user in users:
        email = str(user.get("Email") or "").strip()
        if not email or user.get("UserActive") is False or not _valid(email):
            continue
        for customer in user.get("CustomerIDs") or []:
            if customer in wanted:
                entry = found.setdefault(int(customer), Recipients(source="KSS users (buyers)"))
                if email not in entry.to:
                    entry.to.append(email)
    return found


def addresses(text: str, where: str) -> list[str]:
    """The e-mail addresses of one cell; ConfigError naming `where` for one that is not an address."""
    out = []
    for part in _SEPARATORS.split(text.strip()):
        if not part:
            continue
        if not _valid(part):
            raise ConfigError(f"{where}: {part!r} is not an e-mail address")
        out.append(part)
    return out


def _valid(address: str) -> bool:
    name, parsed = parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    return bool(at and local and "." in domain and parsed == address and not name)


def _columns(path: Path, header: list[Any]) -> dict[str, int]:
    names = [str(h).strip().lower().replace(" ", "").replace("_", "") if h is not None else "" for h in header]
    index = {name: i for i, name in enumerate(names) if name in COLUMNS}
    missing = [c for c in ("CustomerID", "To") if c.lower() not in index]
    if missing:
        raise ConfigError(f"{path}: no {' or '.join(missing)} column; expected the columns CustomerID, To, Cc")
    return index


def _customer(path: Path, row: int, text: str) -> int:
    try:
        value = float(text) if "." in text else int(text)
        if value != int(value) or int(value) <= 0:
            raise ValueError
        return int(value)
    except ValueError:
        raise ConfigError(f"{path.name} row {row} CustomerID: {text!r} is not a customer number") from None


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    return iter(list(csv.reader(text.splitlines())))


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise ConfigError(f"{path}: cannot be read as a workbook ({exc})") from None
    rows = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return iter(rows)

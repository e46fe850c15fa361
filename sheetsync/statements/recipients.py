"""Who receives each customer's statement: a recipients file (CSV or xlsx: CustomerID, To, Cc), or the
KSS `users` of the customer that have an e-mail address (buyers, not necessarily billing contacts)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr
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


class RecipientsFile(dict[int, Recipients]):
    """CustomerID -> Recipients read from a file, and the rows skipped because they are hidden in the
    sheet (`hidden`: CustomerID -> "map.xlsx row 4"), which the plan lists."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[int, str] = {}


def read_recipients(path: Path) -> RecipientsFile:
    """CustomerID -> Recipients from a CSV or xlsx file with the columns CustomerID, To and Cc (header
    names in any case; To and Cc may list several addresses separated by ';' or ',', with or without a
    display name). One row per customer: ConfigError naming the file and rows for a customer listed
    twice, a column header given twice, a bad customer number or address. Rows hidden in a workbook (or
    filtered out) are skipped and kept in `hidden`; the first visible sheet is read."""
    rows = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else _csv_rows(path)
    header = next(rows, None)
    if header is None:
        raise ConfigError(f"{path}: empty; expected the columns CustomerID, To, Cc")
    index = _columns(path, header[1])
    found = RecipientsFile()
    for number, row, hidden in ((n, r, h) for n, (h, r) in enumerate(rows, start=2)):
        cells = [str(v).strip() if v is not None else "" for v in row]
        if not any(cells):
            continue
        where = f"{path.name} row {number}"
        customer = _customer(path, number, _cell(cells, index["customerid"]))
        if hidden:
            found.hidden.setdefault(customer, f"{where} (hidden)")
            continue
        if customer in found:
            raise ConfigError(
                f"{path.name} rows {found[customer].source.rpartition(' ')[2]} and {number} both name customer "
                f"{customer}: give one row per customer, several addresses separated by ';'"
            )
        to = _unique(addresses(_cell(cells, index["to"]), f"{where} To"))
        cc = [
            a
            for a in _unique(addresses(_cell(cells, index.get("cc")), f"{where} Cc"))
            if a.casefold() not in _folded(to)
        ]
        found[customer] = Recipients(to, cc, source=where)
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
    """The e-mail addresses of one cell ("a@x.example; b@y.example", "Jane Doe <jane@x.example>"), bare;
    ConfigError naming `where` for one that is not an address."""
    if "<" not in text and '"' not in text:
        parts = _SEPARATORS.split(text.strip())
    else:
        parts = [address or name for name, address in getaddresses([text.replace(";", ",")])]
    out = []
    for part in parts:
        if not part:
            continue
        if not _valid(part):
            raise ConfigError(f"{where}: {part!r} is not an e-mail address")
        out.append(part)
    return out


def _unique(found: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in found:
        seen.setdefault(address.casefold(), address)
    return list(seen.values())


def _folded(found: list[str]) -> set[str]:
    return {address.casefold() for address in found}


def _valid(address: str) -> bool:
    name, parsed = parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    return bool(at and local and "." in domain and parsed == address and not name)


def _columns(path: Path, header: list[Any]) -> dict[str, int]:
    names = [str(h).strip().lower().replace(" ", "").replace("_", "") if h is not None else "" for h in header]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in COLUMNS and name in index:
            raise ConfigError(
                f"{path.name}: the column {header[position]!s} appears twice (columns {index[name] + 1} and "
                f"{position + 1}); keep one"
            )
        if name in COLUMNS:
            index[name] = position
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


def _csv_rows(path: Path) -> Iterator[tuple[bool, list[Any]]]:
    """(hidden, cells) of each row: never hidden in a CSV. The delimiter is the header line's: ',' or the
    ';' or tab that spreadsheet applications write in some locales."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    return iter([(False, row) for row in csv.reader(lines, delimiter=delimiter)])


def _xlsx_rows(path: Path) -> Iterator[tuple[bool, list[Any]]]:
    """(hidden, cells) of each row of the first visible sheet; a row is hidden when the sheet hides it
    (by hand or by a filter)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a broken file
        raise ConfigError(f"{path}: cannot be read as a workbook ({exc})") from None
    sheet = next((ws for ws in book.worksheets if ws.sheet_state == "visible"), None)
    if sheet is None:
        raise ConfigError(f"{path}: every sheet is hidden")
    hidden = {n for n, dim in sheet.row_dimensions.items() if dim.hidden}
    rows = [(number in hidden, list(row)) for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    book.close()
    return iter(rows)

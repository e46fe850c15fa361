"""Helpers of the report tests: independent sandbox reads, CLI runs, reading a written tab back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests
from click.testing import CliRunner

from sheetsync.cli import cli

CENT = Decimal("0.01")


def kss_all(sandbox: Any, endpoint: str, **params: Any) -> list[dict]:
    """Every record of a sandbox endpoint, fetched with plain requests (independent of the client)."""
    out: list[dict] = []
    page = 1
    while True:
        response = requests.get(
            f"{sandbox.info.kss}/{endpoint}",
            headers={"x-api-key": sandbox.info.keys["employee"]},
            params={**params, "Page": page, "PageSize": 500},
            timeout=30,
        )
        response.raise_for_status()
        data = response.json()["Data"]
        out += data
        if len(data) < 500:
            return out
        page += 1


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def run_cli(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def table(ws: Any, header: str = "Customer") -> tuple[list[str], list[dict[str, Any]], int, int | None]:
    """(headers, data rows as dicts, first data row, totals row) of a written tab."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row and row[0] == header)
    headers = [h for h in rows[start] if h is not None]
    data, total = [], None
    for offset, row in enumerate(rows[start + 1 :], start=start + 2):
        if "Total" in row:  # the totals row, labelled in whichever column has `total: label`
            total = offset
            break
        data.append(dict(zip(headers, row, strict=False)))
    return headers, data, start + 2, total

"""Read a written customer statement back: its facts, blocks, aging band and open items."""

from __future__ import annotations

from typing import Any

FACT_LABELS = ("Statement date", "Account", "Your representative", "Terms", "Amount due")


def statements(book: Any) -> list[Any]:
    """The statement sheets of a workbook (visible, not the summary)."""
    return [ws for ws in book.worksheets if ws.sheet_state == "visible" and ws.title != "Summary"]


def header_row(ws: Any, first: str = "Invoice") -> int:
    return next(row[0].row for row in ws.iter_rows() if row[0].value == first)


def page(ws: Any) -> dict[str, Any]:
    """{fact label: value} (including "Amount due"), "Bill to"/"Remit to": [lines], "band": {label: amount}."""
    top = [[c.value for c in row] for row in ws.iter_rows(max_row=header_row(ws) - 1)]
    out: dict[str, Any] = {}
    for r, values in enumerate(top):
        for c, value in enumerate(values):
            if value in FACT_LABELS and value not in out and c + 1 < len(values) and values[c + 1] is not None:
                out[value] = values[c + 1]
            if value in ("Bill to", "Remit to"):
                out[value] = [row[c] for row in top[r + 1 :] if c < len(row) and row[c] is not None][:4]
            if value == "Current":
                labels = [v for v in values if v is not None]
                first = values.index("Current")
                out["band"] = dict(zip(labels, top[r + 1][first : first + len(labels)], strict=True))
    return out


def customer_id(ws: Any) -> int:
    return int(page(ws)["Account"])

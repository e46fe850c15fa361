"""Money and quantities read from sheet cells exactly as the user sees them, or refused with the reason.

A number cell is taken as is (its exact Decimal, never a float's noise). Text is accepted only in forms
that mean the same thing in every locale:

    1234.56   $1234.56   1,234.56   $1,234,567.89   1234   $1234

A comma with no `.` decimal part (`2,500`) is 2500 in the US and 2.5 in most of Europe, so it is refused;
so are decimal commas (`2,50`), `.` as thousands separator (`1.234,56`), accounting negatives (`(12.00)`,
`12.00-`), other currency signs and anything else. Every refusal quotes what the cell held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
_PLAIN = re.compile(r"^\$?[0-9]+(?:\.[0-9]+)?$")
_GROUPED = re.compile(r"^\$?[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+$")
_GROUPED_WHOLE = re.compile(r"^\$?[0-9]{1,3}(?:,[0-9]{3})+$")
_DECIMAL_COMMA = re.compile(r"^[^,.]*[0-9],[0-9]{1,2}$|^[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+$")
_DOT_GROUPS = re.compile(r"^[0-9]{1,3}(?:\.[0-9]{3}){2,}$|^[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+$")
_CURRENCY = re.compile(r"[€£¥₹₩₽¢]|\b(?:EUR|GBP|CAD|AUD|MXN|USD|JPY|CHF)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Refused:
    """Why a cell cannot be read as a number; `reason` completes "<cell>: <header> <quoted> ..."."""

    reason: str


def show(value: Any) -> str:
    """A cell's content quoted for a message, shortened."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def exact_decimal(value: Any) -> Decimal | Refused:
    """The cell as an exact Decimal: numbers as they are, text only in an unambiguous form."""
    if isinstance(value, bool):
        return Refused("is a true/false value, not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # 100.1 is 100.1, not 100.0999999...
    if isinstance(value, str):
        return decimal_text(value)
    return Refused(f"is a {type(value).__name__}, not a number")


def decimal_text(text: str) -> Decimal | Refused:
    """Text in one of the module's unambiguous forms as a Decimal, or why it is refused."""
    cleaned = text.strip()
    if _PLAIN.match(cleaned) or _GROUPED.match(cleaned):
        return Decimal(cleaned.lstrip("$").replace(",", ""))
    if cleaned.startswith("-") and (_PLAIN.match(cleaned[1:]) or _GROUPED.match(cleaned[1:])):
        return Decimal(cleaned.replace("$", "").replace(",", ""))
    return Refused(_why_refused(cleaned))


def _why_refused(text: str) -> str:
    bare = text.lstrip("$")
    if _CURRENCY.search(text):
        return "is not in US dollars; type the amount as a plain number"
    if (text.startswith("(") and text.endswith(")")) or text.endswith("-"):
        return "is written as an accounting negative; amounts here must be positive plain numbers"
    if _DOT_GROUPS.match(bare):
        return "uses '.' to group thousands; type it without separators (1234.56)"
    if _DECIMAL_COMMA.match(bare):
        return "uses a decimal comma; type it with a decimal point (2.50), not a comma"
    if _GROUPED_WHOLE.match(text):
        return (
            "is ambiguous: a comma without decimals reads as thousands in the US and as a decimal point "
            "elsewhere; type it without the comma, or with a decimal part (2,500.00)"
        )
    return "is not a number"


def money(value: Any) -> Decimal | Refused:
    """A positive amount with at most two decimals, quantized to the cent."""
    number = exact_decimal(value)
    if isinstance(number, Refused):
        return number
    if not number.is_finite():
        return Refused("is not a number")
    if number <= 0:
        return Refused("must be greater than 0")
    if number != number.quantize(CENT):
        return Refused("has more than two decimals")
    return number.quantize(CENT)


def whole(value: Any) -> int | Refused:
    """A positive whole number (quantities, IDs): 3 and 3.0 are 3, 2.5 and "3 units" are refused."""
    if isinstance(value, str) and _GROUPED_WHOLE.match(value.strip()):  # the money hint (2,500.00) misleads here
        return Refused(
            "is ambiguous: a comma without decimals reads as thousands in the US and as a decimal point "
            "elsewhere; type the whole number without the comma (2500)"
        )
    number = exact_decimal(value)
    if isinstance(number, Refused):
        return number
    if not number.is_finite() or number != number.to_integral_value():
        return Refused("is not a whole number")
    if number <= 0:
        return Refused("must be greater than 0")
    return int(number)


def decimal_or_none(value: Any) -> Decimal | None:
    """The exact Decimal of a cell, or None when it is not an unambiguous number."""
    number = exact_decimal(value)
    return None if isinstance(number, Refused) else number


__all__ = ["CENT", "Refused", "decimal_or_none", "decimal_text", "exact_decimal", "money", "show", "whole"]

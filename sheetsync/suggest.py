"""The one did-you-mean helper: the closest known name to a mistyped one, for error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, options: Iterable[object]) -> str | None:
    """The known option nearest to `name` (difflib ratio >= 0.6, else a case-insensitive match), or None."""
    known = [str(o) for o in options]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    return next((k for k in known if k.casefold() == name.casefold()), None)


def did_you_mean(name: str, options: Iterable[object], *, quote: str = "'") -> str:
    """` (did you mean 'x'?)` for the closest option, or "" when nothing is close. `quote=""` for code names."""
    found = closest(name, options)
    return f" (did you mean {quote}{found}{quote}?)" if found else ""

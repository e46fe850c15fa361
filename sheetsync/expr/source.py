"""Expression text -> Python source that `ast.parse` reads, and back to positions in the text.

The language is a subset of Python's expression syntax except for its literals and names, which
this scan rewrites before parsing:

- 'text' and "text" (a backslash takes the next character as is) become placeholder names, so
  Python never interprets an escape or an f-string;
- `odd name` (backticks) and names that are Python keywords but fields here (`from`, `class`, `True`,
  and `if`, the function) become placeholder names too;
- numbers stay as written, and `compile.py` reads each one back from this text as an int or Decimal.

A character outside the language is refused here, with its position, before Python sees it.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from sheetsync.expr.values import ExprError

_OURS = {"and", "or", "not", "in"}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>==|!=|<=|>=|[-+*/%<>(),.\[\]])""",
    re.VERBOSE,
)


@dataclass
class Source:
    """The rewritten source, what each placeholder stands for, and where each piece came from."""

    text: str  # the expression as written
    prefix: str = "_p"  # of placeholder names; no name in the text starts with it
    python: str = ""  # one line, no leading space: an ast column is an offset in it
    strings: dict[str, str] = field(default_factory=dict)  # placeholder -> string literal value
    names: dict[str, str] = field(default_factory=dict)  # placeholder -> name as written
    _pieces: list[tuple[int, int, int]] = field(default_factory=list)  # (python offset, text offset, length)

    def position(self, python_offset: int) -> int:
        """The 0-based offset in the expression text of an offset in the rewritten source."""
        for start, origin, length in reversed(self._pieces):
            if python_offset >= start:
                return origin + min(python_offset - start, max(length - 1, 0))
        return 0

    def emit(self, python: str, origin: int, length: int) -> None:
        if self.python and _glued(self.python, python):
            self.python += " "  # `a'b'` must stay two tokens once 'b' is a name
        self._pieces.append((len(self.python), origin, length))
        self.python += python


def rewrite(text: str) -> Source:
    """Scan `text`; raise ExprError at the first character the language does not have."""
    source = Source(text)
    while re.search(rf"(?<![\w]){source.prefix}", text):
        source.prefix = "_" + source.prefix
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char in "'\"":
            pos = _string(source, pos)
        elif char == "`":
            pos = _backticked(source, pos)
        else:
            pos = _token(source, pos)
    return source


def _string(source: Source, start: int) -> int:
    text, quote = source.text, source.text[start]
    match = re.compile(rf"{quote}((?:[^{quote}\\]|\\.)*){quote}", re.DOTALL).match(text, start)
    if not match:
        raise ExprError(f"unclosed string starting at position {start + 1}", start)
    placeholder = f"{source.prefix}s{len(source.strings)}"
    source.strings[placeholder] = re.sub(r"\\(.)", r"\1", match.group(1), flags=re.DOTALL)
    source.emit(placeholder, start, match.end() - start)
    return match.end()


def _backticked(source: Source, start: int) -> int:
    end = source.text.find("`", start + 1)
    if end <= start + 1:
        raise ExprError(f"unexpected character '`' at position {start + 1}", start)
    _placeholder_name(source, source.text[start + 1 : end], start, end + 1 - start)
    return end + 1


def _placeholder_name(source: Source, name: str, start: int, length: int) -> None:
    placeholder = f"{source.prefix}n{len(source.names)}"
    source.names[placeholder] = name
    source.emit(placeholder, start, length)


def _token(source: Source, pos: int) -> int:
    match = _TOKEN.match(source.text, pos)
    if match is None:
        raise ExprError(f"unexpected character {source.text[pos]!r}", pos)
    value, kind = match.group(), match.lastgroup
    doubled = source.text[pos : pos + 2]
    if kind == "op" and doubled in ("**", "//"):
        raise ExprError(
            f"expected a value at position {pos + 2} ('{doubled}' is not an operator of the language)", pos + 1
        )
    if kind == "name" and keyword.iskeyword(value) and value not in _OURS:
        _placeholder_name(source, value, pos, len(value))
    elif kind != "space":
        source.emit(value, pos, len(value))
    elif source.python:  # one space for any run of blanks: line breaks and leading spaces upset ast.parse
        source.emit(" ", pos, len(value))
    return match.end()


def _glued(before: str, after: str) -> bool:
    """Whether `after` written right after `before` would read as one token (two names, a number and a name)."""
    return bool(after) and (before[-1].isalnum() or before[-1] == "_") and (after[0].isalnum() or after[0] == "_")

"""Definition YAML (1.2 scalars) -> plain data, remembering the line of every key and item (node marks)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml

from sheetsync.errors import DefinitionError

Path_ = tuple[Any, ...]
_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class Lines:
    """The 1-based line of each path of a YAML document: ("tabs", 0, "columns") -> 12."""

    def __init__(self) -> None:
        self._lines: dict[Path_, int] = {}

    def add(self, path: Path_, line: int) -> None:
        self._lines.setdefault(path, line)

    def __contains__(self, path: Path_) -> bool:
        return path in self._lines

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that was written out."""
        while path and path not in self._lines:
            path = path[:-1]
        return self._lines.get(path)


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 scalars instead of PyYAML's 1.1: only true/false are booleans (`NO`, `on`, `yes` stay
    text), `10:30` is not the number 630, `0042` keeps its zeros (text), `1e3` and `12.10` are numbers."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _firsts in (
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (_FLOAT, r"^[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)$", "-+.0123456789"),
):
    _Yaml12Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_firsts))


def load_yaml(text: str, file: str) -> tuple[Any, Lines]:
    """Parse YAML 1.2 keeping each key's line; mapping keys stay strings (`on:` is not True)."""
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError(f"invalid YAML: {problem}", file=file, line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()
    if node is None:
        raise DefinitionError("the file is empty", file=file)
    lines = Lines()
    return _convert(node, (), lines, file), lines


def _convert(node: yaml.Node, path: Path_, lines: Lines, file: str) -> Any:
    lines.add(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in out:
                raise DefinitionError(f"duplicate key '{key}'", file=file, line=key_node.start_mark.line + 1)
            lines.add((*path, key), key_node.start_mark.line + 1)
            out[key] = _convert(value_node, (*path, key), lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    if node.tag == _FLOAT:
        return Decimal(node.value)  # exactly as written: 12.10 is Decimal("12.10"), never a binary float
    return yaml.SafeLoader("").construct_object(node)

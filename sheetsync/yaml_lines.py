"""YAML files validated by pydantic models, with every error naming the file and the line.

    doc = load_yaml(text, "schedule.yaml")           # DefinitionError on bad YAML or a duplicate key
    schedule = validate(ScheduleFile, doc)           # DefinitionError "schedule.yaml:7: jobs[0].cron: ..."

Parsing and the line of every key are the definition loader's (`sheetsync.definition.source_text`);
this module maps a pydantic error's `loc` through the data to the deepest key that exists (union and
validator tags in `loc` are skipped) and reports it with that line. Unknown keys (models with
`extra="forbid"`) get a did-you-mean from the field names of the model tree. Any YAML-plus-pydantic
file that is not a report definition can use it (the schedule today).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic

from sheetsync.definition.source_text import Lines
from sheetsync.definition.source_text import load_yaml as _load_yaml
from sheetsync.errors import DefinitionError
from sheetsync.suggest import did_you_mean

Location = tuple[str | int, ...]
M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML plus the 1-based line of every mapping key and list item, by path."""

    data: Any
    file: str
    lines: Lines

    def line_of(self, loc: Location) -> int | None:
        """The line of the deepest existing prefix of `loc`."""
        return self.lines.line(loc)

    def data_path(self, loc: Iterable[str | int]) -> Location:
        """The part of a pydantic `loc` that walks through the data (tags of unions and validators dropped)."""
        path: list[str | int] = []
        node = self.data
        for part in loc:
            walks_in = isinstance(node, dict) and part in node
            walks_in |= isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            if not walks_in:
                continue
            node = node[part]
            path.append(part)
        return tuple(path)


def load_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; mapping keys stay strings (`on:` is not True); duplicates are errors."""
    data, lines = _load_yaml(text, file)
    return YamlDocument(data, file, lines)


def validate(model: type[M], doc: YamlDocument, *, context: dict[str, Any] | None = None) -> M:
    """`model` validated from the document; the first error becomes one DefinitionError with its line."""
    try:
        return model.model_validate(doc.data, context=context)
    except pydantic.ValidationError as exc:
        errors = exc.errors()
        # an unknown key first: a misspelt key is also reported missing, and the typo is what to fix
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise error_at(doc, first, model) from None


def error_at(doc: YamlDocument, error: Any, model: type[pydantic.BaseModel]) -> DefinitionError:
    """One pydantic error dict -> DefinitionError "file:line: where: what"."""
    path = doc.data_path(error["loc"])
    where = _dotted(path)
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else str(error["loc"][-1])
        message = f"unknown key '{key}'{did_you_mean(key, field_names(model))}"
        where = _dotted(path[:-1])
    elif kind == "missing":
        message = f"missing key '{error['loc'][-1]}'"
    else:
        message = _plain(error["msg"])
    return DefinitionError(f"{where}: {message}" if where else message, file=doc.file, line=doc.line_of(path))


def field_names(model: type[pydantic.BaseModel]) -> set[str]:
    """Every field name and alias in the tree of models under `model`."""
    names: set[str] = set()
    seen: set[type] = set()

    def walk(cls: Any) -> None:
        if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel) and cls not in seen:
            seen.add(cls)
            for name, info in cls.model_fields.items():
                names.add(info.alias or name)
                walk_annotation(info.annotation)

    def walk_annotation(annotation: Any) -> None:
        walk(annotation)
        for arg in typing.get_args(annotation):
            walk_annotation(arg)
        if isinstance(annotation, types.UnionType):
            for arg in annotation.__args__:
                walk_annotation(arg)

    walk(model)
    return names


def _dotted(path: Location) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _plain(message: str) -> str:
    """pydantic's 'Value error, x' -> 'x'."""
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")

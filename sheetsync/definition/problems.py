"""pydantic's validation errors -> one `file:line: message` each, in the words of the definition language.

The error's location (`("tabs", 0, "columns", 2, "format")`) is the YAML path, so its line comes from
the node marks (`source_text.Lines`); the JSON Schema says which keys a mapping allows (did-you-mean).
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sheetsync.definition.fields import PROBLEM
from sheetsync.definition.source_text import Lines, Path_
from sheetsync.errors import DefinitionError
from sheetsync.suggest import did_you_mean

_PATTERNS = {
    "name": "name '{value}' must be lower-case letters, digits, - or _",
    "id": "tab id '{value}' must be unique letters, digits, - or _",
    "[key]": "parameter name '{value}' must be lower_snake_case",
}
_EXPECTED = {
    "dict": "a mapping",
    "model": "a mapping",
    "model_attributes": "a mapping",
    "dataclass": "a mapping",
    "list": "a list",
    "tuple": "a list",
    "string": "text",
    "int": "a whole number",
    "bool": "true or false",
    "float": "a number",
}


def definition_errors(exc: ValidationError, lines: Lines, file: str) -> list[DefinitionError]:
    """One DefinitionError per problem, in file order."""
    found: dict[tuple[int | None, str], DefinitionError] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("(")))
        path = loc[:-1] if loc and loc[-1] == "[key]" else loc
        message = _message(error, loc)
        line = lines.line(path if error["type"] != "union_tag_invalid" else (*path, _ctx(error, "tag")))
        found.setdefault((line, message), DefinitionError(message, file=file, line=line))
    return sorted(found.values(), key=lambda e: e.line or 0)


def _ctx(error: ErrorDetails, key: str) -> Any:
    return (error.get("ctx") or {}).get(key)


def _message(error: ErrorDetails, loc: Path_) -> str:
    kind, value = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    parent = loc[:-1]
    if kind == PROBLEM:
        return str(_ctx(error, "message"))
    if kind == "colour":
        return f"{key} must be a colour like #FFF2CC"
    if kind == "extra_forbidden":
        return f"unknown key '{key}' in {describe(parent)}{did_you_mean(key, allowed_keys(parent))}"
    if kind == "missing" and key == "fields":  # FromSource takes `field` or `fields`
        return f"{describe(parent)}: give `field` (or `fields`) of the source it reads"
    if kind == "missing":
        return f"{describe(parent)} is missing '{key}'"
    if kind == "union_tag_invalid":
        tag = str(_ctx(error, "tag"))
        kinds = [k.strip("'") for k in str(_ctx(error, "expected_tags")).split(", ")]
        return f"unknown transform '{tag}'{did_you_mean(tag, kinds)} (kinds: {', '.join(kinds)})"
    if kind in ("enum", "literal_error"):
        options = [o.strip().strip("'") for o in str(_ctx(error, "expected")).replace(" or ", ", ").split(", ")]
        return (
            f"{describe(parent)} has unknown {key} '{value}'{did_you_mean(str(value), options)}"
            f" (one of: {', '.join(options)})"
        )
    if kind == "string_pattern_mismatch":
        template = _PATTERNS.get(str(loc[-1]), "'{value}' is not allowed here")
        return template.format(value=value if key != "[key]" else loc[-2])
    if kind == "too_short":
        return f"{key} must not be empty"
    if kind == "value_error":
        return f"{key}: {error['msg'].removeprefix('Value error, ')}"
    base = kind.split("_")[0] if kind.endswith(("_type", "_parsing")) else ""
    if base in _EXPECTED:
        return f"{key or 'the definition'} must be {_EXPECTED[base]}, not {_kind(value)}"
    return f"{key}: {error['msg'][0].lower()}{error['msg'][1:]}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", type(None): "empty", bool: "true/false"}
    return names.get(type(value), type(value).__name__)


def describe(loc: Path_) -> str:
    """How a message names the construct at `loc`: "the definition", "tab 2", "join step" ..."""
    if not loc:
        return "the definition"
    *_, last = loc
    before = loc[-2] if len(loc) > 1 else None
    if len(loc) == 2 and loc[0] in ("params", "sources"):
        return f"{'parameter' if loc[0] == 'params' else 'source'} '{last}'"
    if len(loc) == 3 and loc[0] == "transforms":
        return f"{last} step"
    if len(loc) == 2 and loc[0] == "tabs":
        return f"tab {int(last) + 1}"
    if before == "columns" and isinstance(last, int):
        return f"column {last + 1}"
    if before == "rules":
        return "rule"
    if before == "demo":
        return f"demo {last}"
    if before == "params" and len(loc) == 4:
        return f"parameter {last}"
    return str(last)


def allowed_keys(loc: Path_) -> list[str]:
    """The keys the JSON Schema allows in the mapping at `loc`."""
    node = _resolve(_schema())
    for part in loc:
        node = _child(node, part)
    return list(_object(node).get("properties", {}))


@functools.cache
def _schema() -> dict[str, Any]:
    from sheetsync.definition.models import Definition

    return Definition.model_json_schema()


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = _schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _object(node: dict[str, Any]) -> dict[str, Any]:
    """The object branch of a node that may be `anyOf: [shorthand, object]`."""
    node = _resolve(node)
    for branch in node.get("anyOf", []) + node.get("oneOf", []):
        branch = _object(branch)
        if "properties" in branch:
            return branch
    return node


def _child(node: dict[str, Any], part: Any) -> dict[str, Any]:
    node = _resolve(node)
    branches = [_resolve(b) for b in node.get("anyOf", []) + node.get("oneOf", [])] or [node]
    for branch in branches:
        if isinstance(part, int) and "items" in branch:
            return _resolve(branch["items"])
        if isinstance(part, str) and part in branch.get("properties", {}):
            return _resolve(branch["properties"][part])
        if isinstance(part, str) and isinstance(branch.get("additionalProperties"), dict):
            return _resolve(branch["additionalProperties"])
        if isinstance(part, str) and branch.get("patternProperties"):
            return _resolve(next(iter(branch["patternProperties"].values())))
    return {}

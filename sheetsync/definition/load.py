"""Entry points: definition text or file -> a validated `Definition`; the built-in reports; the JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from sheetsync.definition.checks import check_definition
from sheetsync.definition.models import Definition
from sheetsync.definition.problems import definition_errors
from sheetsync.definition.source_text import load_yaml
from sheetsync.errors import DefinitionError, DefinitionErrors
from sheetsync.suggest import did_you_mean


def parse_definition(
    text: str, file: str = "<definition>", *, endpoints: Mapping[str, Any] | None = None
) -> Definition:
    """Validate a definition's text: the schema first, then the cross-construct checks.

    Raises one DefinitionError naming file and line, or DefinitionErrors listing every problem found.
    `endpoints` (default: the KSS endpoint registry) is what source endpoints are checked against.
    """
    if endpoints is None:
        from sheetsync.apis.registry import ENDPOINTS

        endpoints = ENDPOINTS
    data, lines = load_yaml(text, file)
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        _raise(definition_errors(exc, lines, file))
    definition._file = file
    _raise(check_definition(definition, lines, endpoints))
    return definition


def _raise(errors: list[DefinitionError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DefinitionErrors(errors)


def load_definition(path: str | Path, *, endpoints: Mapping[str, Any] | None = None) -> Definition:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DefinitionError(
            f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save it as UTF-8", file=str(path), line=line
        ) from None
    return parse_definition(text, str(path), endpoints=endpoints)


def builtin_paths() -> dict[str, Path]:
    """Built-in report definitions by name (the package `sheetsync.reports`, i.e. reports/*.yaml)."""
    found: dict[str, Path] = {}
    try:
        entries = list(resources.files("sheetsync.reports").iterdir())
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        entries = list((Path(__file__).resolve().parents[2] / "reports").glob("*.yaml"))  # type: ignore[arg-type]
    for entry in entries:
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name.rsplit(".", 1)[0]] = Path(str(entry))
    return dict(sorted(found.items()))


def find_definition(report: str, *, endpoints: Mapping[str, Any] | None = None) -> Definition:
    """A built-in report by name, or a definition file by path."""
    builtins = builtin_paths()
    if report in builtins:
        return load_definition(builtins[report], endpoints=endpoints)
    path = Path(report)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise DefinitionError(f"no definition file {report}")
        return load_definition(path, endpoints=endpoints)
    raise DefinitionError(
        f"unknown report '{report}'{did_you_mean(report, builtins)} (built-in: {', '.join(builtins)}; "
        "or give a path to a .yaml file)"
    )


class _TextAlsoNumbers(GenerateJsonSchema):
    """Text fields take a number too (`header: 2026` is the text "2026"), as the validator does."""

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        return {**super().str_schema(schema), "type": ["string", "number"]}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the definition language, for editors and `reports schema`."""
    schema = Definition.model_json_schema(schema_generator=_TextAlsoNumbers)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://sheetsync.invalid/report-definition.schema.json",
        **schema,
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2)

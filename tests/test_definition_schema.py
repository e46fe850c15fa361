"""`sheetsync reports schema`: the JSON Schema of the definition language, checked with jsonschema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from jsonschema.exceptions import best_match

from sheetsync.cli import cli
from sheetsync.definition import builtin_paths, parse_definition
from sheetsync.definition.source_text import load_yaml

GOOD = sorted((Path(__file__).parent / "definitions" / "good").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict:
    result = CliRunner().invoke(cli, ["reports", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _yaml(path: Path) -> object:
    data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))  # keys stay text, as the editor sees them
    return data


@pytest.mark.parametrize("path", list(builtin_paths().values()) + GOOD, ids=lambda p: p.name)
def test_schema_accepts_every_builtin_and_good_definition(schema: dict, path: Path) -> None:
    jsonschema.Draft202012Validator(schema).validate(_yaml(path))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tab": "oops"}, "Additional properties are not allowed"),
        ({"transforms": [{"joins": {"with": "x", "on": "ProductID"}}]}, "is not valid under any of the given schemas"),
        ({"transforms": [{"join": {"with": "x", "onn": "ProductID"}}]}, "'onn' was unexpected"),
        ({"tabs": [{"columns": [{"header": "A", "field": "B", "format": "money"}]}]}, "'money' is not one of"),
        ({"params": {"x": {"type": "integer"}}}, "'integer' is not one of"),
        ({"tabs": []}, "should be non-empty"),
    ],
)
def test_schema_refuses_what_the_validator_refuses(schema: dict, change: dict, message: str) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    data = {"name": "t", "sources": {"p": {"endpoint": "products"}}, "tabs": [{"columns": ["ProductName"]}]}
    validator.validate(data)
    error = best_match(validator.iter_errors({**data, **change}))
    assert error is not None and re.search(message, error.message), error


def test_schema_describes_each_key(schema: dict) -> None:
    columns = schema["$defs"]["ColumnSpec"]["properties"]
    assert "currency" in json.dumps(columns["format"])
    assert columns["header"]["description"] == "The header text."
    join = schema["$defs"]["Join"]["properties"]
    assert "with" in join and "with_" not in join and "tag" not in join


def test_schema_accepts_the_shorthands_the_validator_expands(schema: dict) -> None:
    data = {
        "name": "t",
        "params": {"ids": "int_list"},
        "sources": {"p": "products"},
        "tabs": [
            {"columns": ["ProductName", {"header": "Image", "field": "ThumbnailImageURL", "link": "FullSizeImageURL"}]}
        ],
        "burst": "ProductName",
    }
    jsonschema.Draft202012Validator(schema).validate(data)
    parse_definition(json.dumps(data), "t.yaml")  # JSON is YAML: the validator takes the same text
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({**data, "params": {"ids": "integer"}})


def test_schema_takes_numbers_where_the_validator_reads_them_as_text(schema: dict) -> None:
    text = "name: t\nsources: {p: products}\ntabs: [{title: 2026, columns: [{header: 2026, field: ProductName}]}]\n"
    assert parse_definition(text, "t.yaml").tabs[0].columns[0].header == "2026"
    jsonschema.Draft202012Validator(schema).validate(load_yaml(text, "t.yaml")[0])


def test_every_key_of_the_language_has_a_description(schema: dict) -> None:
    models = {"(top)": schema, **schema["$defs"]}
    undocumented = [
        f"{model}.{key}"
        for model, node in models.items()
        for key, prop in node.get("properties", {}).items()
        if not prop.get("description")
    ]
    assert not undocumented, f"add a docstring under each key: {undocumented}"
    assert all(node.get("description") for node in schema["$defs"].values())

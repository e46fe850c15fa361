"""The base of every definition model: unknown keys are errors, each key's docstring is its description."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        coerce_numbers_to_str=True,  # `header: 2026` is the text "2026", as YAML authors expect
        populate_by_name=True,
        arbitrary_types_allowed=True,
    )

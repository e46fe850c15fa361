"""Report definitions: YAML -> validated, typed objects, checked strictly before any request.

The language is declared once, as pydantic models with a docstring per key (`models.py`, `steps.py`);
`sheetsync reports schema` prints it as JSON Schema. Validation runs in two passes: the schema
(types, enums, unknown keys, expression syntax), then `checks.py` over the typed objects (endpoints,
parameters, columns flowing between steps, names in expressions). Every problem is reported as
`file:line: message` (lines from the YAML node marks), with a did-you-mean where a name is close.

The language (reports/price-list.yaml is a complete example)::

    name: price-list                 # lower-case; `sheetsync run price-list`
    title: Price list
    timezone: America/Los_Angeles    # instants are shown in it (default); calendar dates (DueDate, ...) are
                                     #   the UTC date of KSS's timestamp in any zone (see apis/records.py)
    params:                          # -p name=value on the command line, lists comma-separated
      customer_ids: {type: int_list, required: true, help: ...}
      as_of: {type: date, default: today}      # int int_list str str_list date decimal bool
    demo:                            # what `sheetsync demo` passes: a value, or the first N of a query
      customer_ids: {endpoint: customers, field: CustomerID, limit: 3}
    sources:                         # one query each; api: kss (default) or kotis
      pricing:
        endpoint: customerPricing    # documented name, checked with its parameters
        params: {CustomerIDs: "{{ params.customer_ids }}", Statuses: [1, 2]}
      products:                      # dependent: distinct values of an earlier source, batched
        endpoint: products
        params: {ProductIDs: "{{ sources.pricing.ProductID }}"}   # or {from: pricing, fields: [...]}
    transforms:                      # steps in order; `frame:` defaults to the previous output
      - join: {frame: pricing, with: products, on: ProductID, how: left, columns: [...], prefix: P, as: rows}
      - explode / derive / filter / sort / group / running / select / rename / dedupe / union / head
    tabs:
      - id: customer
        from: rows
        split: CustomerID            # one tab per value
        key: [Product ID]            # row key: columns users add beside the rows follow it on refresh
        name: "{{ CustomerName }}"
        columns:
          - {header: Unit price, field: UnitPrice, format: currency, width: 12, total: sum}
          - {header: Cases, expr: "ceil(Units / 12)", format: integer}
        rules: [{when: Promotion, op: not_blank, fill: "#FFF2CC"}]
        chart: {title: Aging, columns: [Current, 1-30]}
    burst: {by: CustomerID, name: "ar-aging-{{ CustomerName }}", enabled: "{{ params.burst }}"}
"""

from sheetsync.definition.checks import join_column_names
from sheetsync.definition.load import (
    builtin_paths,
    find_definition,
    json_schema,
    json_schema_text,
    load_definition,
    parse_definition,
)
from sheetsync.definition.models import (
    BurstSpec,
    ChartSpec,
    ColumnSpec,
    Definition,
    DemoValue,
    FromSource,
    LinkSpec,
    ParamSpec,
    RuleSpec,
    SourceSpec,
    StatementSpec,
    TabSpec,
)
from sheetsync.definition.params import PARAM_TYPES, coerce_param, resolve_params
from sheetsync.definition.steps import STEP_KINDS, AnyStep, Step

__all__ = [
    "PARAM_TYPES",
    "STEP_KINDS",
    "AnyStep",
    "BurstSpec",
    "ChartSpec",
    "ColumnSpec",
    "Definition",
    "DemoValue",
    "FromSource",
    "LinkSpec",
    "ParamSpec",
    "RuleSpec",
    "SourceSpec",
    "StatementSpec",
    "Step",
    "TabSpec",
    "builtin_paths",
    "coerce_param",
    "find_definition",
    "join_column_names",
    "json_schema",
    "json_schema_text",
    "load_definition",
    "parse_definition",
    "resolve_params",
]

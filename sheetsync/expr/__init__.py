"""The safe expression language of report definitions, parsed by Python's `ast` and never eval'd.

    Price * Units - Discount            Decimal arithmetic: + - * / %, unary -
    Amount != 0 and not (Units > 5)     comparisons (one at a time), and/or/not, null-safe
    Units in [1, 7, 9]                  membership in a list
    if(Bucket == 'Credit', -Open, Open) functions: if ceil floor round min max abs coalesce concat money
                                        text number int date local_date days_between add_days
                                        days_past_due aging_bucket year month today now upper lower
                                        trim replace substr startswith endswith contains len split
                                        join is_null blank
    params.days, sources.s.F, `Odd name` dotted names; backticks quote any name
    sum(Amount)                         in group aggregates only: the outermost call is the aggregate

Numbers are `Decimal` (integral literals are `int`), read from the text as written, so money stays
exact. Everything is null-safe: arithmetic with null gives null, a comparison with null is false
(except `== null` / `!= null`), `and`/`or` treat null as false, `min`/`max` skip nulls, `concat`
treats null as "". Dates: `date + n` and `date - n` move by days, `date - date` is a number of days.
Templates are text with `{{ expression }}` parts.
"""

from sheetsync.expr.compile import Expr, Template, compile_expr, compile_template, is_template, mapping_env
from sheetsync.expr.functions import AGGREGATES, FUNCTIONS, Function
from sheetsync.expr.values import (
    Env,
    ExprError,
    _as_date,
    _comparable,
    _text,
    to_decimal,
    truthy,
)

__all__ = [
    "AGGREGATES",
    "FUNCTIONS",
    "Env",
    "Expr",
    "ExprError",
    "Function",
    "Template",
    "_as_date",
    "_comparable",
    "_text",
    "compile_expr",
    "compile_template",
    "is_template",
    "mapping_env",
    "to_decimal",
    "truthy",
]

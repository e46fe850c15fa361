"""Frames + a tab spec -> sink-neutral `model.Tab`s: typed cells, formats, widths, totals, rules, header block."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from sheetsync import model
from sheetsync.definition import ColumnSpec, Definition, RuleSpec, TabSpec
from sheetsync.definition.formats import column_format
from sheetsync.errors import RenderError
from sheetsync.expr import ExprError, Template, _as_date, _text, to_decimal
from sheetsync.sinks.text import XLSX, sheet_name, too_precise, unique_sheet_names
from sheetsync.transform import match_key, records_of, row_env

CENT = Decimal("0.01")


@dataclass
class LayoutContext:
    """What every tab of one run shares: parameters, environment and the run's clocks."""

    definition: Definition
    params: Mapping[str, Any]
    environment: str
    fetched_at: datetime
    generated_at: datetime
    warnings: list[model.RunWarning | str] = field(default_factory=list)
    company: model.Company | None = None  # the sender of customer-facing pages
    negatives: model.Negatives | None = None  # sheetsync.toml's choice, for a definition that makes none

    @property
    def negatives_shown(self) -> model.Negatives:
        """How negative money is shown: the definition's `negatives`, else the configured, else parentheses."""
        return self.definition.negatives or self.negatives or model.Negatives.PARENTHESES

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.definition.timezone)

    @property
    def expr_context(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "report": {"name": self.definition.name, "title": self.definition.title},
            "__today": self.generated_at.astimezone(self.tz).date(),
            "__now": self.generated_at,
        }

    def stamp(self, moment: datetime) -> str:
        """An instant as the info block shows it, in the report's time zone, named: "2026-01-25 09:30 PST
        (America/Los_Angeles)"."""
        local = moment.astimezone(self.tz) if moment.tzinfo else moment
        return f"{local:%Y-%m-%d %H:%M %Z}".strip() + f" ({self.definition.timezone})"

    def param_text(self) -> str:
        parts = []
        for name, value in self.params.items():
            if value is None:
                continue
            shown = ",".join(_text(v) or "" for v in value) if isinstance(value, list) else _text(value)
            parts.append(f"{name}={shown}")
        return "; ".join(parts) or "(none)"


def split_groups(frame: pd.DataFrame, column: str | None) -> list[tuple[Any, list[dict[str, Any]]]]:
    """[(value, rows)] in order of first appearance; one group of everything when `column` is None."""
    rows = records_of(frame)
    if column is None:
        return [(None, rows)]
    groups: dict[Any, tuple[Any, list[dict[str, Any]]]] = {}
    for row in rows:
        value = row.get(column)
        groups.setdefault(match_key(value), (value, []))[1].append(row)
    return list(groups.values())


def build_tabs(spec: TabSpec, frame: pd.DataFrame, ctx: LayoutContext) -> list[model.Tab]:
    """One tab, or one per value of `spec.split`: a split of no rows yields no tab, never a blank one
    (see `empty_split_warnings`); a tab that is not split is written empty (completeness.py warns)."""
    env = ctx.expr_context
    if spec.where is not None:
        keep = [r for r in records_of(frame) if spec.where.evaluate(row_env(r, env))]
        frame = pd.DataFrame(keep, columns=frame.columns, dtype=object) if keep else frame.iloc[0:0]
    return [_tab(spec, value, rows, ctx) for value, rows in split_groups(frame, spec.split)]


def empty_split_keys(definition: Definition, tabs: Sequence[model.Tab]) -> tuple[str, ...]:
    """The key prefixes of the split tabs of `definition` that have no tab among `tabs`."""
    prefixes = [f"{definition.name}/{spec.id}-" for spec in definition.tabs if spec.split is not None]
    return tuple(p for p in prefixes if not any(t.key.startswith(p) for t in tabs))


def empty_split_warnings(definition: Definition, workbooks: Sequence[model.Workbook]) -> list[model.RunWarning]:
    """One line per split tab of which no workbook got a single tab ("no customer gets a statement").
    Nothing of it is written: an existing workbook keeps its earlier tabs of it as they were."""
    out = []
    for spec in definition.tabs:
        prefix = f"{definition.name}/{spec.id}-"
        if spec.split is None or prefix not in empty_split_keys(definition, [t for wb in workbooks for t in wb.tabs]):
            continue
        what = "statement" if spec.statement else "tab"
        passes = " passes the tab's `where` with these parameters" if spec.where is not None else " has rows"
        text = f"{definition.name}: no {what} written (tab {spec.id!r}): no {spec.split}{passes}; earlier ones are kept"
        out.append(model.RunWarning("no-rows", text, spec.id))
    return out


def _tab(spec: TabSpec, value: Any, rows: list[dict[str, Any]], ctx: LayoutContext) -> model.Tab:
    env = {**ctx.expr_context, "value": value}
    first = rows[0] if rows else {}
    try:
        name = _render(spec.name, first, env) or spec.id
        title = _render(spec.title, first, env) or ctx.definition.title
        cells = [[_cell(col, row, env, ctx) for col in spec.columns] for row in rows]
        extra = [(label, _render(t, first, env)) for label, t in spec.info.items()]
        as_of = _as_of(spec.as_of, first, env, ctx)
    except ExprError as exc:
        raise RenderError(f"{ctx.definition.file}:{spec.line}: tab {spec.id}: {exc.message}") from None
    statement = _statement(spec, first, env, ctx) if spec.statement else None
    meta = [("Parameters", ctx.param_text()), ("Environment", ctx.environment), ("Data as of", as_of)]
    info = [("Report", ctx.definition.title), *extra, *meta, ("Generated", ctx.stamp(ctx.generated_at))]
    note = f"Generated {ctx.stamp(ctx.generated_at)} from {ctx.environment}; {ctx.param_text()}"
    key = f"{ctx.definition.name}/{spec.id}" + (f"-{slug(_text(value) or 'none')}" if spec.split else "")
    ctx.warnings.extend(long_number_warnings(spec.columns, cells, name))
    if tab_name(name) != name:
        shown = tab_name(name)
        ctx.warnings.append(model.RunWarning("tab-renamed", f"tab name {name!r} is shown as {shown!r}", name))
    return model.Tab(
        name=tab_name(name),
        key=key,
        title=title,
        columns=[model.Column(c.header, column_format(c), c.width, c.total) for c in spec.columns],
        rows=cells,
        info=customer_info(statement) if statement else info,  # a customer's page shows no run metadata
        rules=[_rule(r, env) for r in spec.rules],
        chart=model.Chart(spec.chart.title or title, tuple(spec.chart.columns)) if spec.chart else None,
        freeze_header=spec.freeze_header,
        autofilter=spec.autofilter,
        template=spec.template,
        note=None if statement else note,
        statement=statement,
        stamps=("Generated",) if spec.as_of is not None else ("Generated", "Data as of"),
        row_key=spec.key_headers,
        negatives=ctx.negatives_shown,
    )


def _statement(spec: TabSpec, row: Mapping[str, Any], env: Mapping[str, Any], ctx: LayoutContext) -> model.Statement:
    """The customer-facing page of a tab: its templates over the group's first row, the company profile."""
    assert spec.statement is not None
    given = spec.statement
    resolver = row_env(row, env)
    try:
        customer = [line for t in given.customer for line in (_text(t.render(resolver)) or "").splitlines()]
        facts = [(label, _fact(t.render(resolver))) for label, t in given.facts.items()]
        band = [(label, _money(t.render(resolver))) for label, t in given.band.items()]
        due = to_decimal(given.amount_due.render(resolver))
    except ExprError as exc:
        raise RenderError(f"{ctx.definition.file}:{spec.line}: tab {spec.id}: statement: {exc.message}") from None
    company = ctx.company
    if company is not None and company.terms and all(label != "Terms" for label, _ in facts):
        facts.append(("Terms", company.terms))
    amount_due = None if due is None else due.quantize(CENT, rounding=ROUND_HALF_UP)
    return model.Statement(company, [c for c in customer if c.strip()], facts, band, amount_due)


def _fact(value: Any) -> str | date:
    """A statement fact: a calendar date stays a date (a typed date cell in every sink), anything else is text."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _text(value) or ""


def customer_info(statement: model.Statement) -> list[tuple[str, model.InfoValue]]:
    """The header block of a statement tab where a sink has no statement page (Google Sheets): the same
    blocks as the printed statement (letterhead, remit-to, customer, facts, aging band, amount due,
    payment instructions) as label/value lines, never run metadata. Dates stay dates and money stays
    Decimal, so the sink writes typed cells (a money format, the tab's negatives)."""
    company = statement.company
    lines: list[tuple[str, model.InfoValue]] = []
    if company is not None:
        contact = [x for x in (company.phone, company.email) if x]
        lines.append(("From", " · ".join([company.name, ", ".join(company.address), *contact]).strip(" ·")))
        if company.remit_to:
            lines.append(("Remit to", ", ".join(company.remit_to)))
    lines.append(("Customer", ", ".join(statement.customer)))
    lines += statement.facts
    lines += statement.band
    due = statement.amount_due
    lines.append(("Amount due", due if due is not None else ""))
    if company is not None and company.payment_instructions:
        lines.append(("Payment instructions", " ".join(company.payment_instructions)))
    return lines


def _money(value: Any) -> Decimal:
    number = to_decimal(value)
    return Decimal("0.00") if number is None else number.quantize(CENT, rounding=ROUND_HALF_UP)


def about(ctx: LayoutContext) -> list[tuple[str, str]]:
    """The run metadata of a workbook: kept in its document properties and hidden "About" sheet."""
    return [
        ("Report", f"{ctx.definition.title} ({ctx.definition.name})"),
        ("Parameters", ctx.param_text()),
        ("Environment", ctx.environment),
        ("Data fetched", ctx.stamp(ctx.fetched_at)),
        ("Generated", ctx.stamp(ctx.generated_at)),
    ]


def long_number_warnings(columns: Sequence[ColumnSpec], cells: list[list[Any]], tab: str) -> list[model.RunWarning]:
    """One warning per numeric column holding digit strings too long for a spreadsheet's number (kept as text)."""
    out = []
    for index, column in enumerate(columns):
        if column_format(column) not in model.NUMERIC_FORMATS:
            continue
        count = sum(1 for row in cells if isinstance(row[index], str) and too_precise(to_decimal(row[index])))
        if count:
            out.append(
                model.RunWarning(
                    "number-as-text",
                    f"tab {tab!r}, column {column.header!r}: {count} number(s) have more than 15 significant "
                    "digits, which a spreadsheet would round; written as text with every digit",
                    column.header,
                )
            )
    return out


def _as_of(template: Template | None, row: Mapping[str, Any], env: Mapping[str, Any], ctx: LayoutContext) -> str:
    """The tab's `as_of` (e.g. the aging CloseDate) shown in the report's time zone; else the fetch time."""
    if template is None:
        return ctx.stamp(ctx.fetched_at)
    value = template.render(row_env(row, env))
    if isinstance(value, datetime):
        return ctx.stamp(value)
    return _text(value) or ctx.stamp(ctx.fetched_at)


def _render(template: Template | None, row: Mapping[str, Any], env: Mapping[str, Any]) -> str:
    if template is None:
        return ""
    value = template.render(row_env(row, env))
    return _text(value) or ""


def _cell(col: ColumnSpec, row: Mapping[str, Any], env: Mapping[str, Any], ctx: LayoutContext) -> Any:
    resolver = row_env(row, env)
    value = typed(col.value.evaluate(resolver), column_format(col), ctx.tz)
    if col.link is None:
        return value
    url = col.link.url.evaluate(resolver)
    text = col.link.text.evaluate(resolver) if col.link.text else value
    if not url:
        return value
    return model.Link(str(url), _text(text) or str(url))


def typed(value: Any, fmt: model.Format, tz: ZoneInfo) -> Any:
    """A cell value typed for its column format; a value that does not fit stays as text."""
    if value is None or (isinstance(value, str) and value == "" and fmt != model.Format.TEXT):
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(_text(v) or "" for v in value)
    if fmt == model.Format.TEXT:
        return value if isinstance(value, str) else _text(value)
    if fmt in (model.Format.DATE, model.Format.DATETIME):
        return _typed_time(value, fmt, tz)
    number = to_decimal(value) if not isinstance(value, date) else None
    if number is None or (isinstance(value, str) and too_precise(number)):
        return value if isinstance(value, str) else _text(value)  # long digit strings keep every digit
    if fmt == model.Format.CURRENCY:
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    if fmt in (model.Format.INTEGER, model.Format.ID) and number == number.to_integral_value():
        return int(number)
    return number


def _typed_time(value: Any, fmt: model.Format, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        local = value.astimezone(tz).replace(tzinfo=None) if value.tzinfo else value
        return local.date() if fmt == model.Format.DATE else local
    parsed = _as_date(value)
    if parsed is None:
        return value if isinstance(value, str) else _text(value)
    return parsed if fmt == model.Format.DATE else datetime(parsed.year, parsed.month, parsed.day)


def _rule(rule: RuleSpec, env: Mapping[str, Any]) -> model.ConditionalRule:
    value = rule.value.render(env) if isinstance(rule.value, Template) else rule.value
    if isinstance(value, str | float) and to_decimal(value) is not None:
        value = to_decimal(value)
    return model.ConditionalRule(
        rule.when, rule.op, value, rule.columns, model.Style(rule.fill, rule.font_color, rule.bold)
    )


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def tab_name(text: str) -> str:
    """A valid sheet name for every sink (sinks/text.py): Excel's rules, the strictest."""
    return sheet_name(text, XLSX)


def unique_tab_names(tabs: Sequence[model.Tab]) -> None:
    """Make names unique within a workbook (case-insensitively, as spreadsheets compare them), each still
    within 31 UTF-16 units after its " (2)" suffix."""
    for tab, name in zip(tabs, unique_sheet_names([t.name for t in tabs], XLSX), strict=True):
        tab.name = name


def file_stem(text: str) -> str:
    """A workbook name safe as a file name on every platform."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "workbook"

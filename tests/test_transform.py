"""Transform steps on fake records: joins, explode, derive, filter, sort, group, running totals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sheetsync.definition import parse_definition
from sheetsync.transform import build_frames, records_of, to_frame

AGING = [
    {
        "CustomerID": 1,
        "OpenCredit": D("-31.05"),
        "CurrentInvoices": [],
        "Invoices_1_30": [{"InvoiceID": 11, "InvoiceNum": "X-11"}, {"InvoiceID": 12, "InvoiceNum": "X-12"}],
        "Invoices_31_60": [{"InvoiceID": 13, "InvoiceNum": "X-13"}],
        "CreditInvoices": [{"InvoiceID": 90, "InvoiceNum": "C-90"}],
    },
    {
        "CustomerID": 2,
        "OpenCredit": D("0"),
        "CurrentInvoices": [{"InvoiceID": 21, "InvoiceNum": "X-21"}],
        "Invoices_1_30": [],
        "Invoices_31_60": [],
        "CreditInvoices": [],
    },
]
INVOICES = [
    {"InvoiceID": 11, "CustomerID": 1, "OpenBalance": D("100.10"), "DueDate": date(2026, 1, 1)},
    {"InvoiceID": 12, "CustomerID": 1, "OpenBalance": D("0.20"), "DueDate": date(2026, 1, 20)},
    {"InvoiceID": 13, "CustomerID": 1, "OpenBalance": D("50.00"), "DueDate": None},
    {"InvoiceID": 21, "CustomerID": 2, "OpenBalance": D("5.55"), "DueDate": date(2026, 2, 1)},
    {"InvoiceID": 90, "CustomerID": 1, "OpenBalance": D("0"), "OpenCredit": D("31.05"), "DueDate": None},
]

STATEMENT = """
name: statement
params:
  as_of: {type: date, default: "2026-02-01"}
sources:
  aging: {endpoint: arAging}
  invoices:
    endpoint: invoices
    params:
      InvoiceIDs:
        from: aging
        fields: [CurrentInvoices.InvoiceID, Invoices_1_30.InvoiceID, Invoices_31_60.InvoiceID, CreditInvoices.InvoiceID]
      Statuses: [1, 2, 3, 4, 5, 7]
transforms:
  - explode:
      frame: aging
      columns: {CurrentInvoices: Current, Invoices_1_30: 1-30, Invoices_31_60: 31-60, CreditInvoices: Credit}
      label: Bucket
      fields: [InvoiceID, InvoiceNum]
      as: items
  - join: {with: invoices, on: InvoiceID, columns: [OpenBalance, OpenCredit, DueDate]}
  - derive:
      columns:
        Amount: if(Bucket == 'Credit', -OpenCredit_invoices, OpenBalance)  # OpenCredit clashes with aging's
        DaysPastDue: max(0, days_between(DueDate, params.as_of))
  - filter: {where: Amount != 0}
  - sort: {by: [CustomerID, -Amount]}
  - running: {column: Running, of: Amount, by: CustomerID}
  - group: {frame: items, by: CustomerID, as: totals,
            aggregate: {Total: sum(Amount), Lines: count(), Worst: max(DaysPastDue), Nums: join(InvoiceNum)}}
tabs:
  - from: items
    columns: [Bucket, InvoiceNum, Amount, Running, DaysPastDue]
"""


def frames(text: str = STATEMENT, records: dict | None = None) -> dict:
    definition = parse_definition(text, "statement.yaml")
    params = {"as_of": date(2026, 2, 1)}
    warnings: list[str] = []
    out = build_frames(
        definition, records or {"aging": AGING, "invoices": INVOICES}, {}, warnings, context={"params": params}
    )
    out["_warnings"] = warnings
    return out


def test_explode_join_derive_filter_sort_running() -> None:
    rows = records_of(frames()["items"])
    assert [(r["CustomerID"], r["InvoiceNum"], r["Bucket"], r["Amount"], r["Running"]) for r in rows] == [
        (1, "X-11", "1-30", D("100.10"), D("100.10")),
        (1, "X-13", "31-60", D("50.00"), D("150.10")),
        (1, "X-12", "1-30", D("0.20"), D("150.30")),
        (1, "C-90", "Credit", D("-31.05"), D("119.25")),
        (2, "X-21", "Current", D("5.55"), D("5.55")),
    ]
    assert rows[0]["DaysPastDue"] == 31 and rows[1]["DaysPastDue"] == 0  # null due date -> max(0, null) = 0


def test_group_aggregates_exactly() -> None:
    totals = {r["CustomerID"]: r for r in records_of(frames()["totals"])}
    assert totals[1]["Total"] == D("119.25") and totals[1]["Lines"] == 4 and totals[1]["Worst"] == 31
    assert totals[2]["Nums"] == "X-21"


def test_frames_keep_python_types() -> None:
    frame = frames()["items"]
    assert all(str(dtype) == "object" for dtype in frame.dtypes)
    assert all(not isinstance(v, float) for v in frame["Amount"])


def test_null_keys_never_join() -> None:
    text = """
name: t
sources:
  pricing: {endpoint: customerPricing, params: {CustomerIDs: [1]}}
  promos: {endpoint: promotionsProducts}
transforms:
  - join: {frame: pricing, with: promos, on: PromotionID, columns: [PromotionName], as: rows}
tabs: [{columns: [PromotionName]}]
"""
    records = {
        "pricing": [{"ProductID": 1, "PromotionID": None}, {"ProductID": 2, "PromotionID": 42}],
        "promos": [{"PromotionID": None, "PromotionName": "ghost"}, {"PromotionID": 42, "PromotionName": "P"}],
    }
    rows = records_of(frames(text, records)["rows"])
    assert [r["PromotionName"] for r in rows] == [None, "P"]


def test_join_name_clash_gets_suffix_and_inner_drops() -> None:
    text = """
name: t
sources:
  pricing: {endpoint: customerPricing, params: {CustomerIDs: [1]}}
  products: {endpoint: products}
transforms:
  - join: {frame: pricing, with: products, on: ProductID, how: inner, columns: [ProductName, State], as: rows}
tabs: [{columns: [ProductName]}]
"""
    records = {
        "pricing": [{"ProductID": 1, "State": "CA"}, {"ProductID": 3, "State": "CA"}],
        "products": [{"ProductID": 1, "ProductName": "Bar", "State": "NJ"}],
    }
    rows = records_of(frames(text, records)["rows"])
    assert rows == [{"ProductID": 1, "State": "CA", "ProductName": "Bar", "State_products": "NJ"}]


def test_missing_documented_field_is_an_empty_column_and_one_warning() -> None:
    frame, missing = to_frame([{"A": 1}], ["A", "B", "C"])
    assert list(frame.columns) == ["A", "B", "C"] and missing == ["B", "C"]
    assert records_of(frame) == [{"A": 1, "B": None, "C": None}]
    _, none_missing = to_frame([], ["A"])
    assert none_missing == []


def test_sort_puts_nulls_last_and_mixes_numbers() -> None:
    text = """
name: t
sources:
  p: {endpoint: products}
transforms:
  - sort: {by: [WholesaleUnitsPerCase, ProductName]}
tabs: [{columns: [ProductName]}]
"""
    records = {
        "p": [
            {"ProductName": "b", "WholesaleUnitsPerCase": None},
            {"ProductName": "a", "WholesaleUnitsPerCase": D("10")},
            {"ProductName": "c", "WholesaleUnitsPerCase": 9},
            {"ProductName": "A", "WholesaleUnitsPerCase": 9},
        ]
    }
    assert [r["ProductName"] for r in records_of(frames(text, records)["p"])] == ["A", "c", "a", "b"]


SHARED = """
name: shared
sources:
  invoices: {endpoint: invoices}
transforms:
  - filter: {frame: invoices, where: CustomerID == 1, as: mine}
  - derive: {frame: mine, columns: {OpenBalance: OpenBalance * 2, Doubled: true}}
  - select: {frame: invoices, columns: [InvoiceID, CustomerID], as: narrow}
tabs: [{from: mine, columns: [OpenBalance]}]
"""


def test_a_step_never_changes_the_frames_it_read() -> None:
    definition = parse_definition(SHARED, "shared.yaml")
    records = {"invoices": [dict(r) for r in INVOICES]}
    frames = build_frames(definition, records, {}, [])
    assert [r["OpenBalance"] for r in records_of(frames["invoices"])] == [r["OpenBalance"] for r in INVOICES]
    assert "Doubled" not in frames["invoices"].columns
    assert records["invoices"] == INVOICES  # the fetched records too
    assert [r["OpenBalance"] for r in records_of(frames["mine"])] == [D("200.20"), D("0.40"), D("100.00"), D("0")]
    assert list(frames["narrow"].columns) == ["InvoiceID", "CustomerID"]
    assert list(frames["invoices"].columns) == ["InvoiceID", "CustomerID", "OpenBalance", "DueDate", "OpenCredit"]


def test_every_row_has_every_column_after_explode_and_union() -> None:
    text = """
name: shapes
sources:
  aging: {endpoint: arAging}
  invoices: {endpoint: invoices}
transforms:
  - explode: {frame: aging, columns: {Invoices_1_30: 1-30, CreditInvoices: Credit}, label: Bucket,
              fields: [InvoiceID], as: items}
  - union: {frames: [items, invoices], as: both}
  - derive:
      frame: both
      columns: {Label: "coalesce(InvoiceNum, Bucket, 'none')"}
tabs: [{from: both, columns: [Label]}]
"""
    aging = [{"CustomerID": 1, "Invoices_1_30": [{"InvoiceID": 11}], "CreditInvoices": [{"InvoiceNum": "C-1"}]}]
    frames = build_frames(parse_definition(text, "s.yaml"), {"aging": aging, "invoices": INVOICES[:1]}, {}, [])
    rows = records_of(frames["both"])
    assert [r["Label"] for r in rows] == ["1-30", "C-1", "none"]
    assert rows[0]["InvoiceNum"] is None and rows[1]["InvoiceID"] is None and rows[2]["Bucket"] is None

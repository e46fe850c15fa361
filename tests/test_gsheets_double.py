"""The Sheets v4 double refuses what Google refuses (checked against the discovery document)."""

from __future__ import annotations

import pytest
import requests
from sheets_double import SheetsDouble, apply_mask, parse_mask

URL = "https://sheets.googleapis.com/v4/spreadsheets/D1"


@pytest.fixture
def api() -> tuple[SheetsDouble, requests.Session]:
    double = SheetsDouble()
    double.add_spreadsheet("D1")
    return double, double.session()


def batch(api, *requests_: dict) -> requests.Response:
    return api[1].post(f"{URL}:batchUpdate", json={"requests": list(requests_)})


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"addSheet": {"properties": {"title": "x", "colour": 1}}}, 'Unknown name "colour"'),
        ({"addSheet": {"properties": {"title": 5}}}, "TYPE_STRING"),
        ({"addSheet": {"properties": {"gridProperties": {"rowCount": "many"}}}}, "TYPE_INT32"),
        ({"addSheet": {}, "deleteSheet": {"sheetId": 0}}, "exactly one kind"),
        ({}, "exactly one kind"),
        (
            {
                "updateCells": {
                    "start": {"sheetId": 0},
                    "rows": [{"values": [{"userEnteredValue": {"stringValue": "a", "numberValue": 1}}]}],
                    "fields": "*",
                }
            },
            "only one of",
        ),
        ({"setBasicFilter": {"filter": {"range": {"sheetId": 0}, "sortSpecs": {}}}}, "expected a list"),
        (
            {
                "addConditionalFormatRule": {
                    "rule": {"ranges": [{"sheetId": 0}], "booleanRule": {"condition": {"type": "FORMULA"}}}
                }
            },
            "not one of the enum values",
        ),
        ({"autoFill": {"useAlternateSeries": True}}, "does not model autoFill"),
    ],
)
def test_invalid_requests_are_answered_400(api, request_, message) -> None:
    response = batch(api, request_)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize("fields", ["sheets.properties(sheetId,titel)", "sheets(properties(title(x)))", "sheet"])
def test_field_masks_naming_unknown_fields_are_refused(api, fields) -> None:
    response = api[1].get(URL, params={"fields": fields})
    assert response.status_code == 400 and "Invalid field selection" in response.text


def test_update_masks_are_checked_too(api) -> None:
    repeat = {"range": {"sheetId": 0}, "cell": {}, "fields": "userEnteredFormat.numFormat"}
    response = batch(api, {"repeatCell": repeat})
    assert response.status_code == 400 and "userEnteredFormat.numFormat" in response.text


def test_unknown_query_parameters_are_refused(api) -> None:
    response = api[1].get(URL, params={"field": "sheets"})
    assert response.status_code == 400 and "Unknown query parameter 'field'" in response.text


def test_a_failing_batch_changes_nothing(api) -> None:
    double, _ = api
    response = batch(
        api,
        {"addSheet": {"properties": {"sheetId": 7, "title": "New"}}},
        {"updateCells": {"start": {"sheetId": 7, "rowIndex": 5000}, "rows": [{"values": [{}]}], "fields": "*"}},
    )
    assert response.status_code == 400 and "exceeds grid limits" in response.text
    assert double.spreadsheets["D1"].titles == ["Sheet1"]


def test_field_masks_select_what_is_returned(api) -> None:
    response = api[1].get(URL, params={"fields": "sheets.properties(sheetId,title)"})
    assert response.json() == {"sheets": [{"properties": {"sheetId": 0, "title": "Sheet1"}}]}
    assert apply_mask({"a": {"b": 1, "c": 2}, "d": 3}, parse_mask("a/b,d")) == {"a": {"b": 1}, "d": 3}


def test_requests_without_a_token_are_unauthenticated() -> None:
    double = SheetsDouble()
    double.add_spreadsheet("D1")
    session = requests.Session()
    session.mount("https://", double)
    assert session.get(URL).status_code == 401

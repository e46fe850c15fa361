"""A vcrpy cassette pins the exact request sequence of one refresh (one read, one batchUpdate).

Replay (the default, SHEETSYNC_VCR_RECORD unset = "none") runs gspread's real transport against the
cassette only: nothing is sent anywhere. Recording (SHEETSYNC_VCR_RECORD=all) never contacts Google either:
requests go to the Sheets double served on loopback, and their URLs are rewritten back to
sheets.googleapis.com before they are written. Tokens are scrubbed; the credentials are fake. The
cassette is read and written with the one ``vcr_config`` fixture of conftest.py.
"""

from __future__ import annotations

from pathlib import Path

from sheets_double import FakeServiceAccountCredentials, LoopbackServer, SheetsDouble, price_workbook

from sheetsync.sinks.gsheets import write_workbooks

CASSETTES = Path(__file__).parent / "cassettes" / "gsheets"
SHEET_ID = "CASSETTE-SHEET-1"


def _to_google(request):
    """Loopback URLs as Google's, before recording."""
    if "127.0.0.1" in request.uri:
        path = request.uri.split("/", 3)[3]
        request.uri = f"https://sheets.googleapis.com/{path}"
    return request


def test_a_refresh_sends_exactly_the_pinned_requests(vcr_config, use_cassette) -> None:
    name = "refresh_price_list.json"
    recording = vcr_config["record_mode"] != "none"
    creds = FakeServiceAccountCredentials()
    server = None
    if recording:
        (CASSETTES / name).unlink(missing_ok=True)  # a fresh recording, never appended to the old one
        double = SheetsDouble()
        double.add_spreadsheet(SHEET_ID)
        server = LoopbackServer(double)
        session = server.session(creds)
    else:
        from google.auth.transport.requests import AuthorizedSession

        session = AuthorizedSession(creds)
    try:
        with use_cassette(
            CASSETTES / name,
            match_on=["method", "scheme", "host", "path", "query", "body"],
            before_record_request=_to_google,
        ) as cassette:
            stats = write_workbooks(SHEET_ID, [price_workbook(4)], credentials=creds, session=session)
    finally:
        if server is not None:
            server.stop()
    assert stats["api_calls"] == 2
    assert [(r.method, r.path) for r in cassette.requests] == [
        ("GET", f"/v4/spreadsheets/{SHEET_ID}"),
        ("POST", f"/v4/spreadsheets/{SHEET_ID}:batchUpdate"),
    ]
    if not recording:
        assert cassette.all_played
    text = (CASSETTES / name).read_text()
    assert "fake-access-token" not in text and "Bearer" not in text

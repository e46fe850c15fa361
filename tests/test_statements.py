"""statements build + send: PDFs printed by LibreOffice and read back, mail received by a local SMTP server."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from helpers_lo import soffice
from helpers_pdf import page_count, page_png, page_size, page_text, poppler
from local_servers import SmtpServer, smtp_server
from PIL import Image

from sheetsync.cli import cli
from sheetsync.cli.common import run_safely
from sheetsync.store import open_store

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(
        (soffice() is None or not poppler()) and not os.environ.get("CI"),
        reason="LibreOffice (soffice) or poppler-utils is not installed; CI installs them",
    ),
]

CUSTOMERS = "1,2,3"  # a few customers: printing is slow on a small machine
LETTER, A4 = (612.0, 792.0), (595.3, 841.9)
FORBIDDEN = ("Parameters", "Environment", "APIKeyID", "Generated")


@dataclass
class Outcome:
    exit_code: int
    output: str  # stdout and stderr


def invoke(*args: str, env: dict[str, str] | None = None) -> Outcome:
    """The command as a person runs it (errors as one line and an exit code), its output captured."""
    out = io.StringIO()
    with mock.patch.dict(os.environ, env or {}), redirect_stdout(out), redirect_stderr(out):
        code = run_safely(cli, list(args))
    return Outcome(code, out.getvalue())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Statements of three sandbox customers, printed once for the module (with the combined PDF)."""
    out = tmp_path_factory.mktemp("statements") / "out"
    result = invoke(
        "statements", "build", "--sandbox", "--pdf", str(out), "-p", f"customer_ids={CUSTOMERS}", "--combined"
    )
    assert result.exit_code == 0, result.output
    return out


def manifest(folder: Path) -> list[dict[str, Any]]:
    return json.loads((folder / "statements.json").read_text())["statements"]


@pytest.fixture
def pdfs(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built PDFs (a test may change them)."""
    folder = tmp_path / "out"
    folder.mkdir()
    for path in built.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def pdf_info(pdf: Path) -> dict[str, str]:
    import subprocess

    text = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


# ---- build ---------------------------------------------------------------------------------------


def test_one_pdf_per_customer_owing_named_by_customer_and_number(built: Path) -> None:
    entries = manifest(built)
    assert sorted(e["customer_id"] for e in entries) == [1, 2, 3]
    for entry in entries:
        assert entry["file"].endswith(f"-{entry['customer_id']}-{entry['statement_date']}.pdf")
        assert (built / entry["file"]).read_bytes().startswith(b"%PDF-")
    # sandbox customer 3 is "=Green Door Dispensary": no '=' (nor anything unsafe) in its file name
    names = {e["customer_id"]: e["file"] for e in entries}
    assert names[3].startswith("Green-Door-Dispensary-3-")
    assert (built / "statements-combined.pdf").exists()


def test_page_one_of_each_pdf_renders_and_reads_as_the_customers_statement(built: Path, tmp_path: Path) -> None:
    for entry in manifest(built):
        pdf = built / entry["file"]
        png = page_png(pdf, 1, tmp_path / f"{entry['customer_id']}.png", dpi=60)
        with Image.open(png) as image:
            assert image.size == (510, 660)  # Letter at 60 dpi
            assert image.convert("L").getextrema()[0] < 128  # not a blank page
        text = page_text(pdf, 1)
        assert entry["customer"].lstrip("=+") in text
        assert "Amount due" in text and "Remit to" in text
        due = f"{float(entry['amount_due']):,.2f}"
        assert due in text, (due, text[:800])
        assert f"Page 1 of {page_count(pdf)}" in text
        assert not [word for word in FORBIDDEN if word in text]
        assert page_size(pdf, 1) == pytest.approx(LETTER, abs=1)


def test_pdf_title_and_author_name_the_statement_and_sender_not_the_run(built: Path) -> None:
    entry = manifest(built)[0]
    info = pdf_info(built / entry["file"])
    assert info["Title"] == f"Statement {entry['statement_date']}: {entry['customer']}"
    assert info["Author"] == entry["company"] != ""
    assert "customer_ids" not in json.dumps(info) and "sandbox" not in json.dumps(info)


def test_combined_pdf_holds_every_statement_each_counting_its_own_pages(built: Path) -> None:
    combined = built / "statements-combined.pdf"
    singles = [built / e["file"] for e in manifest(built)]
    assert page_count(combined) == sum(page_count(p) for p in singles)
    assert "Page 1 of" in page_text(combined, page_count(singles[0]) + 1)


def test_a_build_without_combined_leaves_no_earlier_combined_pdf_behind(pdfs: Path) -> None:
    assert (pdfs / "statements-combined.pdf").exists()
    result = invoke("statements", "build", "--sandbox", "--pdf", str(pdfs), "-p", "customer_ids=2")
    assert result.exit_code == 0, result.output
    assert not (pdfs / "statements-combined.pdf").exists()
    assert [e["customer_id"] for e in manifest(pdfs)] == [2]


def test_a4_paper_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sheetsync.toml").write_text('[statements]\npaper = "A4"\n')
    monkeypatch.chdir(tmp_path)
    result = invoke("statements", "build", "--sandbox", "--pdf", "out", "-p", "customer_ids=2")
    assert result.exit_code == 0, result.output
    [entry] = manifest(tmp_path / "out")
    assert page_size(tmp_path / "out" / entry["file"], 1) == pytest.approx(A4, abs=1)


def test_unknown_paper_is_refused_before_anything_is_printed(tmp_path: Path) -> None:
    result = invoke(
        "statements", "build", "--sandbox", "--pdf", str(tmp_path / "out"), env={"SHEETSYNC_STATEMENTS_PAPER": "legal"}
    )
    assert result.exit_code == 2
    assert "[statements] paper is 'legal'; use one of letter, a4" in result.output
    assert not (tmp_path / "out").exists()


def test_file_names_are_safe_on_every_system() -> None:
    from sheetsync.statements.build import safe_file_stem

    assert safe_file_stem('=Café "Nord" / Süd: A*B?') == "Cafe-Nord-Sud-A-B"
    assert safe_file_stem("CON") == "customer-CON"
    assert safe_file_stem("...") == "customer"
    assert safe_file_stem("x" * 300) == "x" * 60


# ---- send ----------------------------------------------------------------------------------------


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path, refuse=frozenset({"nobody@pine.example"})) as server:
        yield server


def mail_env(server: SmtpServer, tmp_path: Path) -> dict[str, str]:
    return {
        "SHEETSYNC_SMTP_HOST": server.host,
        "SHEETSYNC_SMTP_PORT": str(server.port),
        "SHEETSYNC_SMTP_SECURITY": "none",
        "SHEETSYNC_SMTP_FROM": "ar@example.com",
        "SHEETSYNC_DB": str(tmp_path / "state.sqlite3"),
    }


def recipients(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "map.csv"
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("CustomerID", "To", "Cc"), *rows])
    return path


def sent_record(env: dict[str, str], key: str) -> Any:
    store = open_store(env["SHEETSYNC_DB"])
    try:
        return store.get("statements.sent", key)
    finally:
        store.close()


ADDRESSES = [("1", "ap@leaf.example", ""), ("2", "ap@pine.example", "owner@pine.example"), ("3", "ap@door.example", "")]


def test_each_customer_gets_its_statement_once(pdfs: Path, smtp: SmtpServer, tmp_path: Path) -> None:
    env = mail_env(smtp, tmp_path)
    mapping = recipients(tmp_path, ADDRESSES)
    first = invoke(
        "statements",
        "send",
        "--pdf",
        str(pdfs),
        "--recipients",
        str(mapping),
        "--bcc",
        "ar-box@example.com",
        "--apply",
        env=env,
    )
    assert first.exit_code == 0, first.output
    assert len(smtp.messages) == 3
    files = {e["customer_id"]: e for e in manifest(pdfs)}
    by_to = {m["To"]: m for m in smtp.messages}
    for customer, to, cc in ADDRESSES:
        message = by_to[to]
        entry = files[int(customer)]
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == entry["file"]
        assert attachment.get_content() == (pdfs / entry["file"]).read_bytes()
        assert entry["customer"] in message["Subject"] and entry["statement_date"] in message["Subject"]
        assert f"{float(entry['amount_due']):,.2f}" in message.get_body().get_content()
        assert (message["Cc"] or "") == cc
        assert "Bcc" not in message
    envelope = smtp.handler.recipients[[m["To"] for m in smtp.messages].index("ap@pine.example")]
    assert sorted(envelope) == ["ap@pine.example", "ar-box@example.com", "owner@pine.example"]

    again = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), "--apply", env=env)
    assert again.exit_code == 0, again.output
    assert len(smtp.messages) == 3  # nothing sent twice
    assert again.output.count("\n  already sent ") == 3 and "plan: 3 already sent" in again.output

    resent = invoke(
        "statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), "--resend", "2", "--apply", env=env
    )
    assert resent.exit_code == 0, resent.output
    assert [m["To"] for m in smtp.messages[3:]] == ["ap@pine.example"]
    record = sent_record(env, f"2|{files[2]['statement_date']}")
    assert record is not None and record.state == "sent" and record.attempts == 2


def test_plan_only_without_apply_names_who_has_no_address(pdfs: Path, smtp: SmtpServer, tmp_path: Path) -> None:
    env = mail_env(smtp, tmp_path)
    mapping = recipients(tmp_path, ADDRESSES[:2])
    result = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), env=env)
    assert result.exit_code == 0, result.output
    assert smtp.messages == []
    assert "no address" in result.output and "Green Door Dispensary (3)" in result.output
    assert (
        "send        Pine Cannabis (2)" in result.output and "-> ap@pine.example cc owner@pine.example" in result.output
    )
    assert "Nothing was sent" in result.output


def test_a_refused_recipient_is_recorded_and_the_others_still_go_out(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    env = mail_env(smtp, tmp_path)
    mapping = recipients(tmp_path, [ADDRESSES[0], ("2", "nobody@pine.example", ""), ADDRESSES[2]])
    result = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), "--apply", env=env)
    assert result.exit_code == 1, result.output
    assert sorted(m["To"] for m in smtp.messages) == ["ap@door.example", "ap@leaf.example"]
    assert "Pine Cannabis (2): failed:" in result.output and "nobody@pine.example" in result.output
    date = manifest(pdfs)[0]["statement_date"]
    record = sent_record(env, f"2|{date}")
    assert record is not None and record.state == "failed" and "nobody@pine.example" in record.data["error"]

    fixed = recipients(tmp_path, ADDRESSES)
    retry = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(fixed), "--apply", env=env)
    assert retry.exit_code == 0, retry.output
    assert [m["To"] for m in smtp.messages[2:]] == ["ap@pine.example"]  # only the one that failed


def test_test_to_sends_everything_to_one_address_and_records_nothing(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    env = mail_env(smtp, tmp_path)
    mapping = recipients(tmp_path, ADDRESSES)
    args = ("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping))
    result = invoke(*args, "--test-to", "me@example.com", "--bcc", "ar-box@example.com", "--apply", env=env)
    assert result.exit_code == 0, result.output
    assert [m["To"] for m in smtp.messages] == ["me@example.com"] * 3
    assert smtp.handler.recipients == [["me@example.com"]] * 3
    assert [m["Subject"].strip()[:7] for m in smtp.messages] == ["[TEST] "] * 3
    real = invoke(*args, "--apply", env=env)  # nothing was recorded: the real run sends all three
    assert real.exit_code == 0, real.output
    assert len(smtp.messages) == 6


def test_an_unfinished_send_is_unknown_and_goes_again_only_with_resend(
    pdfs: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    env = mail_env(smtp, tmp_path)
    date = manifest(pdfs)[0]["statement_date"]
    store = open_store(env["SHEETSYNC_DB"])  # what a process killed during the SMTP transaction leaves:
    store.put("statements.sent", f"1|{date}", "sending", {"to": ["ap@leaf.example"]})
    store.close()
    mapping = recipients(tmp_path, ADDRESSES)
    args = ("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), "--apply")
    result = invoke(*args, env=env)
    assert "UNKNOWN     Green Leaf Dispensary (1)" in result.output and "--resend 1" in result.output
    assert sorted(m["To"] for m in smtp.messages) == ["ap@door.example", "ap@pine.example"]
    resent = invoke(*args, "--resend", "1", env=env)
    assert resent.exit_code == 0, resent.output
    assert [m["To"] for m in smtp.messages[2:]] == ["ap@leaf.example"]


def test_a_pdf_changed_after_the_build_is_refused(pdfs: Path, smtp: SmtpServer, tmp_path: Path) -> None:
    entry = manifest(pdfs)[0]
    (pdfs / entry["file"]).write_bytes(b"%PDF-1.4 something else")
    mapping = recipients(tmp_path, ADDRESSES)
    result = invoke(
        "statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), "--apply", env=mail_env(smtp, tmp_path)
    )
    assert result.exit_code == 2
    assert "changed since it was built" in result.output
    assert smtp.messages == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("1", "not-an-address", "")], "map.csv row 2 To: 'not-an-address' is not an e-mail address"),
        ([("Kettle", "ap@x.example", "")], "map.csv row 2 CustomerID: 'Kettle' is not a customer number"),
        ([("1", "ap@x.example", "a@b.example; c@")], "map.csv row 2 Cc: 'c@' is not an e-mail address"),
    ],
)
def test_bad_recipients_files_are_one_line_naming_the_row(
    pdfs: Path, tmp_path: Path, rows: list[tuple[str, str, str]], message: str
) -> None:
    result = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(recipients(tmp_path, rows)))
    assert result.exit_code == 2
    assert message in result.output


def test_recipients_from_an_xlsx_file(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from sheetsync.statements.recipients import read_recipients

    book = Workbook()
    book.active.append(["Customer ID", "to", "CC"])
    book.active.append([12.0, "ap@a.example, ap2@a.example", "boss@a.example"])
    book.save(tmp_path / "map.xlsx")
    [(customer, who)] = read_recipients(tmp_path / "map.xlsx").items()
    assert (customer, who.to, who.cc) == (12, ["ap@a.example", "ap2@a.example"], ["boss@a.example"])


def test_recipients_from_the_api_are_buyers_and_the_plan_says_so(pdfs: Path, tmp_path: Path) -> None:
    result = invoke("statements", "send", "--pdf", str(pdfs), "--recipients-from-api", "--sandbox")
    assert result.exit_code == 0, result.output
    assert "buyers, not necessarily billing contacts" in result.output
    assert "@example.com" in result.output


def test_a_bad_template_placeholder_is_refused(pdfs: Path, tmp_path: Path) -> None:
    mapping = recipients(tmp_path, ADDRESSES)
    env = {"SHEETSYNC_STATEMENTS_SUBJECT": "Statement for {name}"}
    result = invoke("statements", "send", "--pdf", str(pdfs), "--recipients", str(mapping), env=env)
    assert result.exit_code == 2
    assert "[statements] subject: unknown placeholder {name}; use {customer}" in result.output


# ---- the mailer under statements -------------------------------------------------------------------


def test_deliver_names_refused_recipients_while_the_others_receive_it(smtp: SmtpServer) -> None:
    from sheetsync.errors import DeliveryError
    from sheetsync.mailer import Mail, SmtpSettings, deliver

    settings = SmtpSettings(smtp.host, smtp.port, security="none", sender="ar@example.com")
    mail = Mail(to=["ap@pine.example", "nobody@pine.example"], subject="s", body="b", bcc=["box@example.com"])
    delivery = deliver(settings, mail)
    assert list(delivery.refused) == ["nobody@pine.example"] and "550" in delivery.refused["nobody@pine.example"]
    assert smtp.handler.recipients == [["ap@pine.example", "box@example.com"]]
    with pytest.raises(DeliveryError, match=r"recipients refused: nobody@pine\.example") as refused:
        deliver(settings, Mail(to=["nobody@pine.example"], subject="s", body="b"))
    assert refused.value.delivered is False

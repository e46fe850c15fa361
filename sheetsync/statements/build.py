"""The ar-aging statements, one workbook per customer, printed to PDF by LibreOffice headless.

soffice exits 0 even when it fails to convert a file, so every expected PDF is checked (present,
starting with %PDF) before anything is moved into the output directory; each run uses a user profile
of its own so parallel runs and a desktop LibreOffice do not interfere. Paper size (A4 or Letter,
`[statements] paper`), the PDF title and author are set in the workbook package before printing.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from sheetsync.config import Settings
from sheetsync.errors import ConfigError, RenderError
from sheetsync.model import Workbook

MANIFEST = "statements.json"
COMBINED = "statements-combined.pdf"
PAPER_SIZES = {"letter": 1, "a4": 9}  # OOXML paperSize codes
SOFFICE_SECONDS = 120.0
SOFFICE_SECONDS_PER_FILE = 15.0
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


@dataclass(frozen=True)
class StatementPdf:
    """One customer's statement as printed: `file` is a name inside the PDF directory."""

    customer_id: int
    customer: str
    statement_date: str  # YYYY-MM-DD, the as-of date printed on the statement
    amount_due: str  # decimal text, e.g. "1234.50"
    file: str
    sha256: str
    company: str = ""  # the sender printed on the statement (`[company] name`)

    @property
    def key(self) -> str:
        """The identity of this statement in the send log: customer and statement date."""
        return f"{self.customer_id}|{self.statement_date}"


def build_statements(
    connections: Any,
    out_dir: Path,
    *,
    params: Mapping[str, str],
    settings: Settings,
    combined: bool = False,
) -> list[StatementPdf]:
    """Run ar-aging with `params` (text, as `-p` gives them), print each customer's statement to
    `out_dir/<Name>-<ID>-<date>.pdf` (and all of them to statements-combined.pdf when `combined`) and
    write the manifest. RenderError when LibreOffice is missing or fails; nothing is moved into
    `out_dir` unless every PDF was printed."""
    from sheetsync.definition import find_definition, resolve_params
    from sheetsync.report import run_report

    paper = paper_size(settings.statements_paper)
    require_sender(connections)
    definition = find_definition("ar-aging")
    values = resolve_params(definition, {**params, "burst": "true"})
    result = run_report(definition, values, connections, progress=False)
    statements = [w for w in (_statements_only(w) for w in result.workbooks) if w.tabs]
    entries = [_describe(w) for w in statements]
    books = [_with_name(w, entry["stem"]) for w, entry in zip(statements, entries, strict=True)]
    titles = [f"Statement {e['statement_date']}: {e['customer']}" for e in entries]
    authors = [e["company"] or "sheetsync" for e in entries]
    if combined and books:
        books.append(_combined(statements, COMBINED.removesuffix(".pdf")))
        titles.append("Statements")
        authors.append(authors[0])
    with tempfile.TemporaryDirectory(prefix="sheetsync-statements-") as tmp:
        work = Path(tmp)
        xlsx = _write_books(books, work / "xlsx")
        for path, title, author in zip(xlsx, titles, authors, strict=True):
            set_print_properties(path, paper=paper, title=title, author=author)
        pdfs = print_to_pdf(xlsx, work / "pdf") if xlsx else []
        return _publish(entries, pdfs, out_dir)


def paper_size(name: str | None) -> int:
    """The OOXML paper size code of `[statements] paper`; ConfigError for anything but a4 or letter."""
    key = (name or "letter").strip().lower()
    if key not in PAPER_SIZES:
        raise ConfigError(f"[statements] paper is {name!r}; use one of {', '.join(PAPER_SIZES)}")
    return PAPER_SIZES[key]


def require_sender(connections: Any) -> None:
    """ConfigError unless `[company]` names the sender and where to pay: a statement a customer receives
    must say who it is from and carry a remit-to address (the sandbox has a placeholder company)."""
    from sheetsync.report import company_of

    company = company_of(connections)
    if company is None or not [line for line in company.remit_to if line != company.name]:
        lack = "name" if company is None else "remit-to address"
        raise ConfigError(
            f"[company] has no {lack}: a statement sent to a customer must say who it is from and where to pay; "
            "set [company] name and remit_to (or address) in sheetsync.toml, or SHEETSYNC_COMPANY_NAME and "
            "SHEETSYNC_COMPANY_REMIT_TO"
        )


def safe_file_stem(text: str, limit: int = 60) -> str:
    """`text` as a file name part valid on Windows, macOS and Linux: ASCII letters, digits, '.', '_'
    and '-' only, no leading/trailing dots or dashes, not a reserved device name, at most `limit` long."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._]+", "-", ascii_text).strip("-._")[:limit].strip("-._")
    if not stem or stem.lower().split(".")[0] in _WINDOWS_RESERVED:
        stem = f"customer-{stem}" if stem else "customer"
    return stem


def print_to_pdf(paths: list[Path], out_dir: Path) -> list[Path]:
    """Each workbook printed to `out_dir/<stem>.pdf` by one headless LibreOffice run with its own profile.
    RenderError naming the files that did not come out as PDFs."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        raise RenderError("LibreOffice (soffice) is not installed: it prints the statements to PDF")
    out_dir.mkdir(parents=True, exist_ok=True)
    timeout = SOFFICE_SECONDS + SOFFICE_SECONDS_PER_FILE * len(paths)
    with tempfile.TemporaryDirectory(prefix="sheetsync-lo-profile-") as profile:
        command = [binary, "--headless", "--norestore", "--nologo", f"-env:UserInstallation={Path(profile).as_uri()}"]
        command += ["--convert-to", "pdf", "--outdir", str(out_dir), *map(str, paths)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise RenderError(
                f"LibreOffice did not finish printing {len(paths)} statements in {timeout:.0f} s"
            ) from None
    pdfs = [out_dir / f"{path.stem}.pdf" for path in paths]
    bad = [p.name for p in pdfs if not _is_pdf(p)]
    if bad:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = f": {detail[-1][:200]}" if detail else ""
        raise RenderError(f"LibreOffice did not print {', '.join(bad)} (exit {done.returncode}){reason}")
    return pdfs


def set_print_properties(path: Path, *, paper: int, title: str, author: str) -> None:
    """Set every sheet's paper size and the document title and author (which LibreOffice copies into the
    PDF) by editing the package's XML, so nothing else of the written workbook changes."""
    source = path.with_suffix(".orig.xlsx")
    path.rename(source)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'paperSize="\d+"', b'paperSize="%d"' % paper, data)
            elif item.filename == "docProps/core.xml":
                data = _core_properties(data, title, author)
            new.writestr(item, data)
    source.unlink()


def load_manifest(pdf_dir: Path) -> list[StatementPdf]:
    """The statements a build wrote into `pdf_dir`; ConfigError when there is no manifest."""
    path = pdf_dir / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found: build the statements first (sheetsync statements build --pdf DIR)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    return [StatementPdf(**entry) for entry in raw["statements"]]


def _statements_only(workbook: Workbook) -> Workbook:
    return Workbook(workbook.name, [t for t in workbook.tabs if t.statement is not None], workbook.about)


def _with_name(workbook: Workbook, name: str) -> Workbook:
    return Workbook(name, workbook.tabs, workbook.about)


def _combined(workbooks: list[Workbook], name: str) -> Workbook:
    tabs, seen = [], set[str]()
    for workbook in workbooks:
        for tab in workbook.tabs:
            if tab.name.casefold() in seen:
                tab = _renamed(tab, f"{tab.name[:24]} {len(seen)}")
            seen.add(tab.name.casefold())
            tabs.append(tab)
    return Workbook(name, tabs, workbooks[0].about)


def _renamed(tab: Any, name: str) -> Any:
    from dataclasses import replace

    return replace(tab, name=name)


def _describe(workbook: Workbook) -> dict[str, Any]:
    """Customer, number, statement date and amount due of a one-statement workbook, and its file stem."""
    statement = workbook.tabs[0].statement
    assert statement is not None
    facts = dict(statement.facts)
    customer_id = int(str(facts["Account"]))
    customer = statement.customer[0] if statement.customer else f"Customer {customer_id}"
    statement_date = str(facts.get("Statement date", ""))[:10]
    amount = statement.amount_due
    stem = f"{safe_file_stem(customer)}-{customer_id}-{statement_date}"
    return {
        "customer_id": customer_id,
        "customer": customer,
        "statement_date": statement_date,
        "amount_due": f"{amount:.2f}" if amount is not None else "0.00",
        "company": statement.company.name if statement.company is not None else "",
        "stem": stem,
    }


def _write_books(books: list[Workbook], directory: Path) -> list[Path]:
    from sheetsync.sinks.targets import DirectoryTarget, write_outputs

    directory.mkdir(parents=True)
    if not books:
        return []
    write_outputs([DirectoryTarget(directory)], books, force=True)
    paths = [directory / f"{book.name}.xlsx" for book in books]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise RenderError(f"statement workbooks not written: {', '.join(missing)}")
    return paths


def _publish(entries: list[dict[str, Any]], pdfs: list[Path], out_dir: Path) -> list[StatementPdf]:
    """Move the printed PDFs into `out_dir` and write the manifest (last, so it names only what is there)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for entry, pdf in zip(entries, pdfs, strict=False):
        target = out_dir / pdf.name
        shutil.move(pdf, target)
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        fields = {k: v for k, v in entry.items() if k != "stem"}
        built.append(StatementPdf(**fields, file=target.name, sha256=digest))
    for extra in pdfs[len(entries) :]:
        shutil.move(extra, out_dir / extra.name)
    if len(pdfs) == len(entries):  # no combined PDF this time: an earlier one no longer matches
        (out_dir / COMBINED).unlink(missing_ok=True)
    manifest = {"statements": [asdict(s) for s in built]}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return built


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"%PDF-"
    except OSError:
        return False


def _core_properties(xml: bytes, title: str, author: str) -> bytes:
    """The workbook's core properties for a customer: title and author; the run metadata the report put
    in subject, description and keywords (parameters, environment) stays out of the customer's PDF."""
    text = xml.decode("utf-8")
    values = {"dc:title": title, "dc:creator": author, "dc:subject": "Statement of account"}
    for tag in ("dc:title", "dc:creator", "dc:subject", "dc:description", "cp:keywords"):
        text = re.sub(rf"<{tag}\b[^>]*?(/>|>.*?</{tag}>)", "", text, flags=re.S)
    dc = 'xmlns:dc="http://purl.org/dc/elements/1.1/"'
    added = "".join(f"<{tag} {dc}>{escape(value)}</{tag}>" for tag, value in values.items())
    return text.replace("</cp:coreProperties>", f"{added}</cp:coreProperties>").encode("utf-8")

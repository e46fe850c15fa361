"""Print workbooks the way a person does: LibreOffice headless to PDF, poppler to page images and text."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers_lo import SOFFICE_TIMEOUT, soffice


def poppler() -> bool:
    return all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdfinfo"))


def to_pdf(paths: list[Path], out_dir: Path) -> list[Path]:
    """Each workbook printed to a PDF in `out_dir`, by LibreOffice with a user profile of its own."""
    binary = soffice()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        command = [
            binary,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, paths),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT, check=False)
    pdfs = [out_dir / f"{path.stem}.pdf" for path in paths]
    missing = [p.name for p in pdfs if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not print {missing} (exit {result.returncode}): {result.stderr[:300]}")
    return pdfs


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def page_size(pdf: Path, page: int) -> tuple[float, float]:
    """(width, height) of a page in points."""
    info = subprocess.run(
        ["pdfinfo", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(rf"Page\s+{page} size:\s+([\d.]+) x ([\d.]+)", info)
    assert match, info
    return float(match.group(1)), float(match.group(2))


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def page_png(pdf: Path, page: int, out: Path, dpi: int = 100) -> Path:
    """The page rendered to a PNG at `dpi` (look at it: it is what a controller signs)."""
    stem = out.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(stem)],
        check=True,
    )
    return stem.with_suffix(".png")


@dataclass(frozen=True)
class Word:
    text: str
    x: float
    y: float
    height: float  # points


def page_words(pdf: Path, page: int) -> list[Word]:
    """The words of a page with their boxes (pdftotext -bbox), in points from the top left."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = []
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>'
    for x, y0, y1, text in re.findall(pattern, html):
        out.append(Word(text, float(x), float(y0), float(y1) - float(y0)))
    return out

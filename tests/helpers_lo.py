"""Open a workbook in LibreOffice (headless) and save it again, so formulas get calculated values."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SOFFICE_TIMEOUT = 120


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def recalculate_with_libreoffice(
    path: Path, out_dir: Path, *, timeout: float = SOFFICE_TIMEOUT, recalculate_on_load: bool = False
) -> Path:
    """Convert `path` to xlsx in `out_dir` with headless LibreOffice and return the new file.

    soffice exits 0 even when it cannot load a file, so success means the output exists. Each call
    uses its own user profile, so parallel runs and a desktop LibreOffice do not interfere.
    `recalculate_on_load` makes LibreOffice recalculate every formula on load, as Excel does for a
    workbook flagged fullCalcOnLoad (LibreOffice's default keeps the cached values of xlsx files)."""
    binary = soffice()
    if binary is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / (path.stem + ".xlsx")
    if target.resolve() == path.resolve():
        raise ValueError("out_dir must differ from the input's directory")
    target.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        if recalculate_on_load:
            settings = Path(profile) / "user" / "registrymodifications.xcu"
            settings.parent.mkdir(parents=True)
            settings.write_text(RECALC_ALWAYS)
        command = [
            binary,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out_dir),
            str(path),
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if not target.exists():
        raise RuntimeError(
            f"LibreOffice did not convert {path.name} (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[:500]}"
        )
    return target

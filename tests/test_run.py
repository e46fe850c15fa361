"""sheetsync/run.py, the one library function each of `run` and `demo` calls, and the typed seams under it
(Connections, the run summary's request counts): no command reaches into a client's private parts."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from sheetsync.config import load_settings
from sheetsync.connect import open_connections
from sheetsync.errors import SinkError
from sheetsync.run import RunRequest, run

PACKAGE = Path(__file__).parent.parent / "sheetsync"


@pytest.fixture
def settings(sandbox, monkeypatch: pytest.MonkeyPatch):
    """Settings pointing at the shared session sandbox, so its request log shows what a run sent."""
    monkeypatch.setenv("KSS_BASE_URL", sandbox.info.kss)
    monkeypatch.setenv("KSS_API_KEY", sandbox.info.keys["employee"])
    return load_settings()


def test_a_run_checks_fetches_writes_and_counts_what_the_sandbox_received(sandbox, settings, tmp_path) -> None:
    out = tmp_path / "prices.xlsx"
    before = len(sandbox.requests_log())
    outcome = run(RunRequest("price-list", {"customer_ids": "1,2"}, [str(out)]), settings)
    received = Counter(r["path"].rsplit("/", 1)[-1] for r in sandbox.requests_log()[before:])
    assert outcome.summary["requests"] == dict(received)
    assert outcome.summary["outputs"] == [str(out)] and outcome.exit_code == 0
    assert [ws.title for ws in openpyxl.load_workbook(out).worksheets] == [
        t["name"] for t in outcome.summary["workbooks"][0]["tabs"]
    ]


def test_a_bad_output_is_refused_before_any_request(sandbox, settings, tmp_path) -> None:
    before = len(sandbox.requests_log())
    with pytest.raises(SinkError, match=r"prices\.txt"):
        run(RunRequest("price-list", {"customer_ids": "1"}, [str(tmp_path / "prices.txt")]), settings)
    assert len(sandbox.requests_log()) == before


def test_connections_report_only_the_clients_a_run_used(settings) -> None:
    with open_connections(settings) as connections:
        assert connections.built("kss") is None and connections.request_stats("kss") is None
        connections.kss.get_all("states")
        stats = connections.request_stats("kss")
        assert connections.built("kss") is connections.kss and stats is not None
        assert stats.as_dict()["states"]["requests"] == 1
        assert connections.built("kotis") is None


SEAMS = [*sorted((PACKAGE / "cli").glob("*.py")), *(PACKAGE / n for n in ("run.py", "report.py", "fetch.py"))]


@pytest.mark.parametrize("path", SEAMS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_commands_and_the_run_import_no_private_names_and_read_no_private_attributes(path: Path) -> None:
    tree = ast.parse(path.read_text())
    private_imports = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sheetsync")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    private_getattrs = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "getattr"
        and len(node.args) > 1
        and _private_name(node.args[1])
    ]
    assert private_imports == [] and private_getattrs == []


def _private_name(node: ast.expr) -> bool:
    """ "_x" or f"_{x}" (a dunder is not private)."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    text = str(node.value) if isinstance(node, ast.Constant) else ""
    return text.startswith("_") and not text.startswith("__")

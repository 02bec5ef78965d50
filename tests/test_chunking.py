from pathlib import Path

from ingest.chunking import chunk_document
from ingest.cleaning import clean_pages
from ingest.documents import DocumentInfo, Page
from ingest.loaders import load_pages
from ingest.manifest import discover
from ingest.text import sentence_spans
from tests.conftest import CORPUS
from tests.pdfs import write_pdf

MAX = 900


def _corpus_chunks():
    for info in discover(CORPUS):
        cleaned = clean_pages(load_pages(info.path))
        yield info, cleaned, chunk_document(info, cleaned, MAX)


def test_every_chunk_is_a_verbatim_slice_with_its_document_metadata() -> None:
    for info, cleaned, chunks in _corpus_chunks():
        assert chunks, info.doc_id
        for chunk in chunks:
            assert cleaned.text[chunk.start : chunk.end] == chunk.text
            assert (chunk.doc_id, chunk.title, chunk.scope, chunk.kind) == (
                info.doc_id,
                info.title,
                info.scope,
                info.kind,
            )


def test_no_chunk_straddles_sections_or_cuts_a_sentence() -> None:
    for _, cleaned, chunks in _corpus_chunks():
        for chunk in chunks:
            assert len(chunk.text) <= MAX or len(sentence_spans(chunk.text)) == 1
            # The chunk starts and ends on sentence boundaries of the cleaned text.
            boundaries = {s for s, _ in sentence_spans(cleaned.text)} | {e for _, e in sentence_spans(cleaned.text)}
            assert chunk.start in boundaries and chunk.end in boundaries, chunk.text[:60]


def test_manual_sections_follow_its_numbered_headings() -> None:
    chunks = next(c for i, _, c in _corpus_chunks() if i.doc_id == "hf-manual")
    sections = {c.section for c in chunks}
    assert (
        "4. De specialiserede støttemetoder › 4.4. ICM – Intensive Case Management › 4.4.2. Målgruppen for ICM-metoden"
        in sections
    )
    assert "2. Kerneprincipperne i Housing First › 2.5. Adskillelse af bolig og støttetilbud" in sections
    # The numbered items of 3.2 (5.–13.) are list items, not chapters.
    assert not any(s.startswith(("5.", "13.")) for s in sections)
    complaint = [c for c in chunks if "Ankestyrelsen" in c.text]
    assert all(not c.section.startswith("Bilag") for c in complaint)


def test_quality_standard_sections_are_its_label_rows() -> None:
    chunks = next(c for i, _, c in _corpus_chunks() if i.doc_id == "norddjurs-kvalitetsstandard")
    by_section = {c.section: c.text for c in chunks}
    assert "Klage og ankemuligheder" in by_section
    assert "inden 4 uger" in by_section["Klage og ankemuligheder"]
    assert "Ankestyrelsen" not in by_section["Lovgrundlag"]


def test_pdf_chunks_know_their_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "standard.pdf")
    info = DocumentInfo(doc_id="pdf", title="Standard", path=path)
    chunks = chunk_document(info, clean_pages(load_pages(path)), MAX)
    pages = {c.section: c.page for c in chunks}
    assert pages == {"1. Målgruppe": 1, "2. Klage": 2, "3. Økonomi": 3}


def test_long_sections_are_split_between_sentences() -> None:
    sentence = "Borgeren tilbydes en selvstændig bolig i almindeligt byggeri og samtidig individuel støtte. "
    text = "1.1. Formål\n\n" + sentence * 30 + "\n\n1.2. Målgruppe\n\nBorgere i hjemløshed."
    info = DocumentInfo(doc_id="x", title="X", path=Path("x.txt"))
    chunks = chunk_document(info, clean_pages([Page(None, text)]), 300)
    purpose = [c for c in chunks if c.section == "1.1. Formål"]
    assert len(purpose) == 10
    assert all(c.text.count("Borgeren") == 3 and c.text.endswith("støtte.") for c in purpose)
    assert [c.text for c in chunks if c.section == "1.2. Målgruppe"] == ["Borgere i hjemløshed."]

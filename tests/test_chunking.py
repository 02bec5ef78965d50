import time
from pathlib import Path

import pytest

from hfa_settings import Settings
from ingest.chunking import chunk_document
from ingest.cleaning import clean_pages
from ingest.documents import DocumentInfo, Page
from ingest.loaders import load_pages
from ingest.manifest import discover
from ingest.text import sentence_spans
from tests.conftest import CORPUS
from tests.pdfs import write_pdf

MAX = 900
HARD = Settings().chunk_hard_max_chars


def _corpus_chunks():
    for info in discover(CORPUS):
        cleaned = clean_pages(load_pages(info.path))
        yield info, cleaned, chunk_document(info, cleaned, MAX, HARD)


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
    chunks = chunk_document(info, clean_pages(load_pages(path)), MAX, HARD)
    pages = {c.section: c.page for c in chunks}
    assert pages == {"1. Målgruppe": 1, "2. Klage": 2, "3. Økonomi": 3}


def test_long_sections_are_split_between_sentences() -> None:
    sentence = "Borgeren tilbydes en selvstændig bolig i almindeligt byggeri og samtidig individuel støtte. "
    text = "1.1. Formål\n\n" + sentence * 30 + "\n\n1.2. Målgruppe\n\nBorgere i hjemløshed."
    info = DocumentInfo(doc_id="x", title="X", path=Path("x.txt"))
    chunks = chunk_document(info, clean_pages([Page(None, text)]), 300, HARD)
    purpose = [c for c in chunks if c.section == "1.1. Formål"]
    assert len(purpose) == 10
    assert all(c.text.count("Borgeren") == 3 and c.text.endswith("støtte.") for c in purpose)
    assert [c.text for c in chunks if c.section == "1.2. Målgruppe"] == ["1.2. Målgruppe\n\nBorgere i hjemløshed."]


def _run_on_chunks(text: str) -> tuple[str, list]:
    info = DocumentInfo(doc_id="run-on", title="Run-on", path=Path("run-on.txt"))
    cleaned = clean_pages([Page(None, text)])
    return cleaned.text, chunk_document(info, cleaned, MAX, HARD)


def test_run_on_text_is_cut_at_whitespace_below_the_hard_limit() -> None:
    # Text extracted without punctuation or line breaks: 155 KB that would otherwise be one chunk.
    words = "borgeren får støtte i egen bolig efter § 85 a og klagefristen er fire uger på ærø "
    text, chunks = _run_on_chunks(words * (155_000 // len(words)))
    assert len(chunks) > 155_000 // HARD
    assert all(len(c.text) <= HARD for c in chunks)
    assert all(len(c.text) > HARD // 2 for c in chunks[:-1])
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and (chunk.end == len(text) or text[chunk.end].isspace())
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_text_without_any_whitespace_is_cut_exactly_at_the_hard_limit() -> None:
    text, chunks = _run_on_chunks("æøå" * 2000)
    assert [len(c.text) for c in chunks] == [HARD, HARD, 2000]
    assert "".join(c.text for c in chunks) == text


def test_a_10_mb_line_is_chunked_in_seconds_with_bounded_chunks() -> None:
    base = " ".join((CORPUS / "norddjurs-kvalitetsstandard.txt").read_text(encoding="utf-8").split()) + " "
    line = (base * (10_000_000 // len(base) + 1))[:10_000_000]
    started = time.perf_counter()
    _, chunks = _run_on_chunks(line)
    elapsed = time.perf_counter() - started
    assert max(len(c.text) for c in chunks) <= HARD
    assert elapsed < 30, elapsed


def test_a_hard_limit_below_the_chunk_size_names_both_settings() -> None:
    info = DocumentInfo(doc_id="x", title="X", path=Path("x.txt"))
    with pytest.raises(ValueError, match="chunk_hard_max_chars .*chunk_max_chars"):
        chunk_document(info, clean_pages([Page(None, "Tekst.")]), 900, 500)

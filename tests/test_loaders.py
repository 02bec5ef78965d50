from pathlib import Path

import pytest
from docx import Document

from ingest.loaders import LoadError, load_pages
from tests.pdfs import write_blank_pdf, write_pdf


def test_pdf_is_read_one_page_at_a_time_with_danish_letters(tmp_path: Path) -> None:
    pages = load_pages(write_pdf(tmp_path / "kvalitetsstandard.pdf"))
    assert [p.number for p in pages] == [1, 2, 3]
    assert "§ 85 a" in pages[0].text
    assert "4 uger" in pages[1].text and "4 uger" not in pages[0].text
    assert "Økonomi" in pages[2].text and "1,5 mio. kr." in pages[2].text


def test_text_and_markdown_are_one_page_without_number(tmp_path: Path) -> None:
    for name in ("a.txt", "b.md"):
        (tmp_path / name).write_text("Bostøtte efter § 85 a.", encoding="utf-8")
        assert [(p.number, p.text) for p in load_pages(tmp_path / name)] == [(None, "Bostøtte efter § 85 a.")]


def test_docx_paragraphs_are_read(tmp_path: Path) -> None:
    document = Document()
    document.add_paragraph("Målgruppe")
    document.add_paragraph("Borgere i hjemløshed får støtte i egen bolig.")
    document.save(tmp_path / "standard.docx")
    (page,) = load_pages(tmp_path / "standard.docx")
    assert page.text == "Målgruppe\n\nBorgere i hjemløshed får støtte i egen bolig."


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("krypteret.pdf", lambda p: write_pdf(p, password="hemmelig"), "krypteret"),
        ("tom.pdf", write_blank_pdf, "ingen tekst"),
        ("ødelagt.pdf", lambda p: p.write_bytes(b"%PDF-1.7\n garbage \x00\x01"), "kan ikke læses"),
        ("latin1.txt", lambda p: p.write_bytes("Bostøtte".encode("latin-1")), "UTF-8"),
        ("tom.txt", lambda p: p.write_text("  \n\n", encoding="utf-8"), "ingen tekst"),
        ("regneark.xlsx", lambda p: p.write_bytes(b"PK"), "understøttes ikke"),
    ],
)
def test_unreadable_files_name_the_file_and_the_reason(tmp_path: Path, name: str, make, reason: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(LoadError) as error:
        load_pages(path)
    assert name in str(error.value)
    assert reason in error.value.reason

from pathlib import Path

import pytest
from docx import Document

from ingest.loaders import LoadError, load_pages
from tests.pdfs import write_blank_pdf, write_owner_locked_pdf, write_pdf

DANISH = "Bostøtte på Ærø efter § 85 a: klagefristen er 4 uger – også for Åbenrå."


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
        ("utf16-uden-bom.txt", lambda p: p.write_bytes("Bostøtte".encode("utf-16-le")), "UTF-16 uden byte-order-mark"),
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


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),  # Notepad's "UTF-8 med BOM"
        ("cp1252", b""),  # Windows export ("ANSI"): the en dash is 0x96
        ("utf-16-le", b"\xff\xfe"),  # Notepad's "Unicode"
        ("utf-16-be", b"\xfe\xff"),
    ],
)
def test_windows_text_exports_are_read_with_danish_letters(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "vejledning.txt"
    path.write_bytes(prefix + DANISH.encode(encoding))
    assert [(p.number, p.text) for p in load_pages(path)] == [(None, DANISH)]


def test_latin1_text_is_read_with_danish_letters(tmp_path: Path) -> None:
    text = "Bostøtte på Ærø efter § 85 a; støtten gives i egen bolig."
    path = tmp_path / "latin1.txt"
    path.write_bytes(text.encode("latin-1"))
    assert load_pages(path)[0].text == text


@pytest.mark.parametrize("method", ["RC4", "AES_128", "AES_256"])
def test_pdf_locked_only_by_an_owner_password_is_read(tmp_path: Path, method: str) -> None:
    pages = load_pages(write_owner_locked_pdf(tmp_path / "låst.pdf", method))
    assert [p.number for p in pages] == [1, 2, 3]
    assert "§ 85 a" in pages[0].text and "Økonomi" in pages[2].text

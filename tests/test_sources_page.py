"""The "Kilder" page driven headless with AppTest over a small real index: read-only, login, upload."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.admin import hash_password
from hfa_settings import PROJECT_ROOT
from ingest.index import Catalog
from tests import small_corpus
from tests.pdfs import SYDDJURS_PAGES, write_blank_pdf, write_pdf

PAGE = str(PROJECT_ROOT / "app_pages" / "sources.py")
PASSWORD = "kilder-admin-2025"
TIMEOUT = 180


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Path:
    return small_corpus.build(tmp_path_factory.mktemp("sources"), embeddings)


@pytest.fixture()
def settings(template, tmp_path, monkeypatch):
    settings = small_corpus.copy(template, tmp_path)
    monkeypatch.setenv("HFA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HFA_CORPUS_DIR", str(settings.corpus_dir))
    return settings


@pytest.fixture()
def with_password(settings, monkeypatch):
    monkeypatch.setenv("HFA_ADMIN_PASSWORD_HASH", hash_password(PASSWORD))
    return settings


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _log_in(at: AppTest, password: str) -> AppTest:
    next(t for t in at.text_input if t.label == "Adgangskode").set_value(password)
    return _button(at, "Log ind").click().run()


def _upload(at: AppTest, name: str, data: bytes, **fields: str) -> AppTest:
    at.file_uploader[0].set_value((name, data, "application/pdf"))
    for label, value in fields.items():
        next(t for t in at.text_input if t.label == label).set_value(value)
    return _button(at, "Tilføj og indlæs").click().run()


SYDDJURS_FIELDS = {
    "Titel": "Kvalitetsstandard for bostøtte, Syddjurs",
    "Udgiver": "Syddjurs Kommune",
    "Gælder for (scope)": "syddjurs",
    "Dokumenttype": "kvalitetsstandard",
}


def test_without_a_password_hash_the_page_lists_the_documents_and_says_how_to_enable_changes(settings) -> None:
    at = _page()
    assert at.title[0].value == "Kilder"
    assert "hfa admin-password" in at.info[0].value and "HFA_ADMIN_PASSWORD_HASH" in at.info[0].value
    table = at.dataframe[0].value
    assert list(table["Titel"]) == ["Kvalitetsstandard: Bostøtte efter Housing first-tilgangen"]
    assert list(table["Udgiver"]) == ["Norddjurs Kommune"] and list(table["Dato"]) == ["2024-04-24"]
    assert table["Afsnit"][0] == len(
        Catalog.load(settings.index_dir).documents["norddjurs-kvalitetsstandard"].chunk_ids
    )
    assert table["Indlæst"][0].count(".") == 2  # a date, 06.12.2026 15:41
    assert not at.file_uploader and not at.text_input
    assert not [b for b in at.button if b.label == "Fjern dokumentet"]


def test_a_wrong_password_offers_no_changes(with_password) -> None:
    at = _log_in(_page(), "forkert-kode")
    assert [e.value for e in at.error] == ["Forkert adgangskode."]
    assert not at.file_uploader
    assert not [b for b in at.button if b.label == "Fjern dokumentet"]


def test_the_administrator_uploads_a_pdf_with_progress_and_a_bad_upload_changes_nothing(
    with_password, tmp_path
) -> None:
    settings = with_password
    at = _log_in(_page(), PASSWORD)
    assert at.file_uploader and [b for b in at.button if b.label == "Fjern dokumentet"]
    manifest = (settings.corpus_dir / "manifest.toml").read_bytes()

    scan = write_blank_pdf(tmp_path / "scan.pdf").read_bytes()
    at = _upload(at, "scan.pdf", scan, **SYDDJURS_FIELDS)
    assert "scan.pdf kan ikke tilføjes" in at.error[0].value and "OCR" in at.error[0].value
    at = _upload(at, "../Syddjurs.pdf", write_pdf(tmp_path / "s.pdf", SYDDJURS_PAGES).read_bytes(), **SYDDJURS_FIELDS)
    assert '"../Syddjurs.pdf"' in at.error[0].value
    assert (settings.corpus_dir / "manifest.toml").read_bytes() == manifest
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["manifest.toml", small_corpus.NORDDJURS]
    assert not (settings.corpus_dir.parent / "Syddjurs.pdf").exists()

    at = _upload(at, "Syddjurs.pdf", (tmp_path / "s.pdf").read_bytes(), **SYDDJURS_FIELDS)

    assert not at.error, at.error[0].value
    assert at.success[0].value.startswith("Kvalitetsstandard for bostøtte, Syddjurs er tilføjet som syddjurs")
    assert at.progress[0].value == 100 and "af" in at.progress[0].text
    assert "Kvalitetsstandard for bostøtte, Syddjurs" in list(at.dataframe[0].value["Titel"])
    assert "syddjurs" in Catalog.load(settings.index_dir).documents

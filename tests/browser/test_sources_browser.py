"""The "Kilder" page in a real browser against the real app: an administrator adds a municipality's PDF.

The app runs on a copy of a small corpus with its own index and an administrator
password. Asked before the upload, the chat cannot answer about Syddjurs; after
it, the same running app answers from the new PDF and cites it, still refuses a
municipality no document covers, and after the removal refuses Syddjurs again.
Without the password, nothing on the page changes the documents.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.admin import hash_password
from assistant.service import REFUSAL
from eval.bench_app import CHROMIUM, CHROMIUM_ARGS, ask, open_chat, running_app
from tests import small_corpus
from tests.pdfs import SYDDJURS_PAGES, write_pdf

pytestmark = pytest.mark.slow

PASSWORD = "kilder-admin-2025"
TITLE = "Kvalitetsstandard for bostøtte, Syddjurs"
SYDDJURS = "Hvad er klagefristen i Syddjurs Kommune?"
FAVRSKOV = "Hvad er klagefristen i Favrskov Kommune?"
WAIT_MS = 180_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, embeddings):
    """The app on a small corpus copy and index, with an administrator password; yields its URL and corpus."""
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    root = small_corpus.build(tmp_path_factory.mktemp("sources-app"), embeddings)
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("HFA_")]:
            env.delenv(key)
        env.setenv("HFA_SETTINGS", str(root / "no-settings.toml"))
        env.setenv("HFA_CORPUS_DIR", str(root / "corpus"))
        env.setenv("HFA_ADMIN_PASSWORD_HASH", hash_password(PASSWORD))
        with running_app(root / "data", root / "streamlit.log") as url:
            yield url, root / "corpus"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    yield context.new_page()
    context.close()


def _last_answer(page):
    return page.get_by_test_id("stChatMessage").last


def _go_to(page, name: str) -> None:
    """Change page through the app's own navigation (the session, and so the login, stays)."""
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()


def _back_to_chat(page, answers: int) -> None:
    """Return to the chat and wait until its earlier answers are drawn again (so a new one is told apart)."""
    from playwright.sync_api import expect

    _go_to(page, "Chat")
    page.get_by_test_id("stChatInputTextArea").wait_for(timeout=WAIT_MS)
    expect(page.get_by_test_id("stChatMessageAvatarAssistant")).to_have_count(answers, timeout=WAIT_MS)


def _open_sources(page, url: str) -> None:
    page.goto(f"{url}/kilder")
    page.get_by_role("heading", name="Kilder").wait_for(timeout=WAIT_MS)
    page.get_by_text("Dokumenter (").wait_for(timeout=WAIT_MS)


def _log_in(page, password: str) -> None:
    page.get_by_label("Adgangskode").fill(password)
    page.get_by_role("button", name="Log ind").click()


def _controls(page) -> tuple[int, int]:
    """How many upload fields and remove buttons the page offers."""
    return page.get_by_test_id("stFileUploader").count(), page.get_by_role("button", name="Fjern dokumentet").count()


def _upload(page, pdf: Path) -> str:
    """Fill in the form, submit it, and return what the progress bar said once embedding had started."""
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(pdf))
    page.get_by_test_id("stFileChip").wait_for(timeout=WAIT_MS)
    for label, value in (
        ("Titel", TITLE),
        ("Udgiver", "Syddjurs Kommune"),
        ("Gælder for (scope)", "syddjurs"),
        ("Dokumenttype", "kvalitetsstandard"),
        ("Dato (valgfri)", "2025"),
    ):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Tilføj og indlæs").click()
    progress = page.get_by_test_id("stProgress")
    progress.get_by_text("Indlejrer").first.wait_for(timeout=WAIT_MS)
    return progress.inner_text()


def test_without_the_password_nothing_changes_the_documents(page, app) -> None:
    url, _ = app
    _open_sources(page, url)
    assert _controls(page) == (0, 0)
    _log_in(page, "forkert-kode")
    page.get_by_text("Forkert adgangskode.").wait_for(timeout=WAIT_MS)
    assert _controls(page) == (0, 0)
    assert page.get_by_text(TITLE).count() == 0


def test_an_administrator_adds_a_pdf_the_chat_answers_from_it_and_removes_it(page, app, tmp_path) -> None:
    from playwright.sync_api import expect

    url, corpus = app
    pdf = write_pdf(tmp_path / "Syddjurs kvalitetsstandard.pdf", SYDDJURS_PAGES)
    open_chat(page, url)
    ask(page, SYDDJURS, timeout_ms=WAIT_MS)
    assert REFUSAL in _last_answer(page).inner_text()

    _go_to(page, "Kilder")
    _log_in(page, PASSWORD)
    page.get_by_role("button", name="Log ud").wait_for(timeout=WAIT_MS)
    progress = _upload(page, pdf)
    assert "afsnit" in progress and " af " in progress
    page.get_by_text(f"{TITLE} er tilføjet").wait_for(timeout=WAIT_MS)
    page.get_by_test_id("stExpander").filter(has_text=TITLE).wait_for(timeout=WAIT_MS)  # listed
    assert (corpus / pdf.name).read_bytes() == pdf.read_bytes()

    _back_to_chat(page, 1)
    ask(page, SYDDJURS, timeout_ms=WAIT_MS)
    answer = _last_answer(page)
    text = answer.inner_text()
    assert REFUSAL not in text and "Klagefristen er 4 uger" in text and TITLE in text
    assert "Klagefristen er 4 uger" in " ".join(answer.locator("mark").all_inner_texts())
    ask(page, FAVRSKOV, timeout_ms=WAIT_MS)
    assert REFUSAL in _last_answer(page).inner_text()

    _go_to(page, "Kilder")
    document = page.get_by_test_id("stExpander").filter(has_text=TITLE)
    document.locator("summary").click()
    document.get_by_text("Klagefristen er 4 uger").wait_for(timeout=WAIT_MS)  # its passages, opened
    document.get_by_role("button", name="Fjern dokumentet").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("slettes ikke").wait_for(timeout=WAIT_MS)
    dialog.get_by_role("button", name="Ja, fjern det").click()
    page.get_by_text(f"{TITLE} er fjernet").wait_for(timeout=WAIT_MS)
    expect(page.get_by_test_id("stExpander").filter(has_text=TITLE)).to_have_count(0, timeout=WAIT_MS)
    assert not (corpus / pdf.name).exists() and len(list((corpus / ".removed").iterdir())) == 1

    _back_to_chat(page, 3)
    ask(page, SYDDJURS, timeout_ms=WAIT_MS)
    assert REFUSAL in _last_answer(page).inner_text()

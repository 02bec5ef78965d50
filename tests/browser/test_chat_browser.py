"""The real app in a real browser: streamlit run + headless Debian Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.service import NEAREST_LEAD, REFUSAL
from eval.bench_app import CHROMIUM, CHROMIUM_ARGS, ask, open_chat
from hfa_settings import PROJECT_ROOT
from tests.browser.conftest import UPDATE_SCREENSHOTS

pytestmark = pytest.mark.slow

SCREENSHOT = PROJECT_ROOT / "docs" / "screenshot.png"


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        open_chat(page, app_url)
        yield page
        browser.close()


def _screenshot(page, path: Path) -> None:
    """Save the page at the newest answer once the run has finished (the download button comes last)."""
    page.get_by_test_id("stSidebar").get_by_text("Download samtalen").wait_for()
    page.get_by_test_id("stChatMessage").last.scroll_into_view_if_needed()
    page.screenshot(path=path, full_page=True)


def _last_answer(page):
    return page.get_by_test_id("stChatMessage").last


def _quoted(page) -> str:
    """The highlighted quotes of the last answer: its source cards opened, or its open nearest quotes."""
    answer = _last_answer(page)
    cards = answer.get_by_test_id("stExpander")
    if cards.count():
        cards.first.locator("summary").click()
    answer.locator("mark").first.wait_for(state="visible")
    page.wait_for_timeout(500)  # let an expander finish opening before a screenshot
    return " ".join(answer.locator("mark").all_inner_texts())


def test_rule_question(page, tmp_path):
    ask(page, "Hvad er klagefristen for en afgørelse efter § 85 a?")
    answer = _last_answer(page)
    assert "4 uger" in answer.inner_text() and "[1]" in answer.inner_text()
    assert "4 uger" in _quoted(page)
    _screenshot(page, tmp_path / "rule.png")
    if os.environ.get(UPDATE_SCREENSHOTS):  # refresh the README picture on request only
        shutil.copyfile(tmp_path / "rule.png", SCREENSHOT)


def test_method_question_and_follow_up(page, tmp_path):
    ask(page, "Hvad er det maksimale caseload i CTI?")
    assert "10 borgere" in _last_answer(page).inner_text()
    _screenshot(page, tmp_path / "method.png")
    ask(page, "Og i ICM?")
    text = _last_answer(page).inner_text()
    assert "Søgte efter: Hvad er det maksimale caseload i ICM?" in text
    assert "otte borgere" in text and "[1]" in text
    assert "ICM" in _quoted(page)
    _screenshot(page, tmp_path / "follow-up.png")


def test_nearest_shows_open_quotes_with_the_sentence_marked_and_the_section_named(page, tmp_path):
    ask(page, "Hvad er satsen for kontanthjælp i 2025?")
    answer = _last_answer(page)
    text = answer.inner_text()
    assert NEAREST_LEAD in text
    assert answer.get_by_test_id("stExpander").count() == 0  # open quotes, not collapsed boxes
    sources = answer.locator(".hfa-nearest-source")
    assert sources.count() >= 2
    # Each quote is named by its section first, then its document: "[1] 4.2. Visitation … · Housing First-tilgangen".
    assert all(name.startswith("[") and " · " in name for name in sources.all_inner_texts())
    assert answer.locator("mark").first.is_visible()
    _screenshot(page, tmp_path / "nearest.png")
    if os.environ.get(UPDATE_SCREENSHOTS):
        shutil.copyfile(tmp_path / "nearest.png", PROJECT_ROOT / "docs" / "nearest.png")


def test_a_municipality_no_source_covers_is_not_covered(page, tmp_path):
    ask(page, "Hvad er klagefristen for bostøtte i Odense Kommune?")
    text = _last_answer(page).inner_text()
    assert REFUSAL in text and "[1]" not in text
    _screenshot(page, tmp_path / "refusal.png")

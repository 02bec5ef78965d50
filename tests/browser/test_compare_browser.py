"""The "Sammenlign metoder" page in a real browser: pick methods, read the table, open a source, download the slide."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from eval.bench_app import CHROMIUM, CHROMIUM_ARGS, ask, open_chat
from hfa_settings import PROJECT_ROOT
from tests.browser.conftest import UPDATE_SCREENSHOTS

pytestmark = pytest.mark.slow

SCREENSHOT = PROJECT_ROOT / "docs" / "compare.png"
WAIT_MS = 180_000


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1400}, accept_downloads=True)
        yield context.new_page()
        browser.close()


def _headers(page) -> list[str]:
    return page.locator(".hfa-compare th").all_inner_texts()


def _pick(page, methods: list[str]) -> None:
    """Remove every chosen method, then choose these in order by typing them into the picker."""
    from playwright.sync_api import expect

    picker = page.get_by_test_id("stMultiSelect").filter(has_text="Metoder")
    chosen = picker.locator('[aria-label^="Remove "]')
    while (count := chosen.count()) > 0:
        chosen.first.click()
        expect(chosen).to_have_count(count - 1, timeout=WAIT_MS)
    page.get_by_text("Vælg mindst én metode og ét aspekt.").wait_for(timeout=WAIT_MS)
    for method in methods:
        picker.locator("input").click()
        page.keyboard.type(method)
        page.get_by_role("option", name=method, exact=True).click()
        page.keyboard.press("Escape")
        page.wait_for_function(
            "m => [...document.querySelectorAll('.hfa-compare th')].some(th => th.innerText === m)",
            arg=method,
            timeout=WAIT_MS,
        )


def test_pick_methods_read_the_table_open_a_source_and_download_the_slide(page, app_url, tmp_path) -> None:
    from pptx import Presentation

    page.goto(f"{app_url}/sammenlign")
    page.locator(".hfa-compare table").wait_for(timeout=WAIT_MS)
    assert _headers(page) == ["Aspekt", "ACT", "CTI", "ICM", "M-ACT"]
    _pick(page, ["CTI", "ICM", "ACT"])
    assert _headers(page) == ["Aspekt", "CTI", "ICM", "ACT"]
    assert "metode=CTI&metode=ICM&metode=ACT" in page.url
    table = page.locator(".hfa-compare table").inner_text()
    assert "maksimalt caseload på 10 borgere" in table and "Tilbydes i" in table and "[1]" in table

    page.get_by_role("heading", name="Sammenlign metoder").click()  # leaves the picker, scrolls to the top
    page.wait_for_timeout(500)
    page.screenshot(path=tmp_path / "compare.png")
    if os.environ.get(UPDATE_SCREENSHOTS):  # refresh the README picture on request only
        shutil.copyfile(tmp_path / "compare.png", SCREENSHOT)

    card = page.get_by_test_id("stExpander").first
    card.locator("summary").click()
    card.locator("mark").first.wait_for(state="visible")
    assert card.locator("mark").first.inner_text().strip() in " ".join(table.split())

    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name="Hent PowerPoint-slide").click()
    path = Path(tmp_path / download.value.suggested_filename)
    download.value.save_as(path)
    assert path.name == "metoder-cti-icm-act.pptx"
    slide = Presentation(io.BytesIO(path.read_bytes())).slides[0]
    grid = next(shape for shape in slide.shapes if shape.has_table).table
    assert [grid.cell(0, c).text for c in range(4)] == ["Aspekt", "CTI", "ICM", "ACT"]
    assert "10 borgere" in grid.cell(5, 1).text  # the caseload row
    notes = slide.notes_slide.notes_text_frame.text
    assert (
        notes.startswith("Kilder (ordrette citater):") and "Der anvendes et maksimalt caseload på 10 borgere" in notes
    )


def test_a_comparison_answer_opens_the_page_with_its_methods(page, app_url) -> None:
    open_chat(page, app_url)
    ask(page, "Hvad er forskellen på CTI og ICM?")
    page.get_by_test_id("stChatMessage").last.get_by_text("Åbn sammenligningen").click()
    page.locator(".hfa-compare table").wait_for(timeout=WAIT_MS)
    assert _headers(page) == ["Aspekt", "CTI", "ICM"]
    assert "metode=CTI&metode=ICM" in page.url

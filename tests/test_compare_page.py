"""The "Sammenlign metoder" page and the chat's links to it, driven headless with AppTest over the real index."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from hfa_settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

APP = str(PROJECT_ROOT / "app.py")
PAGE = str(PROJECT_ROOT / "app_pages" / "compare.py")
TIMEOUT = 180


@pytest.fixture
def index(corpus_settings, monkeypatch):
    monkeypatch.setenv("HFA_DATA_DIR", str(corpus_settings.data_dir))
    return corpus_settings


def _page(**query: list[str]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, values in query.items():
        at.query_params[key] = values
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "hfa-compare" in m.value)


def test_the_page_compares_every_method_by_default(index) -> None:
    at = _page()
    assert at.title[0].value == "Sammenlign metoder"
    assert at.multiselect[0].value == ["ACT", "CTI", "ICM", "M-ACT"]
    table = _table(at)
    assert "<th>M-ACT</th>" in table and "Tilbydes i" in table and "ikke beskrevet i kilderne" in table
    assert "maksimalt caseload på 10 borgere" in table
    assert [b.label for b in at.get("download_button")] == ["Hent Markdown", "Hent CSV", "Hent PowerPoint-slide"]
    assert at.expander[0].label.startswith("\\[1\\] ")  # escaped Markdown, as in the chat


def test_methods_and_aspects_come_from_the_link_and_own_aspects_are_rows(index) -> None:
    at = _page(metode=["CTI", "ICM"], aspekt=["caseload"])
    assert at.multiselect[0].value == ["CTI", "ICM"] and at.multiselect[1].value == ["caseload"]
    table = _table(at)
    assert "<th>ACT</th>" not in table and "Caseload" in table and "Målgruppe" not in table
    at.multiselect[1].set_value(["caseload", "uddannelse"]).run()
    assert "Uddannelse" in _table(at)
    assert at.query_params["aspekt"] == ["caseload", "uddannelse"]
    at.multiselect[0].set_value([]).run()
    assert at.info[0].value == "Vælg mindst én metode og ét aspekt."


def test_a_comparison_answer_links_to_the_page_with_its_methods(index) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("Hvad er forskellen på CTI og ICM?").run()
    assert not at.exception, at.exception
    link = at.chat_message[-1].get("page_link")[0]
    assert link.proto.page.endswith("app_pages/compare.py") or "sammenlign" in link.proto.page
    assert "metode=CTI" in link.proto.query_string and "metode=ICM" in link.proto.query_string


def test_national_guidance_beside_the_municipalitys_rules(index, monkeypatch) -> None:
    monkeypatch.setenv("HFA_ANSWER_CONFIDENCE", "0")  # how an answer is shown, whatever its confidence
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.chat_input[0].set_value("Hvilke metoder anvender Norddjurs Kommune?").run()
    assert not at.exception, at.exception
    reply = at.chat_message[-1]
    texts = [m.value for m in reply.markdown]
    assert "**National vejledning**" in texts and "**Norddjurs Kommune**" in texts
    notes = [i.value.replace("\\", "") for i in reply.info]  # Markdown escapes undone
    assert "Forskel: National vejledning beskriver ACT, CTI og ICM; Norddjurs Kommune tilbyder CTI." in notes

"""The method comparison over the real corpus index: cells, the "Tilbydes i" row, exports, national beside local."""

import csv
import io

import pytest

from assistant.answer import Answer, Citation
from assistant.comparison import OFFERED_ROW, cell_text, method_names, method_table, named_aspects, resolve_methods
from assistant.comparison_export import danish_list, to_csv, to_markdown, to_pptx, to_text
from assistant.scopes import NATIONAL_NAME, differences, sides
from assistant.units import chunk_units
from hfa_settings import load_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table(assistant):
    """The default table: every method the index knows, every configured aspect."""
    return method_table(assistant.corpus, assistant.settings)


def _cell(table, aspect: str, method: str):
    return dict(table.rows)[aspect][table.methods.index(method)]


def _offered(table, municipality: str, method: str):
    return dict(table.offered)[municipality][table.methods.index(method)]


def _quotes(cell) -> str:
    return " ".join(c.quote for q in cell for c in q.citations())


def test_the_default_table_has_the_index_methods_and_the_configured_aspects(assistant, table) -> None:
    assert table.methods == tuple(assistant.vocabulary.methods) == ("ACT", "CTI", "ICM", "M-ACT")
    assert [label for label, _ in table.rows] == [label for label, _ in assistant.settings.comparison_aspects]
    assert [name for name, _ in table.offered] == ["Aarhus Kommune", "Norddjurs Kommune"]


def test_every_quote_is_verbatim_and_numbered_by_its_passage(table) -> None:
    numbers = {}
    for citation in table.citations:
        assert citation.chunk.text[citation.start : citation.end] == citation.quote
        assert numbers.setdefault(citation.chunk.chunk_id, citation.n) == citation.n
    for _, cells in [*table.rows, *table.offered]:
        for cell in cells:
            assert len(cell) <= load_settings().cell_units
            assert all(c in table.citations for q in cell for c in q.citations())


def test_caseload_and_duration_come_from_the_methods_own_sections(assistant) -> None:
    table = method_table(
        assistant.corpus,
        assistant.settings,
        ["CTI", "ICM", "ACT"],
        named_aspects(["caseload", "varighed"], assistant.settings),
    )
    assert [label for label, _ in table.rows] == ["caseload", "varighed"]
    assert "maksimalt caseload på 10 borgere" in _quotes(_cell(table, "caseload", "CTI"))
    assert "maksimalt caseload på otte borgere" in _quotes(_cell(table, "caseload", "ICM"))
    assert "70-80 borgere" in _quotes(_cell(table, "caseload", "ACT"))
    cti_duration = _cell(table, "varighed", "CTI")
    assert cti_duration[0].unit.chunk.section.endswith("4.3.1. CTI-metodens formål og værdigrundlag")
    assert "ni måneder" in _quotes(cti_duration[:1])
    assert "tidsubegrænset" in _quotes(_cell(table, "varighed", "ICM"))


def test_a_method_the_sources_only_name_is_not_described(table) -> None:
    assert all(not cell for cell in (_cell(table, label, "M-ACT") for label, _ in table.rows))
    assert cell_text(()) == "ikke beskrevet i kilderne"


def test_offered_row_from_each_municipalitys_own_documents(table) -> None:
    assert "I Norddjurs Kommune anvendes CTI-metoden" in _quotes(_offered(table, "Norddjurs Kommune", "CTI"))
    assert not _offered(table, "Norddjurs Kommune", "ICM") and not _offered(table, "Norddjurs Kommune", "ACT")
    for method in ("CTI", "ICM", "M-ACT"):
        assert "Bevilget bostøtte ud fra tre metoder – CTI, ICM og M-ACT" in _quotes(
            _offered(table, "Aarhus Kommune", method)
        )
    assert not _offered(table, "Aarhus Kommune", "ACT")
    for name, cells in table.offered:
        scopes = {c.chunk.scope for cell in cells for q in cell for c in q.citations()}
        assert scopes <= {name.split()[0].lower()}


def test_scope_restricts_cells_and_municipalities(assistant) -> None:
    table = method_table(assistant.corpus, assistant.settings, ["CTI", "ICM"], scopes=["norddjurs"])
    assert {c.chunk.scope for c in table.citations} == {"norddjurs"}
    assert [name for name, _ in table.offered] == ["Norddjurs Kommune"]
    assert "tidsbegrænset til ni måneder" in _quotes(_cell(table, "varighed", "CTI"))
    assert all(not cell for _, cells in table.rows for cell in cells[1:])  # Norddjurs describes no ICM


def test_named_aspects_and_methods(assistant) -> None:
    settings = assistant.settings
    assert named_aspects(["organisering", "Caseload", "uddannelse af personalet"], settings) == [
        ("team og organisering", dict(settings.comparison_aspects)["team og organisering"]),
        ("caseload", dict(settings.comparison_aspects)["caseload"]),
        ("uddannelse af personalet", ""),
    ]
    assert resolve_methods(["cti", "Intensive Case Management", "CTI"], assistant.vocabulary) == ["CTI", "ICM"]
    with pytest.raises(ValueError, match="Kendte metoder: ACT, CTI, ICM, M-ACT"):
        resolve_methods(["MST"], assistant.vocabulary)


def test_which_method_a_unit_is_about(assistant) -> None:
    names = method_names(assistant.corpus)
    assert names.subject("Bevilget bostøtte ud fra tre metoder – CTI, ICM og M-ACT") is None
    assert (
        names.subject("uddannet i en af de 3 housing first-metoder: CTI-metoden, ICM-metoden eller ACT-metoden.")
        is None
    )
    assert (
        names.subject("ACT-metoden adskiller sig fra både CTI og ICM-metoden ved at være baseret på et tværfagligt")
        == "ACT"
    )
    assert names.named("M-ACT og ACT-teamet") == ["M-ACT", "ACT"]
    stoette = next(c for c in assistant.retriever.catalog.chunks.values() if "Den ydes af en gennemgående" in c.text)
    pronoun = next(u for u in chunk_units(stoette) if u.text.startswith("Den ydes af"))
    assert names.about(pronoun, "ICM") and not names.about(pronoun, "CTI")  # "Den" is the ICM of its bullet
    plural = next(
        u
        for c in assistant.retriever.catalog.chunks.values()
        for u in chunk_units(c)
        if u.text.startswith("Fælles for de tre metoder")
    )
    assert not any(names.about(plural, m) for m in ("ACT", "CTI", "ICM"))


def test_exports_carry_the_cells_and_the_sources(table) -> None:
    markdown = to_markdown(table)
    assert markdown.startswith("# Metoderne side om side: ACT, CTI, ICM og M-ACT\n")
    assert "| Aspekt | ACT | CTI | ICM | M-ACT |" in markdown and f"| {OFFERED_ROW} |" in markdown
    assert "ikke beskrevet i kilderne" in markdown and "## Kilder" in markdown and "> " in markdown
    rows = list(csv.reader(io.StringIO(to_csv(table))))
    assert rows[0] == ["Aspekt", "ACT", "CTI", "ICM", "M-ACT"]
    assert [r[0] for r in rows[1 : len(table.rows) + 2]] == [
        *(label.capitalize() for label, _ in table.rows),
        OFFERED_ROW,
    ]
    assert ["Kilde", "Dokument", "Udsteder", "Afsnit", "Side"] in rows
    assert "CTI:" in to_text(table) and "[1] " in to_text(table)
    assert danish_list(["CTI", "ICM", "ACT"]) == "CTI, ICM og ACT" and danish_list(["CTI"]) == "CTI"


def test_the_slide_has_the_table_and_the_full_citations_in_its_notes(table) -> None:
    from pptx import Presentation

    slide = Presentation(io.BytesIO(to_pptx(table))).slides[0]
    grid = next(shape for shape in slide.shapes if shape.has_table).table
    assert [grid.cell(0, c).text for c in range(5)] == ["Aspekt", "ACT", "CTI", "ICM", "M-ACT"]
    assert grid.cell(len(table.rows) + 1, 0).text == OFFERED_ROW
    notes = slide.notes_slide.notes_text_frame.text
    assert all(f"[{n}] " in notes for n, _ in table.sources())
    assert "Der anvendes et maksimalt caseload på 10 borgere tilknyttet den enkelte CTI-medarbejder." in notes


def test_by_scope_and_national_beside_local(assistant) -> None:
    chunks = assistant.retriever.catalog.chunks.values()
    national = next(c for c in chunks if c.scope == "national" and "ud over ACT og ICM også benyttes" in c.text)
    local = next(c for c in chunks if c.scope == "norddjurs" and "anvendes CTI-metoden, som er tidsbegrænset" in c.text)

    def cite(n, chunk, text):
        start = chunk.text.index(text)
        return Citation(n, chunk, text, start, start + len(text))

    answer = Answer(
        "Hvilke metoder bruges?",
        "…",
        False,
        (
            cite(1, national, "ACT og ICM også benyttes den specialiserede indsats Critical Time Intervention (CTI)"),
            cite(2, local, "I Norddjurs Kommune anvendes CTI-metoden, som er tidsbegrænset til ni måneder."),
        ),
    )
    assert answer.by_scope == {"national": [1], "norddjurs": [2]} == answer.to_json()["by_scope"]
    found = sides(answer, assistant.vocabulary)
    assert [s.name for s in found] == [NATIONAL_NAME, "Norddjurs Kommune"]
    assert differences(found, method_names(assistant.corpus)) == [
        "National vejledning beskriver ACT, CTI og ICM; Norddjurs Kommune tilbyder CTI."
    ]
    only_local = Answer("Hvor længe varer CTI i Norddjurs?", "…", False, answer.citations[1:])
    assert sides(only_local, assistant.vocabulary) == []
    named = sides(only_local, assistant.vocabulary, ["Norddjurs"], national=answer)
    assert [(s.name, s.numbered, len(s.citations)) for s in named] == [
        (NATIONAL_NAME, False, 1),
        ("Norddjurs Kommune", True, 1),
    ]

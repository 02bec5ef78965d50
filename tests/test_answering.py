"""Extractive answers over the real corpus index."""

from assistant.extractive import answer_units, coverage, term_match
from assistant.retrieval import Filters
from assistant.service import REFUSAL, uncovered_municipalities


def _assert_verbatim(answer) -> None:
    passages = {p.chunk.chunk_id: p.chunk.text for p in answer.passages}
    for citation in answer.citations:
        assert passages[citation.chunk.chunk_id][citation.start : citation.end] == citation.quote
        assert f"{citation.quote} [{citation.n}]" in answer.text


def test_rule_question_quotes_the_rule_and_names_the_municipality(assistant) -> None:
    answer = assistant.ask("Hvad er klagefristen for en afgørelse efter § 85 a?")
    assert not answer.refused
    assert "4 uger" in answer.text and "[1]" in answer.text
    first = answer.citations[0].chunk
    assert (first.doc_id, first.issuer, first.section) == (
        "norddjurs-kvalitetsstandard",
        "Norddjurs Kommune",
        "Klage og ankemuligheder",
    )
    assert any("Norddjurs Kommune" in notice for notice in answer.notices)
    _assert_verbatim(answer)


def test_method_question_answers_from_the_manual(assistant) -> None:
    answer = assistant.ask("Hvor lang tid varer et CTI-forløb?")
    assert not answer.refused
    assert "ni måneder" in answer.text
    _assert_verbatim(answer)


def test_out_of_scope_question_is_refused_with_nearest_passages(assistant) -> None:
    answer = assistant.ask("Hvilken metode bruger Odense Kommune?")
    assert answer.refused and answer.text == REFUSAL
    assert answer.citations == [] and answer.passages


def test_json_contract(assistant) -> None:
    data = assistant.ask("Hvad er målgruppen for ICM?").to_json()
    assert {"question", "answer", "refused", "citations", "passages", "timings_ms"} <= set(data)
    assert {"n", "doc_id", "title", "section", "page", "quote"} <= set(data["citations"][0])
    assert {"rank", "doc_id", "title", "section", "page", "text", "score"} <= set(data["passages"][0])
    assert data["timings_ms"]["total"] > 0


def test_long_question_is_truncated_with_a_notice(assistant) -> None:
    answer = assistant.ask("Hvad er klagefristen? " * 100)
    assert len(answer.question) == assistant.settings.max_question_chars
    assert any("forkortet" in n for n in answer.notices)


def test_filter_is_announced(assistant) -> None:
    answer = assistant.ask("Hvor lang tid varer CTI?", filters=Filters(scopes=("norddjurs",)))
    assert any("filter" in n for n in answer.notices)
    assert {c.chunk.scope for c in answer.citations} <= {"norddjurs"}


def test_compound_parts_count_partly() -> None:
    assert term_match("klagefrist", frozenset({"klag", "uger"})) == 0.6
    assert term_match("klag", frozenset({"klag"})) == 1.0
    assert term_match("cti", frozenset({"icm"})) == 0.0
    assert coverage({"klagefrist", "uger"}, frozenset({"uger"}), {"klagefrist": 3.0, "uger": 1.0}) == 0.25


def test_list_introduction_extends_over_its_bullets() -> None:
    text = "Housing First bygger på følgende kerneprincipper:\n\n• recovery-orientering\n\n• skadesreduktion.\n\nNy sætning."
    first = answer_units(text)[0]
    assert text[first[0] : first[1]].endswith("• skadesreduktion.")
    assert text[first[0] : first[2]] == "Housing First bygger på følgende kerneprincipper:"


def test_question_about_a_municipality_without_sources_is_refused(assistant) -> None:
    answer = assistant.ask("Hvad er klagefristen for afgørelser om bostøtte efter § 85 a i Københavns Kommune?")
    assert answer.refused and answer.citations == []
    assert "Kilderne dækker ikke Københavns Kommune." in answer.notices
    covered = assistant.ask("Hvad er klagefristen for afgørelser om bostøtte efter § 85 a i Norddjurs Kommune?")
    assert not covered.refused
    assert covered.citations[0].chunk.section == "Klage og ankemuligheder"


def test_uncovered_municipalities_are_named() -> None:
    issuers = {"Norddjurs Kommune", "Aarhus Kommune", "Socialstyrelsen"}
    assert uncovered_municipalities("Hvilken metode bruger Odense Kommune?", issuers) == ["Odense"]
    assert uncovered_municipalities("Hvad siger Norddjurs Kommunes standard?", issuers) == []
    assert uncovered_municipalities("Hvad gør Aarhus Kommune og kommunen i øvrigt?", issuers) == []

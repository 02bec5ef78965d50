"""Extractive answers over the real corpus index: forms, units, refusals, everyday wording."""

import pytest

from assistant.answering.matching import coverage, term_match
from assistant.answering.question import analyze
from assistant.compose import _numbered, bullet_runs
from assistant.retrieval import Filters
from assistant.service import REFUSAL
from assistant.units import chunk_units
from hfa_settings import load_settings
from ingest.documents import Chunk
from ingest.vocabulary import Vocabulary

pytestmark = pytest.mark.slow


def _assert_verbatim(answer) -> None:
    passages = {p.chunk.chunk_id: p.chunk.text for p in answer.passages}
    for citation in answer.citations:
        assert passages[citation.chunk.chunk_id][citation.start : citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text


def test_rule_question_leads_with_the_deadline_and_names_the_municipality(answering) -> None:
    answer = answering.answer("Hvad er klagefristen for en afgørelse efter § 85 a?")
    assert not answer.refused
    assert answer.text.splitlines()[0].startswith("inden 4 uger [")
    cited = {(c.chunk.doc_id, c.chunk.section) for c in answer.citations}
    assert ("norddjurs-kvalitetsstandard", "Klage og ankemuligheder") in cited
    assert any("Norddjurs Kommune" in notice for notice in answer.notices)
    _assert_verbatim(answer)


def test_the_eight_principles_are_answered_as_the_whole_list(answering) -> None:
    answer = answering.answer("Hvad er de otte kerneprincipper?")
    assert answer.kind == "list"
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) == 8
    assert all(line.rstrip().endswith("]") for line in items)
    assert "Skadesreduktion" in answer.text and "Boligen som en basal menneskeret" in answer.text
    _assert_verbatim(answer)


def test_a_list_is_the_run_whose_items_name_what_is_asked(answering) -> None:
    # "faser" meets the "1. Fase: …" bullets, not the section's outline of sub-headings.
    answer = answering.answer("hvilke faser har CTI")
    assert answer.kind == "list"
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert any("Overgang til egen bolig" in line for line in items)
    assert any("Afprøvning" in line for line in items)
    assert not any("Målgruppen for CTI-metoden" in line for line in items)
    _assert_verbatim(answer)


def test_a_count_in_digits_and_a_request_for_headings_get_the_outline(answering) -> None:
    # "8" meets "otte"; "overskrifterne" and "bare … tak" say how to answer, not what about.
    answer = answering.answer("8 kerneprincipper – bare overskrifterne tak")
    assert answer.kind == "list"
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) == 8 and items[0].startswith("- 2.1. Boligen som en basal menneskeret")
    _assert_verbatim(answer)


def test_a_list_spanning_two_chunks_is_answered_whole(answering) -> None:
    answer = answering.answer("hvilke bilag er der i manualen")
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert [line.split(":")[0] for line in items] == ["- Bilag 1", "- Bilag 2", "- Bilag 3", "- Bilag 4"]
    _assert_verbatim(answer)


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("Hvad er det første kerneprincip i Housing First?", "2.1. Boligen som en basal menneskeret: De "),
        ("hvad sker der i første fase af cti", "1. Fase: Overgang til egen bolig"),  # not the unnumbered item before
        ("hvad er den sidste fase i CTI", "3. Fase: Overdragelse af støtte"),
        ("hvad er det sidste kerneprincip", "2.8. Skadesreduktion: "),  # a heading comes with its first sentence
    ],
)
def test_an_ordinal_question_gets_that_item_of_the_list(answering, question: str, item: str) -> None:
    answer = answering.answer(question)
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) == 1 and items[0].startswith(f"- {item}")
    _assert_verbatim(answer)


def test_an_ordinal_counts_a_list_numbered_on_from_another_by_position(answering) -> None:
    # The manual numbers the nine principles 5.-13., on from an earlier list; its intro announces nine.
    answer = answering.answer("hvad er det andet princip i de nationale retningslinjer")
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert items and items[0].startswith("- 6. Tilgængelig og tværgående rådgivning")
    _assert_verbatim(answer)


def test_an_ordinal_is_not_guessed_from_part_of_a_numbered_list(answering) -> None:
    key = (
        "hf-manual",
        "3. Implementering af Housing First-tilgangen › 3.2. De nationale retningslinjer for indsatsen mod hjemløshed",
    )
    head, items = next(run for run in bullet_runs(answering.corpus, key, 20) if len(run[1]) == 9)
    assert _numbered(head, items, 2) is items[1]
    # Without the first items the run no longer matches the announced "ni": its second item is not the second.
    assert _numbered(head, items[3:], 2) is None
    assert _numbered(None, items, 2) is None


def test_a_section_question_is_answered_with_the_heading(answering) -> None:
    answer = answering.answer("which section of the manual is about ICM")
    assert answer.kind == "section"
    assert answer.text.startswith("4.4. ICM – Intensive Case Management [1]")
    contents = answering.answer("hvad indeholder kapitel 4 i manualen")
    lines = contents.text.splitlines()
    assert lines[0].startswith("4. De specialiserede støttemetoder [")
    assert [line[:6] for line in lines[1:]] == ["- 4.1.", "- 4.2.", "- 4.3.", "- 4.4.", "- 4.5."]
    _assert_verbatim(answer)
    _assert_verbatim(contents)


def test_a_sentence_answers_when_no_list_fits_the_question(answering) -> None:
    # "Hvilke …" asks for a list, but the answer is one slide line; the phases beside it are not it.
    answer = answering.answer("Hvilke metoder bevilger Aarhus Kommune § 85 a-støtte efter?")
    assert answer.kind != "list"
    assert "CTI, ICM og M-ACT" in answer.text
    _assert_verbatim(answer)


def test_a_comparison_is_a_table_of_cited_cells(answering) -> None:
    answer = answering.answer("hvad er forskellen på CTI og ICM?")
    assert answer.kind == "comparison" and answer.table is not None
    assert answer.table.columns == ("CTI", "ICM")
    row = [aspect for aspect, _ in answer.table.rows].index("caseload")
    (cti_n, cti_quote), (icm_n, icm_quote) = answer.table.cell_quotes(row, 0)[0], answer.table.cell_quotes(row, 1)[0]
    assert "10 borgere" in cti_quote and "otte borgere" in icm_quote
    # A passage can be quoted in several cells with different units: each cell's quote is one of its citations.
    assert any(c.n == cti_n and " ".join(c.quote.split()) in cti_quote for c in answer.citations)
    assert any(c.n == icm_n and " ".join(c.quote.split()) in icm_quote for c in answer.citations)
    assert answer.to_json()["table"]["columns"] == ["CTI", "ICM"]
    _assert_verbatim(answer)


def test_a_value_answer_quotes_the_value_and_its_context_only(answering) -> None:
    # Before: the lead and its rule, then two lines about § 85 a from other passages.
    answer = answering.answer(
        "What is the deadline for appealing a Norddjurs decision on housing support under § 85 a?"
    )
    assert answer.text.startswith("inden 4 uger [1]")
    assert {c.chunk.section for c in answer.citations} == {"Klage og ankemuligheder"}
    _assert_verbatim(answer)


def test_a_decision_date_is_quoted_with_its_heading(answering) -> None:
    answer = answering.answer("Hvornår godkendte Voksen- og plejeudvalget kvalitetsstandarden?")
    assert not answer.refused
    assert "Beslutning i Voksen- og plejeudvalget den" in answer.text and "Godkendt." in answer.text
    _assert_verbatim(answer)


def test_a_contact_question_gets_the_whole_contact_block(answering) -> None:
    answer = answering.answer("hvem ringer jeg til i norddjurs")
    assert answer.text.splitlines()[0].startswith("Telefon: 8959 1000")
    assert "Torvet 3" in answer.text and "8500 Grenaa" in answer.text
    _assert_verbatim(answer)


def test_method_question_answers_from_the_manual(answering) -> None:
    answer = answering.answer("Hvor lang tid varer et CTI-forløb?")
    assert not answer.refused
    assert "ni måneder" in answer.text
    _assert_verbatim(answer)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("hvor lang tid varer cti forloebet", "ni måneder"),  # no æøå
        ("hvad er maalgruppen for ICM", "ICM"),  # no æøå
        ("what is the max caseload in ICM?", "otte borgere"),  # English
        ("hvor mange mdr er cti i norddjurs", "ni måneder"),  # an abbreviation, a count of a unit of time
        ("klagefristen?", "4 uger"),  # a compound the corpus does not use, nothing else
        ("contact info norddjurs housing first", "8959 1000"),  # English form words, Danish subject
        ("Hvad er Housing First kort fortalt?", "helhedsorienteret tilgang"),  # "kort fortalt" is no subject
        ("Who is the target group for Housing First support in Norddjurs Municipality?", "CTI"),
    ],
)
def test_everyday_wording_is_answered(assistant, question: str, fact: str) -> None:
    answer = assistant.answer(question)
    assert not answer.refused, question
    assert fact in answer.text


def test_english_question_gets_a_notice_that_the_sources_are_danish(assistant) -> None:
    answer = assistant.answer("what is the max caseload in ICM?")
    assert any("dansk" in notice for notice in answer.notices)


def test_kan_kommunen_is_not_a_municipality(assistant) -> None:
    for question in ("Kan kommunen selv levere støtten?", "Må kommunen stille krav om behandling?"):
        analysis = analyze(question, assistant.vocabulary)
        assert analysis.uncovered == (), question
        assert not any("Kilderne dækker ikke" in n for n in assistant.answer(question).notices)


def test_out_of_scope_question_is_refused_with_nearest_passages(assistant) -> None:
    answer = assistant.answer("Hvilken metode bruger Odense Kommune?")
    assert answer.refused and answer.text == REFUSAL
    assert answer.citations == () and answer.passages
    assert "Kilderne dækker ikke Odense Kommune." in answer.notices


def test_an_uncovered_municipality_is_named_as_written(assistant) -> None:
    # A name ending in s keeps it ("Syddjur Kommune" named no municipality).
    answer = assistant.answer("Hvad er klagefristen i Syddjurs Kommune?")
    assert answer.refused and "Kilderne dækker ikke Syddjurs Kommune." in answer.notices


def test_an_unknown_place_typed_in_lower_case_is_refused(assistant) -> None:
    # Everything else in the question is covered by Norddjurs' rules; the place is not.
    answer = assistant.answer("hvad er klagefristen for bostøtte i silkeborg")
    assert answer.refused and "Kilderne dækker ikke silkeborg." in answer.notices
    # A known word after "i" is no place: this is answered.
    assert not assistant.answer("hvad er klagefristen for bostøtte i norddjurs").refused


def test_an_english_value_question_about_a_municipality_needs_the_value_in_its_documents(assistant, answering) -> None:
    # Aarhus' slides name no complaint deadline; Norddjurs' four weeks must not answer for Aarhus.
    deadline = assistant.answer("What is the complaint deadline for support decisions in Aarhus Municipality?")
    assert deadline.outcome != "answer"
    # Each municipality's own duration answers for it.
    for municipality, value in (("Norddjurs", "ni måneder"), ("Aarhus", "9 måneder")):
        answer = answering.answer(f"How long does CTI last in {municipality} Municipality?")
        assert not answer.refused and answer.text.startswith(value)
        assert all(c.chunk.scope == municipality.lower() for c in answer.citations[:1])


def test_a_phone_number_is_given_only_for_what_was_asked(assistant, answering) -> None:
    # The sources name Ankestyrelsen but give no number for it; Norddjurs' number is not its number.
    assert assistant.answer("tlf nr til ankestyrelsen").outcome != "answer"
    answer = answering.answer("tlf nr til norddjurs kommune")
    assert not answer.refused and "8959 1000" in answer.text


def test_json_contract(assistant) -> None:
    data = assistant.answer("Hvad er målgruppen for ICM?").to_json()
    assert {"question", "searched", "answer", "refused", "kind", "table", "citations", "passages"} <= set(data)
    assert {"n", "doc_id", "title", "section", "page", "quote"} <= set(data["citations"][0])
    assert {"rank", "doc_id", "title", "section", "page", "text", "score"} <= set(data["passages"][0])
    assert data["timings_ms"]["total"] > 0


def test_long_question_is_truncated_with_a_notice(assistant) -> None:
    answer = assistant.answer("Hvad er klagefristen? " * 100)
    assert len(answer.searched) == assistant.settings.max_question_chars
    assert any("forkortet" in n for n in answer.notices)


def test_filter_is_announced(assistant) -> None:
    answer = assistant.answer("Hvor lang tid varer CTI?", filters=Filters(scopes=("norddjurs",)))
    assert any("filter" in n for n in answer.notices)
    assert {c.chunk.scope for c in answer.citations} <= {"norddjurs"}


def test_follow_up_is_answered_as_its_standalone_question(assistant) -> None:
    first = assistant.answer("Hvad er det maksimale caseload i CTI?")
    second = assistant.answer("Og i ICM?", history=[first])
    assert "ICM" in second.searched and "otte borgere" in second.text


def test_follow_up_carries_the_method_the_previous_answer_named(assistant) -> None:
    first = assistant.answer("Hvilken metode bruger Norddjurs Kommune?")
    second = assistant.answer("Hvor længe varer den?", history=[first])
    assert "CTI" in second.searched and "Norddjurs" in second.searched


def test_a_digit_matches_the_spelled_number() -> None:
    settings = load_settings()
    assert term_match("8", frozenset({"ott", "kerneprincip"}), settings) == 1.0
    assert term_match("85", frozenset({"ott"}), settings) == 0.0


def test_compound_parts_count_partly() -> None:
    settings = load_settings()
    assert term_match("klagefrist", frozenset({"klag", "uger"}), settings) == 0.6
    assert term_match("klag", frozenset({"klag"}), settings) == 1.0
    assert term_match("cti", frozenset({"icm"}), settings) == 0.0
    weights = {"klagefrist": 3.0, "uger": 1.0}
    assert coverage(frozenset({"klagefrist", "uger"}), frozenset({"uger"}), weights, settings) == 0.25


def _chunk(section: str, text: str) -> Chunk:
    return Chunk("d:1:0001", "d", "Kvalitetsstandard", "Norddjurs Kommune", "norddjurs", "k", section, None, 0, 0, text)


def test_units_of_a_label_block_a_heading_and_a_list() -> None:
    contact = _chunk(
        "Kontaktinformationer",
        "Kontaktinformationer\n\nNorddjurs Kommune\n\nMyndigheds- og Visitationsafdelingen\n\nTorvet 3\n\n"
        "8500 Grenaa\n\nTelefon: 8959 1000",
    )
    kinds = {u.kind: u for u in chunk_units(contact)}
    assert kinds["block"].quotes()[0].endswith("Telefon: 8959 1000")
    assert kinds["heading"].quotes()[0] == "Kontaktinformationer"
    assert "sentence" not in kinds  # an address line is never quoted alone
    listing = _chunk(
        "Lovgrundlag",
        "Housing First bygger på følgende kerneprincipper:\n\n• Recovery-orientering. Borgeren bestemmer.\n\n"
        "• Skadesreduktion.\n\nNy sætning uden punkt.",
    )
    [unit] = [u for u in chunk_units(listing) if u.kind == "list"]
    assert unit.quotes() == [
        "Housing First bygger på følgende kerneprincipper:",
        "Recovery-orientering.",
        "Skadesreduktion.",
    ]
    for (start, end), quote in zip(unit.spans, unit.quotes(), strict=True):
        assert listing.text[start:end] == quote


def test_analysis_repairs_spelling_and_learns_names_from_the_index() -> None:
    vocabulary = Vocabulary(
        municipalities={"Syddjurs": ["syddjurs"]},
        methods={"CTI": ["Critical Time Intervention"], "ACT": []},
        words={"bostøtte": 5, "metode": 7, "team": 4, "målgruppen": 9, "forløbet": 3, "kommune": 8},
    )
    analysis = analyze("hvad er bostøttemetode og maalgruppen for ACT-tem i Syddjurs Kommune?", vocabulary)
    assert {"bostøtte metode", "målgruppen", "team"} <= set(analysis.repairs)
    assert analysis.methods == ("ACT",) and analysis.municipalities == ("Syddjurs",)
    assert analysis.uncovered == ()
    assert analyze("Hvad gør Odense kommune?", vocabulary).uncovered == ("Odense Kommune",)
    assert analyze("what is the caseload for Critical Time Intervention?", vocabulary).language == "en"
    assert analyze("hvor længe varer forløbet", vocabulary).value_kind == "duration"
    # Another form of a corpus word's stem is repaired to it; a short stem ("regn") is not stretched.
    inflected = Vocabulary(words={"finansiering": 3, "regninger": 2})
    assert analyze("hvordan finansieres housing first", inflected).repairs == ("finansiering",)
    assert analyze("hvor mange regner kommunen med", inflected).repairs == ()


def test_value_kinds_of_everyday_questions() -> None:
    vocabulary = Vocabulary(words={"måneder": 3, "hjemløse": 4, "kortlægning": 2})
    months = analyze("hvor mange mdr varer det", vocabulary)
    assert (months.value_kind, months.counted) == ("duration", "måneder")
    # "seneste" is no deadline: the question counts people.
    assert analyze("Hvor mange hjemløse var der ved seneste kortlægning?", vocabulary).value_kind == "count"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Hvad er de otte kerneprincipper?", "list"),
        ("hvilke faser har CTI", "list"),
        ("Skal man arbejde med alle kerneprincipperne for at arbejde Housing First-baseret?", "rule"),
        ("Hvad betyder det, at de tre metoder er rammemetoder?", "definition"),
        ("how long does CTI last", "value"),
        ("hvilket afsnit handler om skadesreduktion", "section"),
        ("hvad hedder kapitel 3", "section"),
        # "ifølge kapitel 3" scopes the question; the answer is not a heading.
        ("Hvor mange metoder bør en kommune tilbyde ifølge kapitel 3?", "value"),
        ("Which UN convention is legally binding on Denmark?", "open"),
    ],
)
def test_kind_of_question(question: str, kind: str) -> None:
    analysis = analyze(question, Vocabulary())
    assert analysis.kind == kind
    assert analysis.ordinal is None  # "last" and the "First" of Housing First are no ordinals


def test_a_listed_noun_stays_a_term() -> None:
    # "faser" says what the list is of, so it is searched and scored; "hvilke" only asks for a list.
    analysis = analyze("hvilke faser har CTI", Vocabulary())
    assert "fas" in analysis.terms
    assert not {"hvilk", "hvilke"} & analysis.terms


def test_a_meaning_question_gets_the_sentence_that_explains_the_lead(answering) -> None:
    # The lead only names the "mentale omstilling"; the sentence after it says what it is.
    answer = answering.answer(
        "Hvad menes der med, at Housing First også kræver en mental omstilling hos de fagprofessionelle?"
    )
    lead = answer.text.splitlines()[0]
    assert "mental omstilling" in lead and "recovery-proces" in lead
    _assert_verbatim(answer)


def test_a_label_row_the_question_names_is_quoted_whole(answering) -> None:
    # The quality standard's "Formål" row holds two sentences; the second says what the goal is.
    answer = answering.answer("formål med bostøtten i norddjurs")
    lead = answer.text.splitlines()[0]
    assert lead.startswith("Formål: Formålet med bostøtten")
    assert "selvhjulpen" in lead
    _assert_verbatim(answer)
    # A manual section under a named heading is far longer than a row: only its opening is quoted.
    long = answering.answer("Hvad er formålet med ACT-metoden?").text.splitlines()[0]
    assert len(long) <= answering.settings.row_max_chars

"""Citation checking of generated answers: pure functions, no model."""

from assistant.citecheck import REFUSAL_PHRASE, build_citations, check_citations, is_refusal
from assistant.retrieval import Passage
from ingest.documents import Chunk


def _passage(n: int, text: str, scope: str = "national") -> Passage:
    chunk = Chunk(f"doc#{n}", "doc", "Titel", "Udsteder", scope, "manual", f"Afsnit {n}", n, 0, len(text), text)
    return Passage(n, chunk, 1.0 / n, 0.9, 1.0)


PASSAGES = [
    _passage(1, "Klagefristen er 4 uger fra afgørelsen. Klagen sendes til kommunen."),
    _passage(2, "Et CTI-forløb varer ni måneder. Det har tre faser."),
    _passage(3, "ICM er intensiv casemanagement."),
    _passage(4, "ACT er et tværfagligt team."),
    _passage(5, "Housing First bygger på otte principper."),
]


def test_valid_markers_are_kept_and_sentences_are_supported() -> None:
    check = check_citations("Klagefristen er 4 uger [1]. Et CTI-forløb varer ni måneder [2][3].", 5)
    assert check.text == "Klagefristen er 4 uger [1]. Et CTI-forløb varer ni måneder [2] [3]."
    assert check.cited == [1, 2, 3]
    assert check.invalid == [] and check.unsupported == []


def test_marker_to_a_passage_not_given_is_removed_and_flagged() -> None:
    check = check_citations("Klagefristen er 4 uger [9]. ICM er intensiv [3, 9].", 5)
    assert check.invalid == [9]
    assert "[9]" not in check.text and "[3]" in check.text
    assert check.unsupported == ["Klagefristen er 4 uger."]
    assert check.cited == [3]


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    check = check_citations("Klagefristen er 4 uger. [1] Den gælder i Norddjurs. Fristen kan forlænges.", 5)
    assert [s.cited for s in check.sentences] == [(1,), (), ()]
    assert check.unsupported == ["Den gælder i Norddjurs.", "Fristen kan forlænges."]


def test_abbreviations_and_list_introductions_are_not_unsupported_claims() -> None:
    check = check_citations("Principperne er bl.a. disse:\n- bolig først [5]\n- frit valg [5]", 5)
    assert check.unsupported == []
    assert check.cited == [5]


def test_answer_without_any_marker_cites_nothing() -> None:
    check = check_citations("Klagefristen er 1 år.", 5)
    assert check.cited == [] and check.unsupported == ["Klagefristen er 1 år."]


def test_refusal_is_recognised_in_any_case_and_spacing() -> None:
    assert is_refusal(f"{REFUSAL_PHRASE}.")
    assert is_refusal("kilderne  svarer ikke på\nspørgsmålet")
    assert not is_refusal("Klagefristen er 4 uger [1].")


def test_citations_quote_the_best_matching_passage_sentence_verbatim() -> None:
    check = check_citations("Man klager til kommunen [1]. Forløbet varer ni måneder [2]. Fristen er 4 uger [1].", 5)
    citations = build_citations(check, PASSAGES)
    assert [(c.n, c.quote) for c in citations] == [
        (1, "Klagefristen er 4 uger fra afgørelsen."),
        (1, "Klagen sendes til kommunen."),
        (2, "Et CTI-forløb varer ni måneder."),
    ]
    for c in citations:
        assert c.chunk.text[c.start : c.end] == c.quote


def test_a_judge_rejecting_a_sentence_removes_its_markers_and_lists_it() -> None:
    def judge(sentence: str, cited: tuple[int, ...]) -> bool:
        return "gebyr" not in sentence

    check = check_citations(
        "Klagefristen er 4 uger [1]. Der er et gebyr. [1][2] Et CTI-forløb varer ni måneder [2].", 5, judge
    )
    assert check.text == "Klagefristen er 4 uger [1]. Der er et gebyr. Et CTI-forløb varer ni måneder [2]."
    assert check.rejected == check.unsupported == ["Der er et gebyr."]
    assert check.uncited == [] and check.cited == [1, 2]
    assert [s.rejected for s in check.sentences] == [(), (1, 2), ()]


def test_the_key_claim_is_the_first_cited_sentence() -> None:
    def judge(sentence: str, cited: tuple[int, ...]) -> bool:
        return "1 år" not in sentence

    assert check_citations("Klagefristen er 1 år [1]. Den gælder i Norddjurs [1].", 5, judge).key_claim_unsupported(0.5)
    intro = check_citations("Her er svaret. Klagefristen er 4 uger [1].", 5, judge)
    assert intro.uncited == ["Her er svaret."] and not intro.key_claim_unsupported(0.5)
    mostly_uncited = check_citations("Klagefristen er 4 uger [1]. Den gælder i Norddjurs. Og i Aarhus.", 5, judge)
    assert mostly_uncited.key_claim_unsupported(0.5)

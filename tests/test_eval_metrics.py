import textwrap

import pytest

from eval import metrics
from eval.gold import Evidence, GoldError, GoldItem, load_all, load_gold

A = {"doc_id": "a", "chunk_id": "a:1", "section": "Målgruppe", "text": "Borgere over  18 år.\nDe får støtte."}
B = {"doc_id": "b", "chunk_id": "b:1", "section": "", "text": "Klagefristen er 4 uger."}
C = {"doc_id": "a", "chunk_id": "a:2", "section": "", "text": "Intet relevant her."}


def item(*evidence: tuple[str, str], facts: tuple[str, ...] = ("x",), category: str = "regler") -> GoldItem:
    return GoldItem("t-1", "?", "da", category, (), tuple(Evidence(d, q) for d, q in evidence), facts)


ONE = item(("b", "Klagefristen er 4 uger."))
TWO = item(("a", "over 18 år. De får"), ("b", "4 uger"))


@pytest.mark.parametrize(
    ("passage", "doc_id", "quote", "expected"),
    [
        (A, "a", "over 18 år. De får", True),  # whitespace and line breaks normalised
        (A, "a", "Målgruppe Borgere over 18", True),  # quote starting in the section heading
        (A, "b", "over 18 år", False),  # wrong document
        (A, "a", "over 19 år", False),
        (B, "b", "klagefristen er 4 uger", False),  # case matters
    ],
)
def test_holds(passage, doc_id, quote, expected):
    assert metrics.holds(passage, doc_id, quote) is expected


@pytest.mark.parametrize(
    ("gold", "ranking", "k", "recall"),
    [
        (ONE, [C, B], 1, 0.0),
        (ONE, [C, B], 3, 1.0),
        (TWO, [A, C], 5, 0.5),
        (TWO, [C, A, B], 10, 1.0),
        (TWO, [], 10, 0.0),
    ],
)
def test_recall_at(gold, ranking, k, recall):
    assert metrics.recall_at(gold, ranking, k) == recall


@pytest.mark.parametrize(
    ("gold", "ranking", "rr", "ndcg"),
    [
        (ONE, [B, C], 1.0, 1.0),
        (ONE, [C, B], 0.5, 1 / 1.584962500721156),
        (ONE, [C, C], 0.0, 0.0),
        (TWO, [A, B], 1.0, (1 + 1 / 1.584962500721156) / 2),
        (TWO, [A, A, C], 1.0, 0.5),  # a duplicate hit gains nothing
    ],
)
def test_reciprocal_rank_and_ndcg(gold, ranking, rr, ndcg):
    assert metrics.reciprocal_rank(gold, ranking) == pytest.approx(rr)
    assert metrics.ndcg(gold, ranking) == pytest.approx(ndcg)


def answer(text: str, citations: list[dict], passages: list[dict], refused: bool = False) -> dict:
    return {"answer": text, "refused": refused, "citations": citations, "passages": passages, "timings_ms": {}}


def cite(n: int, passage: dict, quote: str) -> dict:
    return {"n": n, "chunk_id": passage["chunk_id"], "quote": quote}


GOOD = answer("Klagefristen er 4 uger. [1]", [cite(1, B, "Klagefristen er 4 uger.")], [B, C])
MIXED = answer(
    "Klagefristen er 4 uger. [1]\nIntet relevant her. [2]\nUden kilde.",
    [cite(1, B, "Klagefristen er 4 uger."), cite(2, C, "Intet relevant her.")],
    [B, C],
)
INVENTED = answer("Fristen er 6 uger. [1]", [cite(1, B, "Fristen er 6 uger.")], [B])
DANGLING = answer("Klagefristen er 4 uger. [1]", [cite(1, B, "Klagefristen er 4 uger.")], [C])
REFUSAL = answer("Det kan jeg ikke finde.", [], [C], refused=True)


@pytest.mark.parametrize(
    ("ans", "facts", "fact_recall", "precision", "recall", "grounded"),
    [
        (GOOD, ("4 UGER",), 1.0, 1.0, 1.0, 1.0),
        (MIXED, ("4 uger", "6 uger"), 0.5, 0.5, 1.0, 2 / 3),
        (INVENTED, ("6 uger",), 1.0, 0.0, 1.0, 0.0),  # not verbatim: passage holds evidence, quote is made up
        (DANGLING, ("4 uger",), 1.0, 0.0, 0.0, 0.0),  # cited chunk is not among the passages
        (REFUSAL, ("4 uger",), 0.0, None, 0.0, 0.0),
    ],
)
def test_answer_metrics(ans, facts, fact_recall, precision, recall, grounded):
    gold = item(("b", "Klagefristen er 4 uger."), facts=facts)
    assert metrics.fact_recall(gold, ans) == fact_recall
    assert metrics.citation_precision(gold, ans) == precision
    assert metrics.citation_recall(gold, ans) == recall
    assert metrics.groundedness(ans) == pytest.approx(grounded)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Én. [1]\nTo. [2]", [("Én.", [1]), ("\nTo.", [2])]),
        ("Intro:\n• a\n• b [1]", [("Intro:\n• a\n• b", [1])]),  # a quoted list is one claim
        ("Én [1][2]. Uden kilde.", [("Én", [1, 2]), (". Uden kilde.", [])]),
        ("Ingen markører.", [("Ingen markører.", [])]),
        ("", []),
    ],
)
def test_claims(text, expected):
    assert metrics.claims(text) == expected


@pytest.mark.parametrize(
    ("category", "refused", "accuracy", "false_refusal"),
    [
        ("uden-for-kilderne", True, 1.0, None),
        ("uden-for-kilderne", False, 0.0, None),
        ("regler", True, None, 1.0),
        ("regler", False, None, 0.0),
    ],
)
def test_refusal_scores(category, refused, accuracy, false_refusal):
    gold = item(category=category, facts=()) if category == "uden-for-kilderne" else ONE
    ans = answer("Svar. [1]", [cite(1, B, "Klagefristen er 4 uger.")], [B], refused=refused)
    ans["timings_ms"] = {"total": 12.5}
    scores = metrics.score_item(gold, ans, [B])
    assert scores["refusal_accuracy"] == accuracy
    assert scores["false_refusal_rate"] == false_refusal
    assert scores["latency_ms"] == 12.5
    assert scores["context_chars"] == len(B["text"])
    assert ("mrr" in scores) is (category != "uden-for-kilderne")
    if refused and category == "regler":
        assert scores["citation_precision"] is None and scores["groundedness"] is None


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [([], 50, None), ([5.0], 95, 5.0), ([1.0, 2.0, 3.0, 4.0], 50, 2.5), ([float(i) for i in range(1, 101)], 95, 95.05)],
)
def test_percentile(values, q, expected):
    assert metrics.percentile(values, q) == pytest.approx(expected)


def test_aggregate_by_category_skips_undefined_values():
    items = [ONE, ONE, item(category="uden-for-kilderne", facts=())]
    rows = [
        {"mrr": 1.0, "false_refusal_rate": 0.0, "latency_ms": 10.0},
        {"mrr": 0.5, "false_refusal_rate": 1.0, "latency_ms": 30.0},
        {"mrr": None, "refusal_accuracy": 1.0, "latency_ms": 20.0},
    ]
    result = metrics.aggregate_by_category(items, rows)
    assert result["regler"]["mrr"] == 0.75
    assert result["regler"]["refusal_accuracy"] is None
    assert result["uden-for-kilderne"]["refusal_accuracy"] == 1.0
    assert result["alle"]["n"] == 3
    assert result["alle"]["latency_p50_ms"] == 20.0
    assert result["alle"]["false_refusal_rate"] == 0.5


def test_gold_files_load_and_quotes_stand_in_the_corpus():
    from hfa_settings import PROJECT_ROOT
    from ingest.manifest import discover

    lines = {d.doc_id: d.path.read_text(encoding="utf-8").splitlines() for d in discover(PROJECT_ROOT / "corpus")}
    items = load_all()
    assert len({i.id for i in items}) == len(items)
    for gold in items:
        for e in gold.evidence:
            assert any(e.quote in line for line in lines[e.doc_id]), (gold.id, e.quote)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("- {id: a, question: q, lang: da, category: regler, evidence: [], facts: [x]}", "mangler evidence"),
        ("- {id: a, question: q, lang: da, category: uden-for-kilderne, facts: [x], evidence: []}", "uden for"),
        ("- {id: a, lang: da, category: regler, evidence: [], facts: []}", "mangler 'question'"),
        (
            """
            - {id: a, question: q, lang: da, category: uden-for-kilderne, evidence: [], facts: []}
            - {id: a, question: q, lang: da, category: uden-for-kilderne, evidence: [], facts: []}
            """,
            "to gange",
        ),
    ],
)
def test_gold_validation(tmp_path, yaml_text, message):
    path = tmp_path / "gold.yaml"
    path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    with pytest.raises(GoldError, match=message):
        load_gold(path)


@pytest.mark.parametrize(
    ("category", "outcome", "text", "answered", "wrong", "not_covered", "out_not_answered"),
    [
        ("regler", "answer", "Klagefristen er 4 uger. [1]", 1.0, 0.0, 0.0, None),
        ("regler", "answer", "Der kan klages. [1]", 1.0, 1.0, 0.0, None),  # the asked fact is missing
        ("regler", "nearest", "Klagefristen er 4 uger. [1]", 0.0, None, 0.0, None),  # not an answer: not wrong
        ("regler", "not_covered", "Det kan jeg ikke finde.", 0.0, None, 1.0, None),
        ("uden-for-kilderne", "answer", "Klagefristen er 4 uger. [1]", None, 1.0, None, 0.0),
        ("uden-for-kilderne", "nearest", "Klagefristen er 4 uger. [1]", None, None, None, 1.0),
    ],
)
def test_outcome_scores(category, outcome, text, answered, wrong, not_covered, out_not_answered):
    out_of_scope = category == "uden-for-kilderne"
    gold = item(
        *(() if out_of_scope else (("b", "Klagefristen er 4 uger."),)),
        category=category,
        facts=() if out_of_scope else ("4 uger",),
    )
    ans = answer(text, [cite(1, B, "Klagefristen er 4 uger.")], [B], refused=outcome == "not_covered")
    scores = metrics.score_item(gold, ans | {"outcome": outcome}, [B])
    assert scores.get("answer_rate") == answered
    assert scores["wrong_answer_rate"] == wrong
    assert scores.get("not_covered_rate") == not_covered
    assert scores["out_of_scope_not_answered"] == out_not_answered

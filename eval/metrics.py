"""Deterministic eval metrics over the JSON answer contract (``Answer.to_json()``); no LLM.

A passage is a dict with at least ``doc_id``, ``chunk_id`` and ``text`` (and
optionally ``section``). It *holds* a gold evidence item when the doc_id
matches and the whitespace-normalised quote is a substring of the
whitespace-normalised section heading plus text: the chunker lifts table-row
labels ("Målgruppe", "Kriterier og omfang") into the heading, and a quote
may start with one.

Per-item metrics are ``None`` where they are undefined (e.g. citation
precision of a refusal, retrieval metrics of an out-of-scope question);
aggregates average the defined values only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eval.gold import GoldItem

Passage = Mapping[str, Any]
RECALL_KS = (1, 3, 5, 10)
NDCG_K = 10
MARKER = re.compile(r"\[(\d+)\]")
MARKER_RUN = re.compile(r"(?:\s*\[\d+\])+")
LATENCY_KEY = "total"
ANSWER, NOT_COVERED = "answer", "not_covered"
# An answer is right when it shows at least this share of the asked facts (training uses the same).
RIGHT_SHARE = 0.5


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


def holds(passage: Passage, doc_id: str, quote: str) -> bool:
    """Whether the passage contains the quote from that document (whitespace-insensitive)."""
    if passage["doc_id"] != doc_id:
        return False
    return normalise(quote) in normalise(f"{passage.get('section') or ''} {passage['text']}")


def covered(item: GoldItem, passage: Passage) -> set[int]:
    """Indexes of the item's evidence that the passage holds."""
    return {i for i, e in enumerate(item.evidence) if holds(passage, e.doc_id, e.quote)}


def recall_at(item: GoldItem, ranking: Sequence[Passage], k: int) -> float:
    """Share of the item's evidence held by some passage among the first k."""
    found = set().union(*(covered(item, p) for p in ranking[:k]))
    return len(found) / len(item.evidence)


def reciprocal_rank(item: GoldItem, ranking: Sequence[Passage]) -> float:
    """1 / rank of the first passage holding any evidence; 0 when none does."""
    return next((1.0 / rank for rank, p in enumerate(ranking, start=1) if covered(item, p)), 0.0)


def ndcg(item: GoldItem, ranking: Sequence[Passage], k: int = NDCG_K) -> float:
    """nDCG@k where a passage gains the number of evidence items it is the first to hold.

    The ideal ranking holds all evidence in the first passage, so for a
    one-quote item this is ``1 / log2(rank + 1)`` of the first hit.
    """
    seen: set[int] = set()
    dcg = 0.0
    for rank, passage in enumerate(ranking[:k], start=1):
        new = covered(item, passage) - seen
        seen |= new
        dcg += len(new) / math.log2(rank + 1)
    return dcg / len(item.evidence)


def fact_recall(item: GoldItem, answer: Mapping[str, Any]) -> float:
    """Share of the item's facts found (case-insensitive) in the answer text: what the user sees.

    A ``nearest`` outcome's text holds its quotes, so facts shown there count.
    """
    text = normalise(answer["answer"]).casefold()
    return sum(normalise(f).casefold() in text for f in item.facts) / len(item.facts)


def cited_passage(answer: Mapping[str, Any], citation: Mapping[str, Any]) -> Passage | None:
    """The passage of the answer that a citation points to (same chunk_id)."""
    return next((p for p in answer["passages"] if p["chunk_id"] == citation["chunk_id"]), None)


def verbatim(answer: Mapping[str, Any], citation: Mapping[str, Any]) -> bool:
    """Whether the citation's quote stands verbatim in its cited passage."""
    passage = cited_passage(answer, citation)
    return passage is not None and citation["quote"] in passage["text"]


def citation_precision(item: GoldItem, answer: Mapping[str, Any]) -> float | None:
    """Share of citations that are verbatim and whose passage holds gold evidence."""
    citations = answer["citations"]
    if not citations:
        return None
    good = 0
    for citation in citations:
        passage = cited_passage(answer, citation)
        good += verbatim(answer, citation) and bool(passage and covered(item, passage))
    return good / len(citations)


def citation_recall(item: GoldItem, answer: Mapping[str, Any]) -> float:
    """Share of the item's evidence held by some cited passage."""
    passages = [cited_passage(answer, c) for c in answer["citations"]]
    found = set().union(*(covered(item, p) for p in passages if p is not None))
    return len(found) / len(item.evidence)


def claims(text: str) -> list[tuple[str, list[int]]]:
    """The answer split after each run of ``[n]`` markers: each stretch of text with the numbers citing it.

    A quoted list spanning several lines is one claim; text after the last
    marker is a claim without numbers. Stretches without letters or digits
    (a full stop after a marker) are dropped.
    """
    units, position = [], 0
    for run in MARKER_RUN.finditer(text):
        units.append((text[position : run.start()], [int(n) for n in MARKER.findall(run.group())]))
        position = run.end()
    units.append((text[position:], []))
    return [(body, numbers) for body, numbers in units if any(ch.isalnum() for ch in body)]


def groundedness(answer: Mapping[str, Any]) -> float | None:
    """Share of the answer's claims carrying ``[n]`` markers whose citations are all verbatim."""
    units = claims(answer["answer"])
    if not units:
        return None
    by_number: dict[int, list[Mapping[str, Any]]] = {}
    for citation in answer["citations"]:
        by_number.setdefault(citation["n"], []).append(citation)
    grounded = sum(
        bool(numbers) and all(by_number.get(n) and all(verbatim(answer, c) for c in by_number[n]) for n in numbers)
        for _, numbers in units
    )
    return grounded / len(units)


def wrong(item: GoldItem, answer: Mapping[str, Any]) -> bool:
    """An answer is wrong when its question is out of scope, or it shows less than half the asked facts."""
    return item.out_of_scope or fact_recall(item, answer) < RIGHT_SHARE


def context_chars(answer: Mapping[str, Any]) -> int:
    """Characters of passage text the answer was drawn from."""
    return sum(len(p["text"]) for p in answer["passages"])


def score_item(item: GoldItem, answer: Mapping[str, Any], ranking: Sequence[Passage]) -> dict[str, float | None]:
    """Every per-item metric of one answer and the retrieval ranking behind it."""
    refused = bool(answer["refused"])
    outcome = answer.get("outcome", NOT_COVERED if refused else ANSWER)
    scores: dict[str, float | None] = {
        "refusal_accuracy": float(refused) if item.out_of_scope else None,
        "out_of_scope_not_answered": float(outcome != ANSWER) if item.out_of_scope else None,
        "wrong_answer_rate": float(wrong(item, answer)) if outcome == ANSWER else None,
        "false_refusal_rate": None if item.out_of_scope else float(refused),
        "latency_ms": float(answer["timings_ms"].get(LATENCY_KEY, 0.0)),
        "context_chars": float(context_chars(answer)),
    }
    if item.out_of_scope:
        return scores
    scores |= {f"recall@{k}": recall_at(item, ranking, k) for k in RECALL_KS}
    scores |= {
        "mrr": reciprocal_rank(item, ranking),
        f"ndcg@{NDCG_K}": ndcg(item, ranking),
        "fact_recall": fact_recall(item, answer),
        "citation_precision": None if refused else citation_precision(item, answer),
        "citation_recall": citation_recall(item, answer),
        "groundedness": None if refused else groundedness(answer),
        "verbatim": None if refused or not answer["citations"] else verbatim_share(answer),
    }
    scores["complete"] = float(scores["fact_recall"] == 1.0)
    scores["answer_rate"] = float(outcome == ANSWER)
    scores["not_covered_rate"] = float(outcome == NOT_COVERED)
    # A follow-up is resolved when, asked as typed after its conversation, its evidence is found and answered.
    scores["resolved"] = float(bool(scores["recall@5"]) and not refused) if item.history else None
    return scores


def verbatim_share(answer: Mapping[str, Any]) -> float:
    """Share of the answer's citations whose quote stands verbatim in its cited passage."""
    return sum(verbatim(answer, c) for c in answer["citations"]) / len(answer["citations"])


METRICS = (
    *(f"recall@{k}" for k in RECALL_KS),
    "mrr",
    f"ndcg@{NDCG_K}",
    "fact_recall",
    "citation_precision",
    "citation_recall",
    "groundedness",
    "verbatim",
    "complete",
    "answer_rate",
    "not_covered_rate",
    "wrong_answer_rate",
    "out_of_scope_not_answered",
    "resolved",
    "refusal_accuracy",
    "false_refusal_rate",
    "context_chars",
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(rows: Iterable[Mapping[str, float | None]]) -> dict[str, float | None]:
    """Mean of each metric over the rows where it is defined, plus latency p50/p95 and the count."""
    rows = list(rows)
    summary: dict[str, float | None] = {"n": float(len(rows))}
    for name in METRICS:
        values = [v for r in rows if (v := r.get(name)) is not None]
        summary[name] = sum(values) / len(values) if values else None
    latencies = [v for r in rows if (v := r.get("latency_ms")) is not None]
    summary["latency_p50_ms"] = percentile(latencies, 50)
    summary["latency_p95_ms"] = percentile(latencies, 95)
    return summary


def aggregate_by_category(
    items: Sequence[GoldItem], rows: Sequence[Mapping[str, float | None]]
) -> dict[str, dict[str, float | None]]:
    """Aggregates per category, per tag (as ``"#tag"``), and over all items under ``"alle"``."""
    pairs = list(zip(items, rows, strict=True))
    result = {
        category: aggregate(r for item, r in pairs if item.category == category)
        for category in sorted({item.category for item in items})
    }
    for tag in sorted({tag for item in items for tag in item.tags}):
        result[f"#{tag}"] = aggregate(r for item, r in pairs if tag in item.tags)
    result["alle"] = aggregate(rows)
    return result

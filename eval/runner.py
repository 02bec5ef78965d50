"""Run systems over the gold set, score them, diagnose failures, compare runs and gate CI."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.answer import Answer, passage_json
from assistant.service import Assistant
from eval.gold import GoldItem
from eval.metrics import NOT_COVERED, RECALL_KS, aggregate_by_category, score_item, wrong

OURS = "ours"
THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.toml"
RANKING_DEPTH = max(RECALL_KS)
WARM_UP_QUESTION = "Hvad er Housing First?"
# Metrics where a lower value is better (a rise is a regression).
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "latency_ms", "latency_p50_ms", "latency_p95_ms", "context_chars"})
COMPARED = ("recall@5", "mrr", "fact_recall", "citation_precision", "citation_recall", "groundedness")


@dataclass(frozen=True)
class Failure:
    """Why an item is not answered right."""

    item_id: str
    cluster: str
    detail: str


class Conversations:
    """Replays each conversation's earlier turns once, so a follow-up is asked with its real history."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._asked: tuple[str, ...] = ()
        self._answers: list[Answer] = []

    def history(self, questions: tuple[str, ...]) -> list[Answer]:
        """The answers to ``questions`` asked in order (reused when they continue the last replay)."""
        if self._asked != questions[: len(self._asked)] or len(self._asked) > len(questions):
            self._asked, self._answers = (), []
        for question in questions[len(self._asked) :]:
            self._answers.append(self.assistant.answer(question, history=self._answers))
        self._asked = questions
        return list(self._answers)


def always_answering(assistant: Assistant) -> Assistant:
    """The same assistant answering whatever its confidence, extractively (for the risk–coverage curve).

    The confidence is the extractive answer's; a language model is not asked again for the curve.
    """
    return Assistant(
        assistant.settings.updated(answer_confidence=0.0, llm_backend="extractive"),
        assistant.retriever,
        assistant.vocabulary,
        assistant.corpus.span_vectors,
    )


SPLITS = ("dev", "test", "blind")


def curves_by_split(items: Sequence[GoldItem], rows: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, float]]]:
    """The risk–coverage curve over all items (``alle``) and over each split present (dev, test, blind)."""
    curves = {"alle": risk_coverage(items, rows)}
    for name in SPLITS:
        pairs = [(i, r) for i, r in zip(items, rows, strict=True) if name in i.tags]
        if pairs:
            curves[name] = risk_coverage([i for i, _ in pairs], [r for _, r in pairs])
    return curves


def curve_rows(assistant: Assistant, items: Sequence[GoldItem]) -> list[dict[str, Any]]:
    """Each item answered at any confidence: its outcome, confidence and answer text."""
    conversations = Conversations(assistant)
    rows = []
    for item in items:
        history = conversations.history(item.history) if item.history else []
        answer = assistant.answer(item.question, history=history).to_json()
        rows.append({k: answer[k] for k in ("outcome", "confidence", "answer")})
    return rows


def run_system(
    assistant: Assistant, items: Sequence[GoldItem], progress: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    """Ask every item (after one untimed warm-up question) and score the answer and the ranking.

    A conversation turn is asked as typed, after the turns before it.
    """
    assistant.answer(WARM_UP_QUESTION)
    conversations = Conversations(assistant)
    rows = []
    for item in items:
        history = conversations.history(item.history) if item.history else []
        answer = assistant.answer(item.question, history=history).to_json()
        ranking = [passage_json(p) for p in assistant.retrieve(answer["searched"], k=RANKING_DEPTH)]
        rows.append(
            {
                "id": item.id,
                "category": item.category,
                "question": item.question,
                "searched": answer["searched"],
                "refused": answer["refused"],
                "mode": answer["mode"],
                "fallback_reason": answer["fallback_reason"],
                "outcome": answer["outcome"],
                "confidence": answer["confidence"],
                "kind": answer["kind"],
                "answer": answer["answer"],
                "cited": sorted({c["chunk_id"] for c in answer["citations"]}),
                "ranking": [p["chunk_id"] for p in ranking],
                "scores": score_item(item, answer, ranking),
            }
        )
        if progress:
            progress()
    return rows


CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 20))


def risk_coverage(
    items: Sequence[GoldItem], rows: Sequence[Mapping[str, Any]], thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> list[dict[str, float]]:
    """At each confidence threshold: the share of answerable questions answered, and of answers that are wrong.

    ``rows`` are answers composed whatever the confidence (``answer_confidence`` 0),
    so each threshold shows what a user would get at that operating point; a
    ``not_covered`` question is never answered.
    """
    answerable = sum(not i.out_of_scope for i in items)
    curve = []
    for t in thresholds:
        given = [
            (item, row)
            for item, row in zip(items, rows, strict=True)
            if row["outcome"] != NOT_COVERED and (row["confidence"] or 0.0) >= t
        ]
        wrong_given = sum(wrong(item, row) for item, row in given)
        curve.append(
            {
                "threshold": t,
                "coverage": sum(not i.out_of_scope for i, _ in given) / answerable if answerable else 0.0,
                "risk": wrong_given / len(given) if given else 0.0,
            }
        )
    return curve


def summarise(items: Sequence[GoldItem], rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Aggregated metrics per category, per tag (``"#everyday"``) and overall (``"alle"``)."""
    return aggregate_by_category(items, [r["scores"] for r in rows])


def diagnose(item: GoldItem, row: Mapping[str, Any]) -> Failure | None:
    """The failure cluster of one answered item, or None when it is right."""
    scores = row["scores"]
    if item.out_of_scope:
        answered = row["outcome"] == "answer"
        return Failure(item.id, "besvaret uden for kilderne", row["answer"][:80]) if answered else None
    hit = scores["recall@5"] > 0
    if row["outcome"] != "answer":
        cluster = f"{row['outcome']} (evidens {'hentet' if hit else 'ikke hentet'})"
        if scores["fact_recall"] >= 0.5:
            return None
        return Failure(item.id, cluster, f"MRR {scores['mrr']:.2f}")
    if scores["fact_recall"] < 1.0:
        missing = "retrieval-miss" if not hit else "sætningsvalg"
        return Failure(item.id, missing, f"fakta {scores['fact_recall']:.2f}, recall@5 {scores['recall@5']:.2f}")
    return None


def failures(items: Sequence[GoldItem], rows: Sequence[Mapping[str, Any]]) -> list[Failure]:
    """Every wrongly answered item with its cluster."""
    found = (diagnose(item, row) for item, row in zip(items, rows, strict=True))
    return [f for f in found if f is not None]


def regressions(previous: Mapping[str, Any], current: Mapping[str, Any], system: str = OURS) -> list[str]:
    """Per-question metric drops (and refusal changes) of a system since a previous report."""
    before = {r["id"]: r for r in previous["systems"].get(system, {}).get("items", [])}
    lines = []
    for row in current["systems"][system]["items"]:
        old = before.get(row["id"])
        if old is None:
            continue
        for name in COMPARED:
            was, now = old["scores"].get(name), row["scores"].get(name)
            if was is not None and now is not None and now < was - 1e-9:
                lines.append(f"{row['id']}: {name} {was:.2f} → {now:.2f}")
        if old["refused"] != row["refused"]:
            lines.append(f"{row['id']}: {'afviser nu' if row['refused'] else 'svarer nu'}")
    return lines


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, dict[str, float]]:
    """``{"min": {...}, "max": {...}}`` from the thresholds file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {bound: {k: float(v) for k, v in data.get(bound, {}).items()} for bound in ("min", "max")}


def gate(summary: Mapping[str, float | None], thresholds: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The metrics outside their thresholds (an undefined metric fails too)."""
    problems = []
    for bound, limits in thresholds.items():
        for name, limit in limits.items():
            value = summary.get(name)
            if value is None:
                problems.append(f"{name}: ingen værdi (grænse {bound} {limit:g})")
            elif (bound == "min" and value < limit) or (bound == "max" and value > limit):
                problems.append(f"{name}: {value:.3f} er {'under' if bound == 'min' else 'over'} grænsen {limit:g}")
    return problems


def evaluate(
    systems: Mapping[str, Assistant],
    items: Sequence[GoldItem],
    progress: Callable[[str], Callable[[], None] | None] | None = None,
) -> dict[str, Any]:
    """Run and score every system; the report as JSON-ready data."""
    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "items": len(items),
        "systems": {},
    }
    for name, assistant in systems.items():
        started = time.perf_counter()
        rows = run_system(assistant, items, progress(name) if progress else None)
        report["systems"][name] = {
            "seconds": round(time.perf_counter() - started, 1),
            "summary": summarise(items, rows),
            "risk_coverage": curves_by_split(items, curve_rows(always_answering(assistant), items)),
            "failures": [f.__dict__ for f in failures(items, rows)],
            "items": rows,
        }
    return report

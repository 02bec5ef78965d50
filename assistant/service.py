"""One entry point for answering: what the CLI and the app both call."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from assistant.answer import SCOPE_NAMES, Answer
from assistant.extractive import (
    cite,
    compose,
    inverse_document_frequencies,
    score_sentences,
    select_sentences,
)
from assistant.retrieval import Filters, HybridRetriever, Passage
from assistant.settings import Settings

REFUSAL = (
    "Det kan jeg ikke finde et svar på i kilderne. "
    "Dokumenterne ser ikke ud til at dække spørgsmålet, så jeg gætter ikke. "
    "Se de nærmeste passager nedenfor, eller spørg din faglige leder."
)
EMPTY_QUESTION = "Skriv et spørgsmål."
MUNICIPALITY = re.compile(r"\b([A-ZÆØÅ][a-zæøå]+(?:-[A-ZÆØÅ]?[a-zæøå]+)?)(?:s)? [Kk]ommune")


def uncovered_municipalities(question: str, issuers: set[str]) -> list[str]:
    """Municipalities named in the question ("Københavns Kommune") that no source is issued by.

    The sources state the rules of the municipalities that issued them; for any
    other municipality an answer from them would be a guess.
    """
    known = " ".join(issuers).lower()
    named = {m.group(1) for m in MUNICIPALITY.finditer(question)}
    return sorted(n for n in named if n.lower() not in known and n.lower().rstrip("s") not in known)


@dataclass(frozen=True)
class Evidence:
    """How strongly the passages support an answer."""

    coverage: float
    similarity: float

    def sufficient(self, settings: Settings) -> bool:
        """Whether to answer at all."""
        return self.coverage >= settings.min_coverage and self.similarity >= settings.min_similarity


def scope_notice(answer_scopes: set[str]) -> list[str]:
    """The notice that an answer rests on local rules of a municipality (none for national sources)."""
    local = sorted(SCOPE_NAMES.get(s, s) for s in answer_scopes if s != "national")
    if not local:
        return []
    if "national" in answer_scopes:
        return [f"Bemærk: svaret blander national vejledning og lokale regler ({', '.join(local)})."]
    return [f"Bemærk: svaret bygger på lokale regler fra {', '.join(local)} og gælder kun der."]


class Assistant:
    """Retrieval plus extractive answering over the built index."""

    def __init__(self, settings: Settings, retriever: HybridRetriever) -> None:
        self.settings = settings
        self.retriever = retriever
        self.idf = inverse_document_frequencies(retriever.catalog.chunks.values())
        self.issuers = {entry.issuer for entry in retriever.catalog.documents.values()}

    @classmethod
    def open(cls, settings: Settings, embeddings: Embeddings | None = None) -> Assistant:
        """Open the index (raises IndexProblem with the fix when it is missing or stale)."""
        return cls(settings, HybridRetriever.open(settings, embeddings))

    def _truncate(self, question: str) -> tuple[str, list[str]]:
        question = " ".join(question.split())
        limit = self.settings.max_question_chars
        if len(question) <= limit:
            return question, []
        return question[:limit], [f"Spørgsmålet var langt og er forkortet til {limit} tegn."]

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages for a question."""
        return self.retriever.search(question, k=k, filters=filters)

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None) -> Answer:
        """Answer from the sources, or say that they do not cover the question."""
        started = time.perf_counter()
        question, notices = self._truncate(question)
        if not question:
            return Answer(question, EMPTY_QUESTION, True, [], [], notices=notices)
        passages = self.retrieve(question, k, filters)
        retrieved = time.perf_counter()
        scored = score_sentences(question, passages, self.idf)
        evidence = Evidence(
            coverage=max((s.evidence for s in scored), default=0.0),
            similarity=max((p.dense or 0.0 for p in passages), default=0.0),
        )
        if filters:
            notices.append("Søgningen var afgrænset af et filter; andre kilder kan svare anderledes.")
        uncovered = uncovered_municipalities(question, self.issuers)
        if uncovered:
            notices.append(f"Kilderne dækker ikke {', '.join(n + ' Kommune' for n in uncovered)}.")
        if uncovered or not evidence.sufficient(self.settings):
            answer = Answer(question, REFUSAL, True, [], passages, notices=notices)
        else:
            citations = cite(select_sentences(scored, self.settings.answer_max_sentences))
            notices += scope_notice({c.chunk.scope for c in citations})
            answer = Answer(question, compose(citations), False, citations, passages, notices=notices)
        done = time.perf_counter()
        answer.timings_ms = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        return answer

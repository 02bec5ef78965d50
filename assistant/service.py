"""One conversational turn: what the app, ``hfa ask``, ``hfa chat`` and the eval runner all call.

question + history + filters + mode → an immutable :class:`Answer`:
follow-up rewrite → question analysis → retrieval → extractive answer in the
form the question asks → (optionally) a generated answer checked against its
sources → notices, computed once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from langchain_core.embeddings import Embeddings

from assistant.answer import Answer
from assistant.answering.outcome import NEAREST, NOT_COVERED
from assistant.answering.question import Analysis, analyze, preference
from assistant.answering.values import value_in
from assistant.compose import Draft, compose
from assistant.corpus import Corpus
from assistant.followup import rewrite
from assistant.privacy import mask_personal_numbers, without_placeholders
from assistant.retrieval import Filters, HybridRetriever, Passage, Preference, Searcher, with_reserved
from hfa_settings import Settings
from ingest.span_vectors import SpanVectors
from ingest.vocabulary import Vocabulary

log = logging.getLogger(__name__)

REFUSAL = (
    "Det kan jeg ikke finde et svar på i kilderne. "
    "Dokumenterne dækker ikke spørgsmålet, så jeg gætter ikke. Spørg din faglige leder."
)
NEAREST_LEAD = "Kilderne svarer måske ikke direkte – det nærmeste, de siger:"
EMPTY_QUESTION = "Skriv et spørgsmål."
ENGLISH_NOTICE = "Kilderne er på dansk; svaret citerer dem på dansk."
FILTER_NOTICE = "Søgningen var afgrænset af et filter; andre kilder kan svare anderledes."
TokenCallback = Callable[[str], None]


def scope_notice(answer: Answer, vocabulary: Vocabulary) -> list[str]:
    """The notice that an answer rests on local rules of a municipality (none for national sources)."""
    local = sorted({vocabulary.scope_name(c.chunk) for c in answer.citations if c.chunk.scope != "national"})
    if not local:
        return []
    if any(c.chunk.scope == "national" for c in answer.citations):
        return [f"Bemærk: svaret blander national vejledning og lokale regler ({', '.join(local)})."]
    return [f"Bemærk: svaret bygger på lokale regler fra {', '.join(local)} og gælder kun der."]


def _holding(analysis: Analysis) -> Preference | None:
    """Prefer passages holding an amount when one is asked ("hvad koster det"): costs stand under other words."""
    if analysis.value_kind != "amount":
        return None
    return lambda chunk: int(value_in("amount", chunk.text) is not None)


class Assistant:
    """Retrieval plus answering over the built index."""

    def __init__(
        self,
        settings: Settings,
        retriever: Searcher,
        vocabulary: Vocabulary | None = None,
        span_vectors: SpanVectors | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.vocabulary = vocabulary or Vocabulary.from_chunks(retriever.catalog.chunks.values())
        # The sentence vectors of the same index (answering ranks units by them), unless handed over.
        vectors = span_vectors or SpanVectors.load(settings.index_dir)
        self.corpus = Corpus(retriever.catalog.chunks.values(), self.vocabulary, retriever, vectors)

    @classmethod
    def open(cls, settings: Settings, embeddings: Embeddings | None = None) -> Assistant:
        """Open the index (raises IndexProblem with the fix when it is missing or stale)."""
        retriever = HybridRetriever.open(settings, embeddings)
        chunks = retriever.catalog.chunks.values()
        return cls(settings, retriever, Vocabulary.load(settings.index_dir, chunks))

    def _truncate(self, question: str) -> tuple[str, list[str]]:
        question = " ".join(question.split())
        limit = self.settings.max_question_chars
        if len(question) <= limit:
            return question, []
        return question[:limit], [f"Spørgsmålet var langt og er forkortet til {limit} tegn."]

    def retrieve(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages for a question (expanded with the corpus' own spelling of its words)."""
        return self.search(analyze(question, self.vocabulary), k, filters)

    def search(self, analysis: Analysis, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The passages for an analysed question; a municipality it names keeps its best passages among them."""
        prefer = preference(analysis, self.vocabulary)
        passages = self.retriever.search(analysis.search_text, k, filters, prefer)
        if not analysis.scopes or filters or not self.settings.scope_reserve:
            return passages
        local = self.retriever.search(
            analysis.search_text, self.settings.scope_reserve, Filters(scopes=analysis.scopes), _holding(analysis)
        )
        return with_reserved(passages, local, k or self.settings.top_k)

    def _standalone(self, question: str, history: Sequence[Answer], settings: Settings) -> str:
        """The question made standalone from the conversation so far (rule-based, or by the model)."""
        if not history:
            return question
        if settings.llm_backend != "extractive":
            from assistant.generation import rewrite_with_model

            rewritten = rewrite_with_model([a.searched or a.question for a in history], question, settings)
            if rewritten:
                return rewritten
        return rewrite(question, [(a.searched or a.question, a.text) for a in history], self.vocabulary)

    def _notices(self, analysis: Analysis, answer: Answer, filters: Filters | None) -> list[str]:
        notices = []
        if filters:
            notices.append(FILTER_NOTICE)
        if analysis.uncovered:
            notices.append(f"Kilderne dækker ikke {', '.join(analysis.uncovered)}.")
        if analysis.language == "en" and not answer.refused:
            notices.append(ENGLISH_NOTICE)
        return notices + scope_notice(answer, self.vocabulary)

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Answer] = (),
        filters: Filters | None = None,
        mode: str | None = None,
        k: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> Answer:
        """Answer one turn of a conversation from the sources, or say that they do not cover it.

        ``history`` holds the conversation's earlier answers (oldest first); a
        follow-up ("Og i ICM?") is answered as the standalone question it stands
        for. ``mode`` overrides the configured answer backend for this turn;
        ``on_token`` receives a generated answer as it streams (before it is checked).
        CPR numbers are masked first: nothing below, nor the answer, holds them.
        """
        settings = (
            self.settings.updated(llm_backend=mode) if mode not in (None, self.settings.llm_backend) else self.settings
        )
        started = time.perf_counter()
        masked = mask_personal_numbers(question)
        text, notices = self._truncate(masked.text)
        notices = [*masked.notices, *notices]
        if not text:
            return Answer(masked.text, EMPTY_QUESTION, True, kind="refusal", notices=tuple(notices))
        searched = self._standalone(text, history, settings)
        analysis = analyze(without_placeholders(searched), self.vocabulary)
        passages = self.search(analysis, k, filters)
        retrieved = time.perf_counter()
        draft = compose(analysis, passages, self.corpus, settings)
        answer = self._extractive(text, searched, draft)
        if settings.llm_backend != "extractive" and answer.outcome != NOT_COVERED:
            from assistant.generation import generate

            answer = generate(answer, settings, on_token)
        answer = replace(answer, notices=(*notices, *answer.notices, *self._notices(analysis, answer, filters)))
        done = time.perf_counter()
        timings = {"retrieve": (retrieved - started) * 1000, "answer": (done - retrieved) * 1000}
        return replace(answer, timings_ms=answer.timings_ms | timings | {"total": (done - started) * 1000})

    @staticmethod
    def _extractive(question: str, searched: str, draft: Draft) -> Answer:
        if draft.outcome == NOT_COVERED:
            return Answer(
                question,
                REFUSAL,
                True,
                (),
                draft.passages,
                searched,
                kind="refusal",
                outcome=NOT_COVERED,
                confidence=draft.confidence,
            )
        text = f"{NEAREST_LEAD}\n{draft.text}" if draft.outcome == NEAREST else draft.text
        return Answer(
            question,
            text,
            False,
            draft.citations,
            draft.passages,
            searched,
            kind=draft.kind,
            table=draft.table,
            outcome=draft.outcome,
            confidence=draft.confidence,
        )

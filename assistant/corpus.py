"""The indexed documents' structure as answering needs it: sections, their chunks and sub-sections, term weights."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.retrieval import Filters, Passage, Searcher
from assistant.units import Unit
from ingest.documents import Chunk
from ingest.span_vectors import SpanVectors
from ingest.text import terms
from ingest.vocabulary import Vocabulary

SectionKey = tuple[str, str]  # (doc_id, section path)
SEPARATOR = " › "


def chunk_terms(chunk: Chunk) -> frozenset[str]:
    """The stemmed terms of a chunk with its headings."""
    return frozenset(terms(chunk.stored_text()))


def inverse_document_frequencies(term_sets: Iterable[frozenset[str]]) -> dict[str, float]:
    """IDF of each term over the indexed chunks' term sets."""
    frequencies: Counter[str] = Counter()
    total = 0
    for chunk_set in term_sets:
        frequencies.update(chunk_set)
        total += 1
    return {t: math.log(1 + total / f) for t, f in frequencies.items()}


class Corpus:
    """Sections in document order, their chunks and children, IDF weights and the vocabulary."""

    def __init__(
        self,
        chunks: Iterable[Chunk],
        vocabulary: Vocabulary,
        searcher: Searcher,
        span_vectors: SpanVectors | None = None,
    ) -> None:
        ordered = sorted(chunks, key=lambda c: (c.doc_id, c.start))
        self.vocabulary = vocabulary
        self.searcher = searcher
        self.span_vectors = span_vectors
        # A searcher that embeds queries (ours) shares the question's vector; lexical baselines have none.
        self._embeddings: Embeddings | None = getattr(searcher, "embeddings", None)
        # Each chunk's terms, stemmed once here: IDF and every question's scoring read them.
        self._terms = {chunk.chunk_id: chunk_terms(chunk) for chunk in ordered}
        self.idf = inverse_document_frequencies(self._terms.values())
        self._sections: dict[SectionKey, list[Chunk]] = {}
        for chunk in ordered:
            self._sections.setdefault((chunk.doc_id, chunk.section), []).append(chunk)

    def section_chunks(self, key: SectionKey) -> list[Chunk]:
        """The chunks of one section, in document order."""
        return self._sections.get(key, [])

    def first_chunk(self, key: SectionKey) -> Chunk | None:
        """The chunk a section starts with."""
        chunks = self._sections.get(key)
        return chunks[0] if chunks else None

    def children(self, key: SectionKey) -> list[tuple[str, Chunk]]:
        """Each direct sub-section's title and the chunk its heading opens, in document order.

        A sub-section whose heading has no text of its own ("4.3. CTI – …") is
        found through its first descendant, whose first chunk starts with it.
        """
        doc_id, path = key
        prefix = path + SEPARATOR
        found: dict[str, Chunk] = {}
        for (d, p), chunks in self._sections.items():
            if d == doc_id and p.startswith(prefix):
                found.setdefault(p[len(prefix) :].split(SEPARATOR)[0], chunks[0])
        return list(found.items())

    def headed(self, doc_ids: Iterable[str]) -> dict[SectionKey, Chunk]:
        """Every section of the documents, at each level of each path, with the chunk its heading opens."""
        found: dict[SectionKey, Chunk] = {}
        for (doc_id, path), chunks in self._sections.items():
            if doc_id in doc_ids:
                parts = path.split(SEPARATOR)
                for depth in range(1, len(parts) + 1):
                    found.setdefault((doc_id, SEPARATOR.join(parts[:depth])), chunks[0])
        return found

    @staticmethod
    def title(key: SectionKey) -> str:
        """A section's own heading, the last part of its path."""
        return key[1].rsplit(SEPARATOR, 1)[-1]

    @staticmethod
    def parent(key: SectionKey) -> SectionKey | None:
        """The section one level up, if any."""
        doc_id, path = key
        return (doc_id, path.rsplit(SEPARATOR, 1)[0]) if SEPARATOR in path else None

    def scopes_of(self, municipalities: Iterable[str]) -> list[str]:
        """The scopes of the documents issued by the named municipalities."""
        return sorted({s for name in municipalities for s in self.vocabulary.municipalities.get(name, [])})

    def terms_of(self, chunk: Chunk) -> frozenset[str]:
        """A chunk's stemmed terms with its headings (stemmed now if the chunk is not indexed here)."""
        return self._terms.get(chunk.chunk_id) or chunk_terms(chunk)

    def query_vector(self, question: str) -> np.ndarray | None:
        """The question's unit-length e5 vector (the one retrieval just computed), None without an embedder."""
        if self._embeddings is None or self.span_vectors is None:
            return None
        vector = np.asarray(self._embeddings.embed_query(question), dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else None

    def unit_similarity(self, unit: Unit, question_vector: np.ndarray | None) -> float | None:
        """Cosine of the question and a unit's sentences (None when either vector is missing)."""
        if question_vector is None or self.span_vectors is None:
            return None
        vector = self.span_vectors.unit_vector(unit.chunk.chunk_id, unit.spans)
        return None if vector is None else float(vector @ question_vector)

    def search(self, question: str, k: int, filters: Filters | None = None) -> list[Passage]:
        """Retrieve passages (used for the cells of a comparison)."""
        return self.searcher.search(question, k=k, filters=filters)

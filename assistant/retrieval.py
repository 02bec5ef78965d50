"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused with RRF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.settings import Settings
from ingest.documents import Chunk
from ingest.embeddings import embedder_id, make_embeddings
from ingest.index import Catalog, IndexProblem, LexicalIndex, VectorIndex, checked_catalog


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents, scopes or kinds (empty = no restriction)."""

    doc_ids: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def _conditions(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(k, v) for k, v in (("doc_id", self.doc_ids), ("scope", self.scopes), ("kind", self.kinds)) if v]

    def where(self) -> dict | None:
        """The filter as a Chroma ``where`` clause."""
        clauses = [{key: {"$in": list(values)}} for key, values in self._conditions()]
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def admits(self, chunk: Chunk) -> bool:
        """Whether a chunk passes the filter."""
        return all(getattr(chunk, key) in values for key, values in self._conditions())

    def __bool__(self) -> bool:
        return bool(self._conditions())


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the dense similarity (None if only lexical)."""

    rank: int
    chunk: Chunk
    score: float
    dense: float | None
    lexical: float


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    """Fuse rankings of ids: each id scores the sum of 1 / (k + rank) over the rankings."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused


class HybridRetriever(BaseRetriever):
    """Dense + BM25 retrieval over the built index; also a LangChain retriever."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    settings: Settings
    catalog: Catalog
    embeddings: Embeddings
    vectors: VectorIndex
    lexical: LexicalIndex
    k: int = 5

    @classmethod
    def open(cls, settings: Settings, embeddings: Embeddings | None = None) -> HybridRetriever:
        """Open the index, checking it exists, was built with the configured embedder and has every vector."""
        catalog = Catalog.load(settings.index_dir)
        if not catalog.documents:
            raise IndexProblem("Der er intet indeks endnu. Kør 'hfa ingest' for at indlæse dokumenterne.")
        wanted = embedder_id(settings)
        if catalog.embedder != wanted:
            raise IndexProblem(
                f"Indekset er bygget med {catalog.embedder}, men indstillingerne bruger {wanted}. "
                "Kør 'hfa ingest --rebuild' eller ret indstillingen."
            )
        embeddings = embeddings or make_embeddings(settings)
        vectors = VectorIndex(settings, embeddings)
        catalog = checked_catalog(settings.index_dir, vectors)
        return cls(
            settings=settings,
            catalog=catalog,
            embeddings=embeddings,
            vectors=vectors,
            lexical=LexicalIndex.for_catalog(settings.index_dir, catalog),
            k=settings.top_k,
        )

    def _lexical_ranking(self, question: str, filters: Filters, limit: int) -> list[tuple[str, float]]:
        scores = self.lexical.scores(question)
        order = np.argsort(-scores)
        ranking = []
        for i in order:
            if scores[i] <= 0 or len(ranking) >= limit:
                break
            chunk = self.catalog.chunks.get(self.lexical.chunk_ids[i])
            if chunk and filters.admits(chunk):
                ranking.append((chunk.chunk_id, float(scores[i])))
        return ranking

    def search(self, question: str, k: int | None = None, filters: Filters | None = None) -> list[Passage]:
        """The k best passages for the question, best first."""
        k = k or self.k
        filters = filters or Filters()
        limit = max(self.settings.candidate_k, k)
        dense = self.vectors.nearest(self.embeddings.embed_query(question), limit, filters.where())
        # Only chunks the catalog lists are served: the store may still hold the
        # vectors of an interrupted or running ingest (withdrawn or duplicate text).
        dense_sim = {cid: sim for cid, sim in dense if cid in self.catalog.chunks}
        lexical = dict(self._lexical_ranking(question, filters, limit))
        fused = reciprocal_rank_fusion([list(dense_sim), list(lexical)], self.settings.rrf_k)
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            Passage(rank, self.catalog.chunks[cid], fused[cid], dense_sim.get(cid), lexical.get(cid, 0.0))
            for rank, cid in enumerate(best, start=1)
        ]

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=p.chunk.text, metadata=p.chunk.metadata() | {"score": p.score})
            for p in self.search(query)
        ]

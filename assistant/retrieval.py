"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused with RRF."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.embeddings import LastQueryEmbeddings, embedder_id, make_embeddings
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

    @classmethod
    def resolve(
        cls, catalog: Catalog, scopes: Sequence[str] = (), doc_ids: Sequence[str] = (), kinds: Sequence[str] = ()
    ) -> Filters:
        """Filter values as a user types them, matched case-insensitively to the indexed documents.

        Raises:
            ValueError: a value no indexed document has (Danish, naming the choices).
        """
        documents = catalog.documents.values()
        return cls(
            doc_ids=_matched(doc_ids, {d.doc_id for d in documents}, "dokument"),
            scopes=_matched(scopes, {d.scope for d in documents}, "scope"),
            kinds=_matched(kinds, {d.kind for d in documents}, "dokumenttype"),
        )


def _matched(values: Sequence[str], known: set[str], what: str) -> tuple[str, ...]:
    by_fold = {k.casefold(): k for k in known}
    unknown = [v for v in values if v.casefold() not in by_fold]
    if unknown:
        raise ValueError(f"Ukendt {what}: {', '.join(unknown)}. Vælg mellem: {', '.join(sorted(known))}.")
    return tuple(by_fold[v.casefold()] for v in values)


Preference = Callable[[Chunk], int]


class Searcher(Protocol):
    """What answering needs of a retriever: the catalog it serves and a search (ours, or an eval baseline)."""

    catalog: Catalog

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        """The k best passages for the question, best first (``prefer`` may be ignored)."""
        ...


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score and the dense similarity (None if only lexical)."""

    rank: int
    chunk: Chunk
    score: float
    dense: float | None
    lexical: float


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], k: int, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """Fuse rankings of ids: each id scores the sum of weight / (k + rank) over the rankings (weights default 1)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def with_reserved(passages: Sequence[Passage], reserved: Sequence[Passage], k: int) -> list[Passage]:
    """The passages with the reserved ones among them, displacing the lowest-ranked others; ranks renumbered.

    A question naming a municipality keeps that municipality's best passages
    even when national text about the same topic outranks them.
    """
    kept = {p.chunk.chunk_id for p in reserved}
    result = list(passages)
    for passage in reserved:
        if any(p.chunk.chunk_id == passage.chunk.chunk_id for p in result):
            continue
        others = [i for i, p in enumerate(result) if p.chunk.chunk_id not in kept]
        if len(result) >= k and others:
            del result[others[-1]]
        result.append(passage)
    return [replace(p, rank=rank) for rank, p in enumerate(result, start=1)]


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
        embeddings = LastQueryEmbeddings(embeddings or make_embeddings(settings))
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
        ranking: list[tuple[str, float]] = []
        for i in order:
            if scores[i] <= 0 or len(ranking) >= limit:
                break
            chunk = self.catalog.chunks.get(self.lexical.chunk_ids[i])
            if chunk and filters.admits(chunk):
                ranking.append((chunk.chunk_id, float(scores[i])))
        return ranking

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        """The k best passages for the question, best first.

        ``prefer`` scores how many of the question's named entities a chunk is
        about (its section names the method, its document is the municipality's);
        the candidates it prefers form a third ranking in the fusion.
        """
        k = k or self.k
        filters = filters or Filters()
        limit = max(self.settings.candidate_k, k)
        dense = self.vectors.nearest(self.embeddings.embed_query(question), limit, filters.where())
        # Only chunks the catalog lists are served: the store may still hold the
        # vectors of an interrupted or running ingest (withdrawn or duplicate text).
        dense_sim = {cid: sim for cid, sim in dense if cid in self.catalog.chunks}
        lexical = dict(self._lexical_ranking(question, filters, limit))
        rankings = [list(dense_sim), list(lexical)]
        weights = [self.settings.dense_weight, 1.0]
        fused = reciprocal_rank_fusion(rankings, self.settings.rrf_k, weights)
        if prefer is not None:
            about = {cid: score for cid in fused if (score := prefer(self.catalog.chunks[cid])) > 0}
            preferred = sorted(about, key=lambda cid: (about[cid], fused[cid]), reverse=True)
            fused = reciprocal_rank_fusion([*rankings, preferred], self.settings.rrf_k, [*weights, 1.0])
        best = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        return [
            Passage(rank, self.catalog.chunks[cid], fused[cid], dense_sim.get(cid), lexical.get(cid, 0.0))
            for rank, cid in enumerate(best, start=1)
        ]

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        doc_ids: Sequence[str] = (),
        scopes: Sequence[str] = (),
        kinds: Sequence[str] = (),
    ) -> list[Document]:
        """The LangChain contract: ``invoke(q, k=3, scopes=["norddjurs"])``; ``Document.id`` is the chunk id."""
        filters = Filters(doc_ids=tuple(doc_ids), scopes=tuple(scopes), kinds=tuple(kinds))
        return [
            Document(id=p.chunk.chunk_id, page_content=p.chunk.text, metadata=p.chunk.metadata() | {"score": p.score})
            for p in self.search(query, k=k, filters=filters)
        ]

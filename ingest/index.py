"""The stores ingest writes and retrieval reads.

- :class:`Catalog`: which documents are indexed (content hash, chunk ids), the
  chunks themselves and the embedder the index was built with; one JSON file,
  replaced atomically.
- :class:`VectorIndex`: Chroma through langchain-chroma, persistent on disk or
  a Chroma server.
- :class:`LexicalIndex`: BM25 (bm25s) over Danish stemmed terms, persisted
  beside the catalog and rebuilt from it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import terms

CATALOG_FILE = "catalog.json"
LEXICAL_DIR = "lexical"
CHROMA_DIR = "chroma"


class IndexProblem(RuntimeError):
    """The index is missing, unreadable or built with another embedder (Danish message)."""


@dataclass
class DocumentEntry:
    """One indexed document as recorded in the catalog."""

    doc_id: str
    file: str
    title: str
    issuer: str
    scope: str
    kind: str
    date: str
    content_hash: str
    chunk_ids: list[str]


@dataclass
class Catalog:
    """What is in the index; the source of truth for chunks and the lexical index."""

    embedder: str = ""
    last_ingest: str = ""
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)

    @classmethod
    def load(cls, index_dir: Path) -> Catalog:
        """Read the catalog; an empty one if the index was never built."""
        path = index_dir / CATALOG_FILE
        if not path.is_file():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexProblem(f"Indekskataloget {path} kan ikke læses ({exc}). Kør 'hfa ingest --rebuild'.") from exc
        return cls(
            embedder=data["embedder"],
            last_ingest=data["last_ingest"],
            documents={d["doc_id"]: DocumentEntry(**d) for d in data["documents"]},
            chunks={c["chunk_id"]: Chunk(**c) for c in data["chunks"]},
        )

    def save(self, index_dir: Path) -> None:
        """Write the catalog atomically (a crash leaves the previous one intact)."""
        data = {
            "embedder": self.embedder,
            "last_ingest": self.last_ingest,
            "documents": [asdict(d) for d in self.documents.values()],
            "chunks": [asdict(c) for c in self.chunks.values()],
        }
        _write_atomically(index_dir / CATALOG_FILE, json.dumps(data, ensure_ascii=False, indent=1))

    def replace_document(self, entry: DocumentEntry, chunks: list[Chunk]) -> None:
        """Record a (re)indexed document and its chunks, dropping its old chunks."""
        self.remove_document(entry.doc_id)
        self.documents[entry.doc_id] = entry
        self.chunks.update((c.chunk_id, c) for c in chunks)

    def remove_document(self, doc_id: str) -> None:
        """Forget a document and its chunks."""
        old = self.documents.pop(doc_id, None)
        for chunk_id in old.chunk_ids if old else []:
            self.chunks.pop(chunk_id, None)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class VectorIndex:
    """Chroma via langchain-chroma: persistent on disk, or a server when a host is set."""

    def __init__(self, settings: Settings, embeddings: Embeddings) -> None:
        import chromadb

        if settings.chroma_host:
            client = chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port)
        else:
            path = settings.index_dir / CHROMA_DIR
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=str(path))
        self._client = client
        self._name = settings.collection
        self.store = self._open(embeddings)

    def _open(self, embeddings: Embeddings) -> Chroma:
        return Chroma(
            collection_name=self._name,
            embedding_function=embeddings,
            client=self._client,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def add(self, chunks: list[Chunk]) -> None:
        """Embed and upsert chunks (ids are deterministic, so re-adding is harmless)."""
        self.store.add_texts(
            [c.stored_text() for c in chunks],
            metadatas=[c.metadata() for c in chunks],
            ids=[c.chunk_id for c in chunks],
        )

    def delete(self, chunk_ids: list[str]) -> None:
        """Remove chunks by id."""
        if chunk_ids:
            self.store.delete(ids=chunk_ids)

    def clear(self) -> None:
        """Drop every chunk (for a rebuild)."""
        self.store.reset_collection()

    def search(self, vector: list[float], k: int, where: dict | None) -> list[tuple[Chunk, float]]:
        """The k nearest chunks with their cosine similarity."""
        hits = self.store.similarity_search_by_vector_with_relevance_scores(vector, k=k, filter=where)
        return [(Chunk.from_stored(doc.metadata, doc.page_content), 1.0 - distance) for doc, distance in hits]


class LexicalIndex:
    """BM25 over stemmed Danish terms of each chunk (with its header)."""

    def __init__(self, retriever: bm25s.BM25, chunk_ids: list[str]) -> None:
        self._retriever = retriever
        self.chunk_ids = chunk_ids

    @classmethod
    def build(cls, chunks: list[Chunk]) -> LexicalIndex:
        """Index the given chunks."""
        retriever = bm25s.BM25()
        corpus = [terms(c.stored_text()) or ["_"] for c in chunks]
        retriever.index(corpus, show_progress=False)
        return cls(retriever, [c.chunk_id for c in chunks])

    def save(self, index_dir: Path) -> None:
        """Persist next to the catalog, replacing the previous index as a whole."""
        target = index_dir / LEXICAL_DIR
        staging = Path(tempfile.mkdtemp(dir=index_dir, prefix=".lexical."))
        try:
            self._retriever.save(str(staging))
            (staging / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")
            old = index_dir / ".lexical.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    @staticmethod
    def matches(index_dir: Path, chunks: dict[str, Chunk]) -> bool:
        """Whether the persisted index holds exactly these chunks (False if missing or unreadable)."""
        try:
            stored = json.loads((index_dir / LEXICAL_DIR / "chunk_ids.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return set(stored) == set(chunks)

    @classmethod
    def load(cls, index_dir: Path) -> LexicalIndex:
        """Read the persisted index."""
        path = index_dir / LEXICAL_DIR
        try:
            retriever = bm25s.BM25.load(str(path))
            chunk_ids = json.loads((path / "chunk_ids.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexProblem(f"Det leksikale indeks i {path} kan ikke læses. Kør 'hfa ingest --rebuild'.") from exc
        return cls(retriever, chunk_ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``chunk_ids``)."""
        query_terms = terms(query)
        if not query_terms or not self.chunk_ids:
            return np.zeros(len(self.chunk_ids))
        return np.asarray(self._retriever.get_scores(query_terms))

